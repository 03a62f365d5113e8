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
  /** The MSN of the first gap part: the segment left open by the last source, or the next one. */
  firstMsn: number;
  /** Media already in that segment (0 for a new one): the gap parts complete it to the target. */
  continuedMs?: number;
  /** Where the gap starts on the channel's media clock (the end of the last media), ms. */
  startMs: number;
  /** Epoch ms minus media ms of the channel's timeline: wall = epoch + media. */
  epochMs: number;
  /** Part length: the cutter's part target (one part per segment in modes without parts). */
  partMs: number;
  /** Segment length aimed at: the segment target. */
  segmentMs: number;
  /** No segment grows past this (TARGETDURATION + 499 ms, so EXTINF rounds within it). */
  segmentMaxMs: number;
}

/**
 * Keeps a live playlist advancing while no input is on air and the operator chose EXT-X-GAP over
 * a slate: parts of the part target, grouped into segments of the segment target, each released
 * once the wall clock has passed its end, as an encoder's parts would be. The first gap parts
 * complete the segment the last source left open, so the part its playlist hinted is published
 * under the name hinted (as a gap). Players see the timeline go on at real time and wait; a
 * returning input's media follows after a discontinuity.
 */
export class GapClock {
  private msn: number;
  private index: number;
  /** Media in the current segment so far. */
  private segmentSoFarMs: number;
  private nextStartMs: number;

  constructor(private readonly o: GapClockOptions, firstIndex = 0) {
    if (!(o.partMs > 0) || !(o.segmentMs > 0) || !(o.segmentMaxMs >= o.segmentMs)) throw new Error('gap parts need a positive part and segment length');
    this.msn = o.firstMsn;
    this.index = firstIndex;
    this.segmentSoFarMs = o.continuedMs ?? 0;
    this.nextStartMs = o.startMs;
  }

  /** The gap parts whose end the wall clock has passed by `now` (epoch ms), in order; bounded after a stalled event loop. */
  due(now: number, max = 600): GapPart[] {
    const out: GapPart[] = [];
    const mediaNow = now - this.o.epochMs;
    for (;;) {
      // Never past the segment's longest; at least 1 ms (a GAP part may be short, PT-03).
      const durationMs = Math.max(1, Math.min(this.o.partMs, this.o.segmentMaxMs - this.segmentSoFarMs));
      if (out.length >= max || this.nextStartMs + durationMs > mediaNow) break;
      const soFar = this.segmentSoFarMs + durationMs;
      // The segment ends at the part that brings it nearest the target (or to its longest).
      const segmentEnd = soFar >= this.o.segmentMs - this.o.partMs / 2 || soFar >= this.o.segmentMaxMs;
      out.push({ msn: this.msn, index: this.index, durationMs, startMs: this.nextStartMs, segmentEnd });
      this.nextStartMs += durationMs;
      if (segmentEnd) {
        this.msn++;
        this.index = 0;
        this.segmentSoFarMs = 0;
      } else {
        this.index++;
        this.segmentSoFarMs = soFar;
      }
    }
    return out;
  }

  /** Where the gap has reached on the media clock: a returning input starts after it. */
  get endMs(): number {
    return this.nextStartMs;
  }
}
