/**
 * How much a monotonic counter grew over a recent window, from the samples the evaluator takes
 * at each tick (a few per second at most, kept only as long as the longest window asked for).
 */
export class CounterWindow {
  private readonly samples: { at: number; value: number }[] = [];

  constructor(private readonly keepMs: number) {}

  add(at: number, value: number): void {
    this.samples.push({ at, value });
    while (this.samples.length > 1 && this.samples[1].at <= at - this.keepMs) this.samples.shift();
  }

  /** Growth since the oldest sample within windowMs of the newest (0 with fewer than two samples). */
  increaseWithin(windowMs: number): number {
    const last = this.samples[this.samples.length - 1];
    if (!last) return 0;
    const from = this.samples.find((s) => s.at >= last.at - windowMs) ?? last;
    return last.value - from.value;
  }
}
