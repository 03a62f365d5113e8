/**
 * Picks keyframes at most every intervalMs, for one kind of picture (periodic thumbnails, or
 * preview tiles). Only keyframes decode alone, and publishers send them every 1–2 s, so a
 * picture is taken at the first keyframe once the interval has passed.
 *
 * A keyframe a little early still counts (slack of ⅛ interval, at most 250 ms): with a 2 s GOP
 * and a 2 s interval, RTMP's millisecond jitter would otherwise skip every other keyframe and
 * double the spacing.
 */
export class KeyframePicker {
  private lastMs: number | undefined;
  private readonly slackMs: number;

  constructor(readonly intervalMs: number) {
    this.slackMs = Math.min(250, intervalMs / 8);
  }

  /** Whether a keyframe at timeMs should be taken. */
  due(timeMs: number): boolean {
    // A clock that went back (a new session stamped earlier) starts over rather than waiting.
    return this.lastMs === undefined || timeMs < this.lastMs || timeMs - this.lastMs >= this.intervalMs - this.slackMs;
  }

  /** The keyframe at timeMs was taken. */
  taken(timeMs: number): void {
    this.lastMs = timeMs;
  }

  /** Forgets the last pick: the next keyframe is due (a new publish session). */
  reset(): void {
    this.lastMs = undefined;
  }
}
