import type { Rendition } from '../media/channel.js';
import type { LiveWindow } from '../store/live-window.js';
import { OriginError } from '../errors.js';
import { cachePolicy } from './cache-policy.js';
import { errorReply } from './error-reply.js';
import { nextPartOf } from '../packager/hls/media-playlist.js';
import type { OriginReply, OriginRequest } from './types.js';
import type { CancelSignal } from '../cancellation.js';
import type { ArchiveFiles } from '../store/archive/archive-files.js';
import { hourKey } from '../store/archive/archive-layout.js';

export const SEGMENT_TYPE = 'video/iso.segment';
export const INIT_TYPE = 'video/mp4';

/** A parsed Range header: bytes=start-end (end inclusive, undefined when open). */
export interface ByteRange { start: number; end?: number }

/** Parses a single-range `bytes=` header; multi-range and suffix ranges are not served (answered whole). */
export function parseRange(header: string | undefined): ByteRange | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d{1,16})-(\d{0,16})$/.exec(header.trim());
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = m[2] === '' ? undefined : Number(m[2]);
  if (end !== undefined && end < start) return undefined;
  return { start, end };
}

/** Slices a list of buffers to [start, end] without copying whole buffers. */
function sliceBuffers(bufs: readonly Buffer[], start: number, endInclusive: number): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  for (const b of bufs) {
    const bStart = pos, bEnd = pos + b.length;
    pos = bEnd;
    if (bEnd <= start || bStart > endInclusive) continue;
    out.push(b.subarray(Math.max(0, start - bStart), Math.min(b.length, endInclusive + 1 - bStart)));
  }
  return out;
}

/** Sends a complete resource, honouring a byte range (206/416). */
function whole(req: OriginRequest, bufs: readonly Buffer[], contentType: string, cacheControl: string): OriginReply {
  const total = bufs.reduce((s, b) => s + b.length, 0);
  const reply = rangeReply(req, total, contentType, cacheControl);
  if (reply.status === 200) reply.body = bufs.length === 1 ? bufs[0] : bufs;
  else if (reply.status === 206) reply.body = sliceBuffers(bufs, reply.range!.start, reply.range!.end);
  return reply;
}

/** Status and headers for a resource of `total` bytes given the request's Range; the body is the caller's. */
function rangeReply(req: OriginRequest, total: number, contentType: string, cacheControl: string): OriginReply & { range?: { start: number; end: number } } {
  const headers: Record<string, string> = { 'content-type': contentType, 'cache-control': cacheControl, 'accept-ranges': 'bytes' };
  const range = parseRange(req.header('range'));
  if (!range) return { status: 200, headers };
  if (range.start >= total) return { status: 416, headers: { ...headers, 'content-range': `bytes */${total}` } };
  const end = Math.min(range.end ?? total - 1, total - 1);
  headers['content-range'] = `bytes ${range.start}-${end}/${total}`;
  return { status: 206, headers, range: { start: range.start, end } };
}

/**
 * Sends an archived file of `total` bytes (a DVR or catchup segment), honouring a byte range.
 * The bytes are read off the event loop; a file deleted by retention meanwhile is a 404.
 */
export async function fromDisk(req: OriginRequest, file: { files: ArchiveFiles; path: string }, total: number, contentType: string, cacheControl: string): Promise<OriginReply> {
  const { range, ...reply } = rangeReply(req, total, contentType, cacheControl);
  if (reply.status === 416) return reply;
  const start = range?.start ?? 0, end = range ? range.end + 1 : total;
  if (req.method === 'HEAD') {
    reply.headers['content-length'] = String(end - start);
    return reply;
  }
  const data = await file.files.read(file.path, start, end);
  if (!data || data.length !== end - start) throw new OriginError('EXPIRED', 'the archived segment is gone');
  reply.body = data;
  return reply;
}

export class MediaResponder {
  constructor(private readonly targetDurationSec: (w: LiveWindow) => number) {}

  init(req: OriginRequest, r: Rendition, initId: number): OriginReply {
    const data = r.window.init(initId);
    if (!data) throw new OriginError('NOT_FOUND', `init-${initId}.mp4`);
    return whole(req, [data], INIT_TYPE, cachePolicy.immutableMedia);
  }

