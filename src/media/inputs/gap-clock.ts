/** One gap part: no media, only its place on the timeline (EXT-X-PART … GAP=YES). */
export interface GapPart {
  msn: number;
  index: number;
  durationMs: number;
  /** Start on the channel's media clock, ms. */
  startMs: number;
  /** The last part of its segment: the segment closes after it (EXT-X-GAP + EXTINF). */
  segmentEnd: boolean;
}

export interface GapClockOptions {
  /** The MSN of the first gap segment (the next after everything so far). */
  firstMsn: number;
  /** Where the gap starts on the channel's media clock (the end of the last media), ms. */
  startMs: number;
  /** Epoch ms minus media ms of the channel's timeline: wall = epoch + media. */
  epochMs: number;
  /** Part length: the cutter's part target (one part per segment in modes without parts). */
  partMs: number;
  /** Segment length: the segment target, a whole number of parts. */
  segmentMs: number;
}

/**
 * Keeps a live playlist advancing while no input is on air and the operator chose EXT-X-GAP over
 * a slate: parts of the part target, grouped into segments of the segment target, each released
 * once the wall clock has passed its end, as an encoder's parts would be. Players see the
 * timeline go on at real time and wait; a returning input's media follows after a discontinuity.
 */
export class GapClock {
  private readonly partsPerSegment: number;
  private msn: number;
  private index = 0;
  private nextStartMs: number;

  constructor(private readonly o: GapClockOptions) {
    if (!(o.partMs > 0) || !(o.segmentMs > 0)) throw new Error('gap parts need a positive part and segment length');
    this.partsPerSegment = Math.max(1, Math.round(o.segmentMs / o.partMs));
    this.msn = o.firstMsn;
    this.nextStartMs = o.startMs;
  }

  /** The gap parts whose end the wall clock has passed by `now` (epoch ms), in order; bounded after a stalled event loop. */
  due(now: number, max = 600): GapPart[] {
    const out: GapPart[] = [];
    const mediaNow = now - this.o.epochMs;
    while (out.length < max && this.nextStartMs + this.o.partMs <= mediaNow) {
      const segmentEnd = this.index === this.partsPerSegment - 1;
      out.push({ msn: this.msn, index: this.index, durationMs: this.o.partMs, startMs: this.nextStartMs, segmentEnd });
      this.nextStartMs += this.o.partMs;
      if (segmentEnd) {
        this.msn++;
        this.index = 0;
      } else {
        this.index++;
      }
    }
    return out;
  }

  /** Where the gap has reached on the media clock: a returning input starts after it. */
  get endMs(): number {
    return this.nextStartMs;
  }
}
