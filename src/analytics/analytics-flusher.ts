import type { Logger } from 'pino';
import type { AnalyticsRepository } from '../db/repository.js';
import type { CcuSample } from './ccu-sampler.js';
import type { MinuteAggregator } from './minute-aggregator.js';

const DAY_MS = 86_400_000;
const SWEEP_EVERY_MS = 3600_000;
/** Minute rows kept in memory while the database refuses them; beyond, the oldest are dropped (and logged). */
const MAX_PENDING_ROWS = 100_000;

export interface AnalyticsFlusherOptions {
  aggregator: MinuteAggregator;
  store: AnalyticsRepository;
  originId: string;
  flushIntervalMs: number;
  retentionDays: number;
  logger: Logger;
  now?: () => number;
}

/**
 * Writes the analytics to the control-plane database off the request path: the pending minute
 * rows in one transaction every analytics.flushIntervalSec, this origin's CCU per channel at
 * every sample (what /v1/analytics/realtime adds up across origins), and once an hour the
 * retention sweep. A write that fails keeps its rows for the next one.
 */
export class AnalyticsFlusher {
  private timer: NodeJS.Timeout | undefined;
  private lastSweep = 0;
  private writing: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly o: AnalyticsFlusherOptions) {
    this.now = o.now ?? Date.now;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.o.flushIntervalMs);
    this.timer.unref();
  }

  /** The CCU of one sampling, written at once (one small transaction per 10 s). */
  samples(samples: readonly CcuSample[]): void {
    const at = samples[0]?.atMs ?? this.now();
    this.serially(() => this.o.store.putLive(this.o.originId, at, samples.map((s) => ({ channelId: s.channel, ccu: s.ccu }))), 'live CCU');
  }

  /** Writes what is pending (and sweeps when an hour has passed); resolves when written or failed. */
  flush(): Promise<void> {
    return this.serially(async () => {
      const rows = this.o.aggregator.take();
      try {
        await this.o.store.addMinutes(this.o.originId, rows);
      } catch (err) {
        this.o.aggregator.putBack(rows);
        this.dropExcess();
        throw err;
      }
      const now = this.now();
      if (now - this.lastSweep >= SWEEP_EVERY_MS) {
        this.lastSweep = now;
        const deleted = await this.o.store.deleteBefore(now - this.o.retentionDays * DAY_MS);
        if (deleted > 0) this.o.logger.info({ deleted, retentionDays: this.o.retentionDays }, 'analytics minute rows past retention deleted');
      }
    }, 'minute rows');
  }

  private dropExcess(): void {
    const excess = this.o.aggregator.size - MAX_PENDING_ROWS;
    if (excess <= 0) return;
    const rows = this.o.aggregator.take();
    this.o.aggregator.putBack(rows.slice(excess));
    this.o.logger.error({ dropped: excess }, 'analytics: the database refused writes for too long, the oldest minute rows are dropped');
  }

  /** One write at a time, in order; a failure is logged (with the channels it concerned) and does not stop the next. */
  private serially(write: () => Promise<void>, what: string): Promise<void> {
    this.writing = this.writing.then(write).catch((err: unknown) => {
      this.o.logger.warn({ err, what, pendingRows: this.o.aggregator.size }, 'analytics write failed; retried at the next flush');
    });
    return this.writing;
  }

  /** Stops the timer and writes what is left. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
