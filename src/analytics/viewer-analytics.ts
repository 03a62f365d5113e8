import type { Logger } from 'pino';
import type { AnalyticsRepository } from '../db/repository.js';
import type { OriginRequest } from '../delivery/types.js';
import { AnalyticsFlusher } from './analytics-flusher.js';
import { CcuSampler } from './ccu-sampler.js';
import { MinuteAggregator } from './minute-aggregator.js';
import type { ViewerBeacon, ViewerEventSink, ViewerTouch } from './viewer-events.js';
import { ViewerRequests } from './viewer-requests.js';
import { ViewerSessions, type ChannelTiming } from './viewer-sessions.js';
import { FallbackKeys } from './session-key.js';

export interface ViewerAnalyticsSettings {
  viewAfterSec: number;
  /** Per latency mode; absent: derived (sessionTimeoutMs). */
  sessionTimeoutSec: Partial<Record<string, number>>;
  retentionDays: number;
  flushIntervalSec: number;
}

export interface ViewerAnalyticsOptions {
  settings: ViewerAnalyticsSettings;
  /** A served channel's latency mode and TARGETDURATION (s); undefined when it is not served. */
  channelOf(id: string): { latencyMode: string; targetDurationSec: number } | undefined;
  /** The jti of a request's valid playback token, for channels that ask for tokens. */
  tokenSession(req: OriginRequest, channel: string): string | undefined;
  logger: Logger;
  now?: () => number;
}

/**
 * How long a session lives without a request: 3 × TARGETDURATION (a player reloads its playlist
 * at least once per target duration, LL-HLS players several times a second), at least 6 s, and
 * at least 30 s in normal mode, where a reload may be a whole 6 s segment apart; or the configured
 * analytics.sessionTimeoutSec of the mode.
 */
export function sessionTimeoutMs(latencyMode: string, targetDurationSec: number, configured?: number): number {
  if (configured !== undefined) return configured * 1000;
  return Math.max(3 * targetDurationSec, latencyMode === 'normal' ? 30 : 6) * 1000;
}

/**
 * Viewer analytics of one origin (issue 17), the composition of its parts: delivery's requests
 * and the beacons (this is the ViewerEventSink) go into the session table; the sampler ticks it
 * every 10 s into minute rows; the flusher writes them to the control-plane database.
 */
export class ViewerAnalytics implements ViewerEventSink {
  readonly aggregator = new MinuteAggregator();
  readonly sessions: ViewerSessions;
  readonly requests: ViewerRequests;
  readonly sampler: CcuSampler;
  /** The salted daily fallback keys delivery uses: the beacon route keys a beacon without sid or token with the same ones. */
  readonly fallbackKeys: FallbackKeys;
  private flusher: AnalyticsFlusher | undefined;
  private readonly now: () => number;
  private readonly timings = new Map<string, ChannelTiming>();

  constructor(private readonly o: ViewerAnalyticsOptions) {
    this.now = o.now ?? Date.now;
    this.sessions = new ViewerSessions({
      aggregator: this.aggregator, viewAfterMs: o.settings.viewAfterSec * 1000, timingOf: (id) => this.timingOf(id),
    });
    this.fallbackKeys = new FallbackKeys(this.now);
    this.requests = new ViewerRequests({ sessions: this.sessions, tokenSession: o.tokenSession, now: this.now, fallbackKeys: this.fallbackKeys });
    this.sampler = new CcuSampler(this.sessions, this.aggregator, this.now);
  }

  private timingOf(id: string): ChannelTiming | undefined {
    const ch = this.o.channelOf(id);
    if (!ch) return this.timings.get(id);
    const t = { latencyMode: ch.latencyMode,
      timeoutMs: sessionTimeoutMs(ch.latencyMode, ch.targetDurationSec, this.o.settings.sessionTimeoutSec[ch.latencyMode]) };
    this.timings.set(id, t); // kept for a channel removed while its viewers' sessions end
    return t;
  }

  touch(t: ViewerTouch): void {
    this.sessions.touch(t);
  }

  beacon(b: ViewerBeacon): void {
    this.sessions.beacon(b);
  }

  /** Starts sampling and writing to `store` as origin `originId`. */
  start(store: AnalyticsRepository, originId: string): void {
    const s = this.o.settings;
    const flusher = this.flusher = new AnalyticsFlusher({
      aggregator: this.aggregator, store, originId, flushIntervalMs: s.flushIntervalSec * 1000, retentionDays: s.retentionDays,
      logger: this.o.logger, now: this.now,
    });
    this.sampler.onSamples((samples) => flusher.samples(samples));
    this.sampler.start();
    flusher.start();
    this.o.logger.info({ originId, viewAfterSec: s.viewAfterSec, flushIntervalSec: s.flushIntervalSec }, 'viewer analytics started');
  }

  /** Stops sampling, credits open sessions' watch time so far and writes everything pending. */
  async stop(): Promise<void> {
    this.sampler.stop();
    this.sessions.creditAll();
    await this.flusher?.stop();
  }
}
