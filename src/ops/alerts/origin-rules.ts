import type { OriginRuleName, RuleSettings } from './alert-config.js';
import { notApplicable, round, type Check } from './check.js';
import type { DiskWatch, EndpointFailures } from './origin-signals.js';

/** What the origin-wide rules read at one evaluation. */
export interface OriginReading {
  disk: Pick<DiskWatch, 'low'>;
  /** storage.minFreeMb, for the threshold of diskLow. */
  minFreeMb: number;
  webhooks: Pick<EndpointFailures, 'worst'>;
  /** The event loop delay's p99 over the last interval, ms. */
  loopLagP99Ms: number | null;
  /** Age of the oldest upload waiting for the object store, seconds; undefined without objectStore.bucket. */
  objectStoreOldestSec?: number;
}

const MB = 1024 * 1024;

type OriginCheck<R extends OriginRuleName> = (r: OriginReading, s: RuleSettings<R>) => Check;

export const ORIGIN_CHECKS: { [R in OriginRuleName]: OriginCheck<R> } = {
  diskLow(r) {
    const low = r.disk.low;
    if (!low) return { breached: false, value: null, threshold: r.minFreeMb, unit: 'MB', message: 'free space above storage.minFreeMb' };
    const mb = round(low.freeBytes / MB);
    return { breached: true, value: mb, threshold: round(low.minFreeBytes / MB), unit: 'MB',
      message: `disk low: ${mb} MB free under dataDir (${low.reason}); archiving and recording paused` };
  },

  webhookFailing(r, s) {
    const w = r.webhooks.worst();
    if (!w) return notApplicable(s.consecutiveFailures, 'failures', 'every webhook endpoint answers');
    return { breached: w.failures >= s.consecutiveFailures, value: w.failures, threshold: s.consecutiveFailures, unit: 'failures',
      message: `webhook endpoint ${w.endpointId} failed ${w.failures} attempts in a row (last: ${w.lastError})` +
        (w.failing > 1 ? `; ${w.failing} endpoints failing` : '') };
  },

  eventLoopLag(r, s) {
    if (r.loopLagP99Ms === null) return notApplicable(s.p99Ms, 'ms', 'no event loop sample');
    const ms = round(r.loopLagP99Ms);
    return { breached: ms > s.p99Ms, value: ms, threshold: s.p99Ms, unit: 'ms',
      message: `event loop delay p99 ${ms} ms (at most ${s.p99Ms} ms)` };
  },

  objectStoreBehind(r, s) {
    if (r.objectStoreOldestSec === undefined) return notApplicable(s.maxAgeSec, 's', 'no object store configured');
    const sec = round(r.objectStoreOldestSec);
    return { breached: sec > s.maxAgeSec, value: sec, threshold: s.maxAgeSec, unit: 's',
      message: `the oldest upload to the object store has waited ${sec} s (at most ${s.maxAgeSec} s): the store is away or too slow; the local disk keeps everything meanwhile` };
  },
};
