import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import type { EventBus } from '../../events.js';

/** Whether archiving is paused for lack of disk space, from the storage guard's events. */
export class DiskWatch {
  low: { freeBytes: number; minFreeBytes: number; reason: string } | null = null;
  private readonly unsubscribe: (() => void)[];

  constructor(events: Pick<EventBus, 'on'>) {
    this.unsubscribe = [
      events.on('storage.low', ({ freeBytes, minFreeBytes, reason }) => { this.low = { freeBytes, minFreeBytes, reason }; }),
      events.on('storage.ok', () => { this.low = null; }),
    ];
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
  }
}

/** Failed webhook attempts in a row per endpoint, told by the sender after each attempt. */
export class EndpointFailures {
  private readonly byEndpoint = new Map<string, { failures: number; lastError: string }>();

  record(endpointId: string, ok: boolean, error?: string): void {
    if (ok) { this.byEndpoint.delete(endpointId); return; }
    const e = this.byEndpoint.get(endpointId);
    this.byEndpoint.set(endpointId, { failures: (e?.failures ?? 0) + 1, lastError: error ?? 'failed' });
  }

  /** The endpoint with the most failures in a row, if any is failing. */
  worst(): { endpointId: string; failures: number; lastError: string; failing: number } | null {
    let worst: { endpointId: string; failures: number; lastError: string } | null = null;
    for (const [endpointId, e] of this.byEndpoint) if (!worst || e.failures > worst.failures) worst = { endpointId, ...e };
    return worst && { ...worst, failing: this.byEndpoint.size };
  }
}

/**
 * The event loop's delay: a 20 ms timer notes how late it fires, into a histogram read and
 * emptied at each evaluation. (monitorEventLoopDelay's reset() also forgets the time of its last
 * tick, so a block right after a reading would never be seen.)
 */
export class EventLoopLag {
  private readonly histogram: RecordableHistogram = createHistogram();
  private readonly timer: NodeJS.Timeout;
  private last = performance.now();

  constructor(private readonly resolutionMs = 20) {
    this.timer = setInterval(() => this.sample(), resolutionMs);
    this.timer.unref();
  }

  private sample(): void {
    const now = performance.now();
    // In whole microseconds, at least 1 (a histogram records positive integers).
    this.histogram.record(Math.max(1, Math.round((now - this.last - this.resolutionMs) * 1000)));
    this.last = now;
  }

  /** p99 in ms since the previous call (null before any sample), then starts a new interval. */
  takeP99Ms(): number | null {
    const h = this.histogram;
    const p99 = h.count > 0 ? h.percentile(99) / 1000 : null;
    h.reset();
    return p99;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
