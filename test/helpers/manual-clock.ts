/** A clock (epoch ms) that only moves when the test says so; pass `read` where a Clock is taken. */
export class ManualClock {
  constructor(public now: number) {}
  readonly read = (): number => this.now;
  readonly readSec = (): number => Math.floor(this.now / 1000);
  advance(ms: number): number {
    this.now += ms;
    return this.now;
  }
}