  /**
   * A part: sent at once when it exists; when it is the part the playlist hints next, the
   * request is held until the part is complete and then sent at full speed (§6.2.6, PHS-01/02).
   */
  part(req: OriginRequest, r: Rendition, msn: number, index: number): OriginReply | Promise<OriginReply> {
    const w = r.window;
    const part = w.part(msn, index);
    const td = this.targetDurationSec(w);
    if (part) return part.gap ? errorReply('GAP', cachePolicy.blockingMediaError(td)) : whole(req, [part.data], SEGMENT_TYPE, cachePolicy.immutableMedia);
    if (!isHinted(w, msn, index)) {
      return errorReply('NOT_HINTED', cachePolicy.blockingMediaError(td));
    }
    // The hint was made for media decoded with the init in force now. When the publisher comes
    // back with another codec configuration, its first part takes the hinted name but needs the
    // new init, which the playlist announces with EXT-X-MAP after a discontinuity: a player
    // holding this request appends it with the old one (Shaka did: garbage or a stuck picture),
    // so the hinted part then counts as abandoned (PHS-04). A reconnect with the same
    // configuration writes the same init bytes, and its part is served.
    const initOfHint = w.init(w.segments[w.segments.length - 1]?.initId ?? -1);
    return w.waitFor(msn, index, 3 * td * 1000, req.signal).then((result) => {
      if (result === 'aborted') throw new OriginError('NOT_FOUND');
      const done = w.part(msn, index);
      if (done?.gap) return errorReply('GAP', cachePolicy.blockingMediaError(td));
      const init = done && w.init(w.segment(msn)!.initId);
      if (done && init && initOfHint?.equals(init)) return whole(req, [done.data], SEGMENT_TYPE, cachePolicy.immutableMedia);
      // The segment closed before reaching this index: the hinted part was abandoned (PHS-04).
      return result === 'timeout' ? errorReply('BLOCK_TIMEOUT', cachePolicy.noStore)
        : errorReply('NOT_HINTED', cachePolicy.blockingMediaError(td));
    });
  }

  /**
   * A segment: the list of its parts when complete. The segment still being produced is
   * streamed part by part as each completes (chunked transfer), each part only once it is
   * whole (§6.2.6); a Range with an open end works the same way from its start offset.
   */
  async segment(req: OriginRequest, r: Rendition, msn: number): Promise<OriginReply> {
    const w = r.window;
    const seg = w.segment(msn);
    if (!seg) throw new OriginError(msn < (w.segments[0]?.msn ?? 0) ? 'EXPIRED' : 'NOT_FOUND', `${msn}.m4s`);
    if (seg.gap) throw new OriginError('GAP', `${msn}.m4s`);
    // Further back than the hot edge, the bytes are in the archive (DVR).
    if (seg.complete && seg.parts.length === 0 && seg.archive === 'stored' && r.archive) {
      const path = r.archive.segmentPath({ hour: hourKey(seg.programDateTimeMs), msn });
      return fromDisk(req, { files: r.archive.files, path }, seg.bytes, SEGMENT_TYPE, cachePolicy.immutableMedia);
    }
    if (seg.complete) return whole(req, seg.parts.map((p) => p.data), SEGMENT_TYPE, cachePolicy.immutableMedia);
    const range = parseRange(req.header('range'));
    const headers: Record<string, string> = { 'content-type': SEGMENT_TYPE, 'cache-control': cachePolicy.noStore };
    if (range) {
      // RFC 8673: a range on a growing resource; the total length is unknown until it completes.
      headers['content-range'] = `bytes ${range.start}-${range.end ?? 9007199254740991}/*`;
    }
    const end = range?.end !== undefined ? range.end + 1 : Infinity;
    const body = streamSegment(w, msn, range?.start ?? 0, end, 3 * this.targetDurationSec(w) * 1000, req.signal);
    return { status: range ? 206 : 200, headers, body };
  }
}

/** Whether (msn, index) is the part the live playlist's preload hint names now (PHS-01, PHS-03). */
function isHinted(w: LiveWindow, msn: number, index: number): boolean {
  if (w.ended) return false;
  const next = nextPartOf(w.segments);
  return next !== undefined && msn === next.msn && index === next.index;
}

/** Yields bytes [start, end) of a segment, each part as soon as it is complete. */
async function* streamSegment(w: LiveWindow, msn: number, start: number, end: number, waitMs: number, signal: CancelSignal): AsyncIterable<Buffer> {
  let next = 0;
  let pos = 0;
  for (;;) {
    const seg = w.segment(msn);
    if (!seg) return;
    while (next < seg.parts.length) {
      const data = seg.parts[next++].data;
      const from = Math.max(0, start - pos), to = Math.min(data.length, end - pos);
      pos += data.length;
      if (from < to) yield from === 0 && to === data.length ? data : data.subarray(from, to);
      if (pos >= end) return;
    }
    if (seg.complete) return;
    const r = await w.waitFor(msn, next, waitMs, signal);
    if (r !== 'ready') return;
  }
}

