/**
 * Hand-made LL-HLS for the checker's own tests: a tiny playlist writer (parts of 0.5 s, four
 * to a 2-s segment) whose output conforms, so tests can break one thing at a time by editing
 * it, and a scripted HTTP server that serves such a stream to the follower, with faults to
 * switch on. Time on the server moves by requests, not by the clock: a blocking request for a
 * part that does not exist yet makes it exist, so the follower's tests take milliseconds.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What renderPlaylist writes; every field has a conforming default. */
export interface Shape {
  /** MSN of the first listed segment (after any skipped). */
  firstMsn?: number;
  /** Complete segments, counting skipped ones. */
  segments?: number;
  /** Parts of the parent still in progress (less than partsPerSegment). */
  openParts?: number;
  /** Write parts, PART-INF and hints at all (false: a low/normal-style playlist). */
  parts?: boolean;
  /** Complete segments, from the end, whose parts are listed. */
  partsForLast?: number;
  /** Leading segments replaced by EXT-X-SKIP. */
  skipped?: number;
  ended?: boolean;
  /** Extra lines at the end (rendition reports). */
  tail?: string[];
  /** Segments that start with EXT-X-DISCONTINUITY (and a new EXT-X-MAP). */
  discontinuityAt?: number[];
  discontinuitySequence?: number;
}

/** The synthetic stream's timing: four 0.5-s parts to a 2-s segment. */
export const PARTS_PER_SEGMENT = 4;
export const PART_SEC = 0.5;
export const TARGET_SEC = 2;
const START_MS = Date.UTC(2026, 0, 1);

const sec = (s: number) => s.toFixed(3);

