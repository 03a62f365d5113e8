/**
 * Rewrites the timestamps of an FLV file's tags (what ffmpeg's CLI never lets a test do: it
 * interleaves its output by timestamp). FLV: a 9-byte header and a 4-byte previous-tag size,
 * then tags of an 11-byte header — type (8 audio, 9 video, 18 script), data size (24 bits),
 * timestamp (24 bits, then 8 more high bits), stream id (24 bits) — the data, and a 4-byte
 * previous-tag size.
 */
export const FLV_AUDIO = 8;
export const FLV_VIDEO = 9;

/** A copy of `flv` with `offsetMs` added to the timestamp of every tag of `type`, each tag where it was. */
export function shiftTagTimestamps(flv: Buffer, type: number, offsetMs: number): Buffer {
  if (flv.toString('latin1', 0, 3) !== 'FLV') throw new Error('not an FLV file');
  const out = Buffer.from(flv);
  let pos = out.readUInt32BE(5) + 4;
  let shifted = 0;
  while (pos + 11 <= out.length) {
    const size = out.readUIntBE(pos + 1, 3);
    if (out[pos] === type) {
      const ts = (out.readUIntBE(pos + 4, 3) | (out[pos + 7] << 24)) >>> 0;
      const next = ts + offsetMs;
      if (next < 0) throw new Error(`a tag at ${ts} ms cannot move by ${offsetMs} ms`);
      out.writeUIntBE(next & 0xffffff, pos + 4, 3);
      out[pos + 7] = (next >>> 24) & 0xff;
      shifted++;
    }
    pos += 11 + size + 4;
  }
  if (shifted === 0) throw new Error(`no tag of type ${type}`);
  return out;
}
