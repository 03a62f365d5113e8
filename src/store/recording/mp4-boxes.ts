/**
 * Just enough ISO BMFF (ISO/IEC 14496-12) reading for recordings: box headers, the track facts
 * of an init segment (timescale, handler, trex defaults) and the per-track timing of a moof
 * (tfdt and the summed sample durations). Recordings need timing to rebase each file to zero
 * and to measure a crashed file; nothing here decodes media or allocates per sample.
 */

/** A box header: its type, where it starts, its full size and the header's own length. */
export interface BoxHeader {
  type: string;
  start: number;
  size: number;
  headerSize: number;
}

/** A malformed box: a size smaller than its header, or a child running past its parent. */
export class BoxError extends Error {
  readonly code = 'ERR_MP4_BOX';
}

/**
 * The box header at `offset`, or undefined when `buf` ends before the header does (a torn
 * write). size 1 means a 64-bit largesize follows the type (§4.2). size 0 ("extends to the end
 * of the file") is reported as is; callers decide what the end is.
 */
export function readBoxHeader(buf: Buffer, offset: number): BoxHeader | undefined {
  if (offset + 8 > buf.length) return undefined;
  const size32 = buf.readUInt32BE(offset);
  const type = buf.toString('latin1', offset + 4, offset + 8);
  if (size32 === 0) return { type, start: offset, size: 0, headerSize: 8 };
  if (size32 !== 1) {
    if (size32 < 8) throw new BoxError(`box '${type}' at ${offset} has size ${size32}`);
    return { type, start: offset, size: size32, headerSize: 8 };
  }
  if (offset + 16 > buf.length) return undefined;
  const large = buf.readBigUInt64BE(offset + 8);
  if (large < 16n || large > BigInt(Number.MAX_SAFE_INTEGER)) throw new BoxError(`box '${type}' at ${offset} has largesize ${large}`);
  return { type, start: offset, size: Number(large), headerSize: 16 };
}

/** The child boxes of the container payload buf[start, end); throws when one overruns `end`. */
export function childBoxes(buf: Buffer, start: number, end: number): BoxHeader[] {
  const out: BoxHeader[] = [];
  for (let at = start; at < end;) {
    const h = readBoxHeader(buf.subarray(0, end), at);
    if (!h) throw new BoxError(`truncated box header at ${at}`);
    if (h.size === 0) h.size = end - at;
    if (at + h.size > end) throw new BoxError(`box '${h.type}' at ${at} runs past its parent`);
    out.push(h);
    at += h.size;
  }
  return out;
}

function child(buf: Buffer, parent: BoxHeader, type: string): BoxHeader | undefined {
  return childBoxes(buf, parent.start + parent.headerSize, parent.start + parent.size).find((b) => b.type === type);
}

function required(buf: Buffer, parent: BoxHeader, type: string): BoxHeader {
  const b = child(buf, parent, type);
  if (!b) throw new BoxError(`'${parent.type}' has no '${type}'`);
  return b;
}

/** Offset of a full box's payload after version and flags. */
const fullBoxBody = (b: BoxHeader) => b.start + b.headerSize + 4;

export interface TrackFacts {
  timescale: number;
  /** hdlr handler_type: 'vide', 'soun', … */
  handler: string;
  /** trex default_sample_duration, used when neither tfhd nor trun give one. */
  defaultSampleDuration: number;
}

/** Track facts by track_ID from an init segment (ftyp + moov with mvex). */
export function parseInit(init: Buffer): Map<number, TrackFacts> {
  const moov = childBoxes(init, 0, init.length).find((b) => b.type === 'moov');
  if (!moov) throw new BoxError('init segment has no moov');
  const defaults = new Map<number, number>();
  const mvex = child(init, moov, 'mvex');
  if (mvex) {
    for (const trex of childBoxes(init, mvex.start + mvex.headerSize, mvex.start + mvex.size)) {
      if (trex.type !== 'trex') continue;
      const body = fullBoxBody(trex);
      defaults.set(init.readUInt32BE(body), init.readUInt32BE(body + 8));
    }
  }
  const tracks = new Map<number, TrackFacts>();
  for (const trak of childBoxes(init, moov.start + moov.headerSize, moov.start + moov.size)) {
    if (trak.type !== 'trak') continue;
    const tkhd = required(init, trak, 'tkhd');
    // tkhd/mdhd version 1 widens creation and modification times to 64 bits (§8.3.2, §8.4.2).
    const trackId = init.readUInt32BE(fullBoxBody(tkhd) + (init[tkhd.start + tkhd.headerSize] === 1 ? 16 : 8));
    const mdia = required(init, trak, 'mdia');
    const mdhd = required(init, mdia, 'mdhd');
    const timescale = init.readUInt32BE(fullBoxBody(mdhd) + (init[mdhd.start + mdhd.headerSize] === 1 ? 16 : 8));
    const hdlr = required(init, mdia, 'hdlr');
    const handler = init.toString('latin1', fullBoxBody(hdlr) + 4, fullBoxBody(hdlr) + 8);
    if (timescale === 0) throw new BoxError(`track ${trackId} has timescale 0`);
    tracks.set(trackId, { timescale, handler, defaultSampleDuration: defaults.get(trackId) ?? 0 });
  }
  if (tracks.size === 0) throw new BoxError('init segment has no track');
  return tracks;
}

