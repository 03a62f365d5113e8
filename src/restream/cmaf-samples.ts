import type { AccessUnit, TrackInfo } from '../media/types.js';

/**
 * Reads back what the native pipeline wrote for an ABR rung, so a restream target can push a
 * rung over RTMP: the init segment's tracks (timescale, avcC, AudioSpecificConfig) and each
 * part's samples (moof/traf/tfhd/tfdt/trun + mdat) as AccessUnits. Only what CMAF uses is read
 * (ISO/IEC 14496-12 boxes; default-base-is-moof data offsets); anything else throws.
 */

interface Box { type: string; start: number; body: number; end: number }

function* boxes(buf: Buffer, from = 0, to = buf.length): Generator<Box> {
  let pos = from;
  while (pos + 8 <= to) {
    let size = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    let body = pos + 8;
    if (size === 1) {
      size = Number(buf.readBigUInt64BE(pos + 8));
      body += 8;
    } else if (size === 0) {
      size = to - pos;
    }
    if (size < body - pos || pos + size > to) throw new Error(`box ${type} runs past its parent`);
    yield { type, start: pos, body, end: pos + size };
    pos += size;
  }
}

function child(buf: Buffer, parent: Box, type: string, skip = 0): Box | undefined {
  for (const b of boxes(buf, parent.body + skip, parent.end)) if (b.type === type) return b;
  return undefined;
}

function path(buf: Buffer, parent: Box, ...types: string[]): Box | undefined {
  let b: Box | undefined = parent;
  for (const t of types) b = b && child(buf, b, t);
  return b;
}

/** An ES descriptor's DecoderSpecificInfo (tag 5): the AAC AudioSpecificConfig. */
function decoderSpecificInfo(d: Buffer): Buffer | undefined {
  let pos = 0;
  const readLen = () => { let n = 0; for (let i = 0; i < 4; i++) { const b = d[pos++]; n = (n << 7) | (b & 0x7f); if (!(b & 0x80)) break; } return n; };
  while (pos < d.length) {
    const tag = d[pos++];
    const len = readLen();
    if (tag === 0x03) { pos += 3; continue; } // ES_Descriptor: ES_ID, flags (no optional fields in CMAF)
    if (tag === 0x04) { pos += 13; continue; } // DecoderConfigDescriptor header; its sub-descriptors follow
    if (tag === 0x05) return d.subarray(pos, pos + len);
    pos += len;
  }
  return undefined;
}

/** The tracks of an init segment, each with its track_ID as `id`. */
export function initTracks(buf: Buffer): TrackInfo[] {
  const moov = [...boxes(buf)].find((b) => b.type === 'moov');
  if (!moov) throw new Error('no moov');
  const out: TrackInfo[] = [];
  for (const trak of boxes(buf, moov.body, moov.end)) {
    if (trak.type !== 'trak') continue;
    const tkhd = child(buf, trak, 'tkhd')!;
    const id = buf.readUInt32BE(tkhd.body + (buf[tkhd.body] === 1 ? 20 : 12));
    const mdhd = path(buf, trak, 'mdia', 'mdhd')!;
    const timescale = buf.readUInt32BE(mdhd.body + (buf[mdhd.body] === 1 ? 20 : 12));
    const stsd = path(buf, trak, 'mdia', 'minf', 'stbl', 'stsd');
    if (!stsd) continue;
    const entry = [...boxes(buf, stsd.body + 8, stsd.end)][0];
    if (entry?.type === 'avc1' || entry?.type === 'avc3') {
      const avcC = child(buf, entry, 'avcC', 78);
      if (!avcC) throw new Error('avc1 without avcC');
      out.push({ kind: 'video', id, codec: 'h264', timescale, codecConfig: Buffer.from(buf.subarray(avcC.body, avcC.end)),
        width: buf.readUInt16BE(entry.body + 24), height: buf.readUInt16BE(entry.body + 26), frameRate: 0 });
    } else if (entry?.type === 'mp4a') {
      const esds = child(buf, entry, 'esds', 28);
      const asc = esds && decoderSpecificInfo(buf.subarray(esds.body + 4, esds.end));
      if (!asc) throw new Error('mp4a without an AudioSpecificConfig');
      out.push({ kind: 'audio', id, codec: 'aac', timescale, codecConfig: Buffer.from(asc),
        channels: buf.readUInt16BE(entry.body + 16), sampleRate: buf.readUInt32BE(entry.body + 24) >>> 16 });
    }
  }
  return out;
}

/** The samples of a CMAF part (one or more moof+mdat), in decode order per track, dts and pts in the track's timescale. */
export function partSamples(buf: Buffer): AccessUnit[] {
  const out: AccessUnit[] = [];
  for (const moof of boxes(buf)) {
    if (moof.type !== 'moof') continue;
    for (const traf of boxes(buf, moof.body, moof.end)) {
      if (traf.type !== 'traf') continue;
      const tfhd = child(buf, traf, 'tfhd')!;
      const tf = buf.readUInt32BE(tfhd.body) & 0xffffff;
      let p = tfhd.body + 4;
      const trackId = buf.readUInt32BE(p); p += 4;
      let base = moof.start;
      if (tf & 0x1) { base = Number(buf.readBigUInt64BE(p)); p += 8; }
      if (tf & 0x2) p += 4;
      let defDuration = 0, defSize = 0, defFlags = 0;
      if (tf & 0x8) { defDuration = buf.readUInt32BE(p); p += 4; }
      if (tf & 0x10) { defSize = buf.readUInt32BE(p); p += 4; }
      if (tf & 0x20) { defFlags = buf.readUInt32BE(p); p += 4; }
      const tfdt = child(buf, traf, 'tfdt');
      let dts = tfdt ? (buf[tfdt.body] === 1 ? Number(buf.readBigUInt64BE(tfdt.body + 4)) : buf.readUInt32BE(tfdt.body + 4)) : 0;
      for (const trun of boxes(buf, traf.body, traf.end)) {
        if (trun.type !== 'trun') continue;
        const version = buf[trun.body];
        const f = buf.readUInt32BE(trun.body) & 0xffffff;
        let q = trun.body + 4;
        const count = buf.readUInt32BE(q); q += 4;
        let data = base;
        if (f & 0x1) { data = base + buf.readInt32BE(q); q += 4; }
        let firstFlags: number | undefined;
        if (f & 0x4) { firstFlags = buf.readUInt32BE(q); q += 4; }
        for (let i = 0; i < count; i++) {
          const duration = f & 0x100 ? buf.readUInt32BE((q += 4) - 4) : defDuration;
          const size = f & 0x200 ? buf.readUInt32BE((q += 4) - 4) : defSize;
          let flags = f & 0x400 ? buf.readUInt32BE((q += 4) - 4) : defFlags;
          if (i === 0 && firstFlags !== undefined) flags = firstFlags;
          const cts = f & 0x800 ? (version === 1 ? buf.readInt32BE((q += 4) - 4) : buf.readUInt32BE((q += 4) - 4)) : 0;
          if (data + size > buf.length) throw new Error('a sample runs past the part');
          // sample_is_non_sync_sample (bit 16) clear: a sync sample.
          out.push({ trackId, dts, pts: dts + cts, keyframe: (flags & 0x10000) === 0, data: buf.subarray(data, data + size) });
          data += size;
          dts += duration;
        }
      }
    }
  }
  return out;
}