/** A conforming media playlist of the given shape; URIs `v/<msn>.m4s`, `v/<msn>.<part>.m4s`. */
export function renderPlaylist(shape: Shape = {}): string {
  const s = { firstMsn: 100, segments: 3, openParts: 2, parts: true, partsForLast: 2, skipped: 0, ended: false, tail: [], discontinuityAt: [], discontinuitySequence: 0, ...shape };
  const out = ['#EXTM3U', `#EXT-X-VERSION:${s.skipped > 0 ? 9 : 6}`, `#EXT-X-TARGETDURATION:${TARGET_SEC}`];
  out.push(s.parts
    ? `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${3 * PART_SEC},HOLD-BACK=${3 * TARGET_SEC},CAN-SKIP-UNTIL=${6 * TARGET_SEC}`
    : `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,HOLD-BACK=${3 * TARGET_SEC},CAN-SKIP-UNTIL=${6 * TARGET_SEC}`);
  if (s.parts) out.push(`#EXT-X-PART-INF:PART-TARGET=${PART_SEC}`);
  out.push(`#EXT-X-MEDIA-SEQUENCE:${s.firstMsn - s.skipped}`, `#EXT-X-DISCONTINUITY-SEQUENCE:${s.discontinuitySequence}`);
  if (s.skipped > 0) out.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${s.skipped}`);
  const msn0 = s.firstMsn - s.skipped;
  // The init section of a segment: a new one from each discontinuity on, whatever the window shows.
  const initOf = (msn: number) => 1 + s.discontinuityAt.filter((m) => m <= msn).length;
  const segmentLines = (msn: number, parts: number, listParts: boolean, firstListed: boolean) => {
    const discontinuity = s.discontinuityAt.includes(msn);
    // The first segment of the playlist carries no DISCONTINUITY: DISCONTINUITY-SEQUENCE counts it.
    if (discontinuity && msn !== msn0) out.push('#EXT-X-DISCONTINUITY');
    if (firstListed || discontinuity) out.push(`#EXT-X-MAP:URI="v/init-${initOf(msn)}.mp4"`);
    out.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(START_MS + (msn - 100) * TARGET_SEC * 1000).toISOString()}`);
    if (listParts) {
      for (let i = 0; i < parts; i++) out.push(`#EXT-X-PART:DURATION=${sec(PART_SEC)},URI="v/${msn}.${i}.m4s"${i === 0 ? ',INDEPENDENT=YES' : ''}`);
    }
  };
  for (let k = s.skipped; k < s.segments; k++) {
    const msn = msn0 + k;
    segmentLines(msn, PARTS_PER_SEGMENT, s.parts && k >= s.segments - s.partsForLast, k === s.skipped);
    out.push(`#EXTINF:${sec(PARTS_PER_SEGMENT * PART_SEC)},`, `v/${msn}.m4s`);
  }
  const openMsn = msn0 + s.segments;
  if (s.ended) {
    out.push('#EXT-X-ENDLIST');
  } else if (s.parts) {
    if (s.openParts > 0) segmentLines(openMsn, s.openParts, true, s.segments === s.skipped);
    out.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="v/${openMsn}.${s.openParts}.m4s"`);
  }
  out.push(...s.tail);
  return out.join('\n') + '\n';
}

/** `text` with `from` replaced by `to`; throws when `from` is not there, so a test cannot break nothing. */
export function edit(text: string, from: string | RegExp, to: string): string {
  const next = text.replace(from, to);
  if (next === text) throw new Error(`edit: ${String(from)} not found in the playlist`);
  return next;
}

/** Things the scripted server can get wrong, one switch each. */
export interface Faults {
  /** The preload hint always names part 0 of the next segment. */
  wrongHint?: boolean;
  /** Rendition reports lag their rendition by three parts. */
  staleReports?: boolean;
  /** Blocking requests with _HLS_part get 400. */
  refuseBlocking?: boolean;
  /** Blocking requests are answered at once, without the part asked for. */
  premature?: boolean;
  /** Blocking requests get 503, as after 3 × TARGETDURATION without the part. */
  unavailable?: boolean;
  /** Parts answer 404. */
  missingParts?: boolean;
  /** A segment's bytes are not its parts' bytes back to back. */
  segmentNotParts?: boolean;
}

/**
 * A two-rendition LL-HLS stream (`a.m3u8`, `b.m3u8`) behind `index.m3u8`, on 127.0.0.1. The
 * stream starts with 26 parts (six and a half segments) and grows when a blocking request asks
 * for more; `_HLS_skip=YES` skips what lies beyond the 12-s Skip Boundary.
 */
export class SyntheticOrigin {
  /** Parts produced since MSN 100 part 0. */
  produced = 26;
  /** Requests received, by path and query. */
  readonly requests: string[] = [];
  private server: Server | undefined;

  /** `ended`: the stream is over (ENDLIST, directives ignored), as a catchup playlist. */
  constructor(private readonly faults: Faults = {}, private readonly ended = false) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url!, 'http://x');
    this.requests.push(url.pathname + url.search);
    const send = (status: number, body: string | Buffer) => {
      res.writeHead(status, { 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (url.pathname === '/index.m3u8') {
      return send(200, '#EXTM3U\n#EXT-X-VERSION:6\n'
        + '#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=30.000\na.m3u8\n'
        + '#EXT-X-STREAM-INF:BANDWIDTH=400000,CODECS="avc1.42c015,mp4a.40.2",RESOLUTION=426x240,FRAME-RATE=30.000\nb.m3u8\n');
    }
    const playlist = /^\/([ab])\.m3u8$/.exec(url.pathname);
    if (playlist) return this.playlist(playlist[1], url.searchParams, send);
    const part = /^\/v\/(\d+)\.(\d+)\.m4s$/.exec(url.pathname);
    if (part) return this.faults.missingParts ? send(404, 'no') : send(200, partBytes(+part[1], +part[2]));
    const segment = /^\/v\/(\d+)\.m4s$/.exec(url.pathname);
    if (segment) {
      const whole = Buffer.concat(Array.from({ length: PARTS_PER_SEGMENT }, (_, i) => partBytes(+segment[1], i)));
      return send(200, this.faults.segmentNotParts ? Buffer.concat([whole, Buffer.from('!')]) : whole);
    }
    if (/^\/v\/init-\d+\.mp4$/.test(url.pathname)) return send(200, 'init');
    send(404, 'not found');
  }

  private playlist(name: string, query: URLSearchParams, send: (status: number, body: string) => void): void {
    const msn = query.get('_HLS_msn'), part = query.get('_HLS_part');
    if (msn !== null && !this.ended) {
      if (this.faults.unavailable) return send(503, 'not in time');
      if (part !== null && this.faults.refuseBlocking) return send(400, 'no');
      // Parts counted from MSN 100 part 0; a part index past the end of its segment means the next segment's part 0.
      const wanted = (Number(msn) - 100) * PARTS_PER_SEGMENT + (part === null ? PARTS_PER_SEGMENT : Math.min(Number(part), PARTS_PER_SEGMENT) + 1);
      if (!this.faults.premature) this.produced = Math.max(this.produced, wanted);
    }
    const segments = Math.floor(this.produced / PARTS_PER_SEGMENT);
    const openParts = this.produced % PARTS_PER_SEGMENT;
    const skip = query.get('_HLS_skip') === 'YES' && !this.ended;
    // Segments ending further than CAN-SKIP-UNTIL (12 s = 6 segments) from the end of the open parent.
    const end = segments * TARGET_SEC + openParts * PART_SEC;
    let skipped = 0;
    while (skip && skipped < segments && end - (skipped + 1) * TARGET_SEC > 6 * TARGET_SEC) skipped++;
    const other = name === 'a' ? 'b' : 'a';
    const reported = this.produced - 1 - (this.faults.staleReports ? 3 : 0);
    const tail = [`#EXT-X-RENDITION-REPORT:URI="${other}.m3u8",LAST-MSN=${100 + Math.floor(reported / PARTS_PER_SEGMENT)},LAST-PART=${reported % PARTS_PER_SEGMENT}`];
    let text = this.ended
      ? renderPlaylist({ segments, ended: true })
      : renderPlaylist({ firstMsn: 100 + skipped, segments, openParts, skipped, partsForLast: 3, tail });
    if (this.faults.wrongHint) text = text.replace(/#EXT-X-PRELOAD-HINT:TYPE=PART,URI="[^"]*"/, `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="v/${100 + segments + 1}.0.m4s"`);
    send(200, text);
  }
}

/** A part's bytes: its name, so a segment is recognisably its parts back to back. */
function partBytes(msn: number, index: number): Buffer {
  return Buffer.from(`[part ${msn}.${index}]`);
}
