/**
 * Counts events per key (a client address, a viewer session) in fixed one-minute windows: once a
 * key has `maxPerMinute` in its window, retryAfterSec() says how long until the window ends. The
 * map is bounded, so many keys (an attacker with many addresses, a big audience) cannot grow it
 * without limit.
 */

const WINDOW_MS = 60_000;
/** Keys tracked at most; beyond, the oldest windows are forgotten (their counts start again). */
const MAX_TRACKED = 100_000;

export class WindowLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly maxPerMinute: number, private readonly now: () => number) {}

  /** Seconds until the key may go on; 0 when it may now. */
  retryAfterSec(key: string): number {
    const w = this.windows.get(key);
    if (!w) return 0;
    const left = w.start + WINDOW_MS - this.now();
    if (left <= 0) {
      this.windows.delete(key);
      return 0;
    }
    return w.count >= this.maxPerMinute ? Math.ceil(left / 1000) : 0;
  }

  /** Counts one event of the key. */
  hit(key: string): void {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || now >= w.start + WINDOW_MS) {
      this.windows.delete(key);
      this.evict(now);
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
  }

  /** Keys being tracked (for tests and metrics). */
  get size(): number {
    return this.windows.size;
  }

  /**
   * The map is in window-start order (a new window is a new entry), so the ended windows are at
   * its front: dropping them costs what is dropped. When full, the oldest windows go too.
   */
  private evict(now: number): void {
    for (const [key, w] of this.windows) {
      if (now < w.start + WINDOW_MS && this.windows.size < MAX_TRACKED) break;
      this.windows.delete(key);
    }
  }
}
