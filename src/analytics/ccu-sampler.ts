import type { MinuteAggregator } from './minute-aggregator.js';
import type { ViewerSessions } from './viewer-sessions.js';

/** CCU is sampled at every multiple of this on the wall clock (:00, :10, … of each minute: 6 samples a minute). */
export const SAMPLE_INTERVAL_MS = 10_000;

export interface CcuSample {
  channel: string;
  atMs: number;
  ccu: number;
}

/**
 * Every 10 s, aligned to the wall clock so that several origins sample at the same instants:
 * the session table's tick (timeouts, watch time credited), then one CCU sample per channel
 * into the minute rows and to the listeners (the flusher's realtime figure, tests).
 */
export class CcuSampler {
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: ((samples: CcuSample[]) => void)[] = [];

  constructor(private readonly sessions: ViewerSessions, private readonly aggregator: MinuteAggregator,
    private readonly now: () => number = Date.now) {}

  onSamples(listener: (samples: CcuSample[]) => void): void {
    this.listeners.push(listener);
  }

  /** One sampling at `atMs` (the timer's, or a test's manual clock). */
  sample(atMs = this.now()): CcuSample[] {
    const samples: CcuSample[] = [];
    for (const [channel, ccu] of this.sessions.tick(atMs)) {
      this.aggregator.ccu(channel, atMs, ccu);
      samples.push({ channel, atMs, ccu });
    }
    for (const l of this.listeners) l(samples);
    return samples;
  }

  start(): void {
    const schedule = () => {
      const wait = SAMPLE_INTERVAL_MS - (this.now() % SAMPLE_INTERVAL_MS);
      this.timer = setTimeout(() => {
        this.sample();
        schedule();
      }, wait);
      this.timer.unref();
    };
    if (!this.timer) schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