/** The track a recording's duration is measured on: video when there is one. */
export function primaryTrackId(tracks: Map<number, TrackFacts>): number {
  for (const [id, t] of tracks) if (t.handler === 'vide') return id;
  return tracks.keys().next().value as number;
}

export interface TrafTiming {
  trackId: number;
  /** baseMediaDecodeTime, in the track's timescale. */
  tfdt: number;
  /** Where the tfdt value sits in the buffer, and its width (version 0: 4 bytes, 1: 8). */
  tfdtAt: number;
  tfdtBytes: 4 | 8;
  /** Sum of the fragment's sample durations for this track, in its timescale. */
  duration: number;
}

// tfhd flags (§8.8.7) and trun flags (§8.8.8) that change the layout we walk.
const TFHD_BASE_DATA_OFFSET = 0x01, TFHD_SAMPLE_DESC = 0x02, TFHD_DEFAULT_DURATION = 0x08;
const TRUN_DATA_OFFSET = 0x01, TRUN_FIRST_FLAGS = 0x04;
const TRUN_DURATION = 0x100, TRUN_SIZE = 0x200, TRUN_FLAGS = 0x400, TRUN_CTO = 0x800;

/** The 24-bit flags of a full box (after its version byte). */
function fullBoxFlags(buf: Buffer, box: BoxHeader): number {
  return buf.readUIntBE(box.start + box.headerSize + 1, 3);
}

/** Timing of every traf of the moof that starts at `offset` in buf. */
export function parseMoof(buf: Buffer, offset = 0, tracks?: Map<number, TrackFacts>): TrafTiming[] {
  const moof = readBoxHeader(buf, offset);
  if (!moof || moof.type !== 'moof' || offset + moof.size > buf.length) throw new BoxError(`no whole moof at ${offset}`);
  const out: TrafTiming[] = [];
  for (const traf of childBoxes(buf, moof.start + moof.headerSize, moof.start + moof.size)) {
    if (traf.type !== 'traf') continue;
    const tfhd = required(buf, traf, 'tfhd');
    const tfhdFlags = fullBoxFlags(buf, tfhd);
    let at = fullBoxBody(tfhd);
    const trackId = buf.readUInt32BE(at);
    at += 4;
    if (tfhdFlags & TFHD_BASE_DATA_OFFSET) at += 8;
    if (tfhdFlags & TFHD_SAMPLE_DESC) at += 4;
    const defaultDuration = tfhdFlags & TFHD_DEFAULT_DURATION ? buf.readUInt32BE(at) : tracks?.get(trackId)?.defaultSampleDuration ?? 0;

    const tfdt = required(buf, traf, 'tfdt');
    const wide = buf[tfdt.start + tfdt.headerSize] === 1;
    const tfdtAt = fullBoxBody(tfdt);
    const base = wide ? Number(buf.readBigUInt64BE(tfdtAt)) : buf.readUInt32BE(tfdtAt);

    let duration = 0;
    for (const trun of childBoxes(buf, traf.start + traf.headerSize, traf.start + traf.size)) {
      if (trun.type !== 'trun') continue;
      const flags = fullBoxFlags(buf, trun);
      let p = fullBoxBody(trun);
      const count = buf.readUInt32BE(p);
      p += 4;
      if (flags & TRUN_DATA_OFFSET) p += 4;
      if (flags & TRUN_FIRST_FLAGS) p += 4;
      if (!(flags & TRUN_DURATION)) {
        duration += count * defaultDuration;
        continue;
      }
      const stride = 4 * [TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_CTO].filter((f) => flags & f).length;
      if (p + count * stride > trun.start + trun.size) throw new BoxError(`trun of track ${trackId} is shorter than its sample count`);
      for (let i = 0; i < count; i++, p += stride) duration += buf.readUInt32BE(p);
    }
    out.push({ trackId, tfdt: base, tfdtAt, tfdtBytes: wide ? 8 : 4, duration });
  }
  return out;
}
