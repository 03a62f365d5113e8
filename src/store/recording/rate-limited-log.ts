import type { Logger } from 'pino';

/**
 * One log line per interval for an event that can repeat every part ("N times, last: …"): a
 * full disk drops five parts a second per channel, which must not become five lines a second.
 */
export class RateLimitedLog {
  private count = 0;
  private last: Record<string, unknown> = {};
  private lastLogMs = -Infinity;

  constructor(
    private readonly log: Logger,
    private readonly level: 'warn' | 'error',
    private readonly msg: string,
    private readonly now: () => number,
    private readonly intervalMs = 10_000,
  ) {}

  /** One occurrence; logged at once when nothing was logged for intervalMs, else counted. */
  note(detail: Record<string, unknown>): void {
    this.count++;
    this.last = detail;
    if (this.now() - this.lastLogMs >= this.intervalMs) this.flush();
  }

  /** Logs what was counted since the last line, if anything. */
  flush(): void {
    if (this.count === 0) return;
    this.log[this.level]({ ...this.last, count: this.count }, this.msg);
    this.count = 0;
    this.lastLogMs = this.now();
  }
}
