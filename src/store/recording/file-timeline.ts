import { parseMoof, readBoxHeader, type TrackFacts } from './mp4-boxes.js';

/**
 * Rebases one recording file's timeline to zero. The live parts keep the publisher's clock
 * (tfdt = RTMP dts), so a file opened by rotation an hour into a session would start at 1 h:
 * ffprobe then reports its end time as its duration and players show a timeline that does not
 * start at 0. Each file instead subtracts the start of its first fragment, one shift in seconds
 * for all tracks so audio and video stay in sync.
 *
 * The part bytes are shared with live delivery and never mutated: only a copy of the moof (a
 * few hundred bytes) is patched; the tfdt value is rewritten in place at the same width, so no
 * box size or trun data_offset changes.
 */
export class FileTimeline {
  /** The earliest track start of the file's first fragment, as tfdt / timescale. */
  private origin: { tfdt: bigint; timescale: bigint } | undefined;
  private readonly shifts = new Map<number, number>();

  constructor(private readonly tracks: Map<number, TrackFacts>) {}

  /**
   * The part with its moof rebased: [patched moof copy, the rest of the part]. Undefined when a
   * track's clock went back before the file's start (a publisher restarting its timestamps):
   * such a part cannot follow in this file without breaking its timeline.
   */
  rebase(part: Buffer): [Buffer, Buffer] | undefined {
    const moof = readBoxHeader(part, 0);
    if (!moof || moof.type !== 'moof' || moof.size > part.length) throw new Error('part does not start with a whole moof');
    const copy = Buffer.from(part.subarray(0, moof.size));
    const trafs = parseMoof(copy, 0, this.tracks);
    this.origin ??= this.earliest(trafs);
    for (const traf of trafs) {
      const shifted = traf.tfdt - this.shift(traf.trackId);
      if (shifted < 0) return undefined;
      if (traf.tfdtBytes === 8) copy.writeBigUInt64BE(BigInt(shifted), traf.tfdtAt);
      else copy.writeUInt32BE(shifted, traf.tfdtAt);
    }
    return [copy, part.subarray(moof.size)];
  }

  private earliest(trafs: Array<{ trackId: number; tfdt: number }>): { tfdt: bigint; timescale: bigint } {
    let best: { tfdt: bigint; timescale: bigint } | undefined;
    for (const t of trafs) {
      const c = { tfdt: BigInt(t.tfdt), timescale: BigInt(this.timescale(t.trackId)) };
      // a/b < c/d without rounding: a·d < c·b.
      if (!best || c.tfdt * best.timescale < best.tfdt * c.timescale) best = c;
    }
    if (!best) throw new Error('moof has no traf');
    return best;
  }

  /** The file's start in this track's timescale, rounded down so no track starts below zero. */
  private shift(trackId: number): number {
    let s = this.shifts.get(trackId);
    if (s === undefined) {
      const o = this.origin!;
      s = Number((o.tfdt * BigInt(this.timescale(trackId))) / o.timescale);
      this.shifts.set(trackId, s);
    }
    return s;
  }

  private timescale(trackId: number): number {
    const t = this.tracks.get(trackId);
    if (!t) throw new Error(`moof names track ${trackId}, absent from the init segment`);
    return t.timescale;
  }
}
