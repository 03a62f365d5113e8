import { open, type FileHandle } from 'node:fs/promises';
import { parseInit, parseMoof, primaryTrackId, readBoxHeader, type BoxHeader, type TrackFacts } from './mp4-boxes.js';

/** What repairRecording found and did. */
export interface RepairResult {
  /** The file's size after the repair: the end of its last whole moof + mdat pair. */
  bytes: number;
  /** Bytes cut off the end (a half-written part). */
  truncatedBytes: number;
  /** Media time from the first to the end of the last whole fragment; undefined if unmeasurable. */
  durationMs: number | undefined;
}

interface Span {
  start: number;
  size: number;
}

async function readAt(fh: FileHandle, pos: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, pos);
  return buf.subarray(0, bytesRead);
}

/** The top-level box header at `pos`, or undefined when the file ends inside it or it is garbage. */
async function headerAt(fh: FileHandle, pos: number, fileSize: number): Promise<BoxHeader | undefined> {
  let h: BoxHeader | undefined;
  try {
    h = readBoxHeader(await readAt(fh, pos, 16), 0);
  } catch {
    return undefined;
  }
  if (!h || h.size === 0 || pos + h.size > fileSize) return undefined;
  return { ...h, start: pos };
}

/**
 * Walks the top-level boxes of a recording left open by a crash (kill -9, power loss) and cuts
 * the file at the end of its last whole moof + mdat pair: a writer killed mid-part leaves a
 * moof without its mdat, a short mdat or half a header, which players stop at or reject.
 * Only box headers are read (mdat payloads are skipped), plus the first and last moof for the
 * duration. Undefined when the file holds no init segment or no whole fragment (nothing to play).
 */
export async function repairRecording(path: string): Promise<RepairResult | undefined> {
  const fh = await open(path, 'r+');
  try {
    const size = (await fh.stat()).size;
    let tracks: Map<number, TrackFacts> | undefined;
    let pendingMoof: Span | undefined;
    let first: Span | undefined;
    let last: Span | undefined;
    let goodEnd = 0;
    for (let at = 0; at < size;) {
      const h = await headerAt(fh, at, size);
      if (!h) break;
      if (h.type === 'moov') {
        try {
          tracks = parseInit(await readAt(fh, at, h.size));
        } catch {
          break;
        }
      } else if (h.type === 'moof') {
        // A moof counts only with the mdat after it (CMAF: each moof is followed by its mdat).
        pendingMoof = { start: at, size: h.size };
      } else if (h.type === 'mdat' && pendingMoof) {
        first ??= pendingMoof;
        last = pendingMoof;
        pendingMoof = undefined;
      } else if (pendingMoof) break;
      at += h.size;
      if (!pendingMoof && tracks) goodEnd = at;
    }
    if (!tracks || !first || !last) return undefined;
    if (goodEnd < size) {
      await fh.truncate(goodEnd);
      await fh.datasync();
    }
    return { bytes: goodEnd, truncatedBytes: size - goodEnd, durationMs: await measure(fh, tracks, first, last) };
  } finally {
    await fh.close();
  }
}

/** End of the last fragment minus start of the first, on the primary (video) track. */
async function measure(fh: FileHandle, tracks: Map<number, TrackFacts>, first: Span, last: Span): Promise<number | undefined> {
  const id = primaryTrackId(tracks);
  const timing = async (s: Span) => parseMoof(await readAt(fh, s.start, s.size), 0, tracks).find((t) => t.trackId === id);
  try {
    const a = await timing(first);
    const b = await timing(last);
    if (!a || !b) return undefined;
    return Math.round(((b.tfdt + b.duration - a.tfdt) * 1000) / tracks.get(id)!.timescale);
  } catch {
    return undefined;
  }
}
