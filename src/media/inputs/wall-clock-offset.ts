/**
 * Where an input's media clock sits on the wall clock: wall time of a frame ≈ its dts + offset.
 * Each frame gives one reading (arrival − dts); network and encoder bursts only ever delay a
 * frame, so the smallest reading is the truest. The minimum is taken over a sliding window (the
 * current and the previous bucket) so it follows an encoder clock that drifts from the wall
 * clock over hours instead of staying with a reading from the first minute.
 */
export class WallClockOffset {
  private current = Infinity;
  private previous = Infinity;
  private bucketStart = -Infinity;

  constructor(private readonly bucketMs = 10_000) {}

  /** One frame: its dts (ms) and when it arrived (epoch ms). */
  note(dtsMs: number, arrivalMs: number): void {
    if (arrivalMs - this.bucketStart >= this.bucketMs) {
      this.previous = this.current;
      this.current = Infinity;
      this.bucketStart = arrivalMs;
    }
    const reading = arrivalMs - dtsMs;
    if (reading < this.current) this.current = reading;
  }

  /** The offset (epoch ms minus media ms); undefined before the first frame. */
  get offsetMs(): number | undefined {
    const best = Math.min(this.current, this.previous);
    return best === Infinity ? undefined : best;
  }
}
