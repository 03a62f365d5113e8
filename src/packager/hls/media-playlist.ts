/**
 * Media playlist rendering: a pure function from a window view to playlist text.
 * No I/O, no clock: everything time-dependent comes in through the view.
 * Rules cited as in docs/llhls-checklist.md (draft-pantos-hls-rfc8216bis-20 sections).
 */

export interface PlaylistPart {
  index: number;
  durationMs: number;
  independent: boolean;
  /** GAP=YES: no media (no input was on air). */
  gap?: boolean;
}

export interface PlaylistSegment {
  msn: number;
  initId: number;
  discontinuity: boolean;
  programDateTimeMs: number;
  /** Start on the publisher's media clock, milliseconds (the cutter's time grid). */
  startMs: number;
  parts: readonly PlaylistPart[];
  durationMs: number;
  complete: boolean;
  /** EXT-X-GAP: the segment has no media (no input was on air). */
  gap?: boolean;
}

export interface RenditionReport {
  /** URI relative to the media playlist (RR-01), without query. */
  uri: string;
  lastMsn: number;
  lastPart?: number;
}

/** Fixed per rendition for the life of a channel: never changes between reloads (SC-08, TD-03). */
export interface MediaPlaylistConfig {
  targetDurationSec: number;
  /** Advertised PART-TARGET in seconds; undefined for playlists without parts. */
  partTargetSec?: number;
  partHoldBackSec?: number;
  holdBackSec: number;
  canSkipUntilSec: number;
  /** Resource names relative to the playlist; the query suffix is appended by render(). */
  initUri: (initId: number) => string;
  segmentUri: (msn: number) => string;
  partUri: (msn: number, index: number) => string;
}

export interface PlaylistView {
  segments: readonly PlaylistSegment[];
  discontinuitySequence: number;
  ended: boolean;
  renditionReports: readonly RenditionReport[];
}

export type SkipRequest = 'NO' | 'YES' | 'v2';

export interface RenderOptions {
  skip: SkipRequest;
  /** Query string carried onto every URI (tokens), including its leading '?', or ''. */
  querySuffix: string;
}

/** Seconds with up to 5 decimals, trailing zeros trimmed (EXTINF, PART DURATION). */
export function fmtSec(ms: number): string {
  // Durations repeat (every segment of a steady stream is as long as the last): a long DVR
  // playlist formats the same value thousands of times, so the last answer is kept.
  if (ms !== lastSecMs) { lastSecMs = ms; lastSecText = (ms / 1000).toFixed(5).replace(/0+$/, '').replace(/\.$/, '.0'); }
  return lastSecText;
}
let lastSecMs = NaN, lastSecText = '';

/**
 * ISO 8601 UTC with milliseconds, as Date.toISOString, for PROGRAM-DATE-TIME. Consecutive
 * segments share their hour, whose "YYYY-MM-DDTHH:" is formatted once and kept: rendering a
 * 6-hour DVR playlist formats 10 800 of these, and a Date per segment was its main cost.
 */
export function isoTime(epochMs: number): string {
  const ms = Math.floor(epochMs);
  const hourStart = ms - (ms % 3_600_000);
  if (hourStart !== isoHourStart) { isoHourStart = hourStart; isoHourPrefix = new Date(hourStart).toISOString().slice(0, 14); }
  const inHour = ms - hourStart;
  const min = Math.floor(inHour / 60_000), sec = Math.floor((inHour % 60_000) / 1000), milli = inHour % 1000;
  return `${isoHourPrefix}${min < 10 ? '0' : ''}${min}:${sec < 10 ? '0' : ''}${sec}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}
let isoHourStart = NaN, isoHourPrefix = '';
export const fmtAttrSec = (s: number): string => (Math.round(s * 1000) / 1000).toString();

const spanMs = (seg: PlaylistSegment): number => (seg.complete ? seg.durationMs : seg.parts.reduce((s, p) => s + p.durationMs, 0));

/**
 * Index of the first segment whose end lies within limitMs of the end of the playlist: walks
 * back from the live edge and stops there, so the cost does not grow with the window.
 */
function firstEndingWithin(view: PlaylistView, limitMs: number): number {
  let fromEndMs = 0;
  let i = view.segments.length;
  while (i > 0 && fromEndMs <= limitMs) fromEndMs += spanMs(view.segments[--i]);
  return i;
}

/** Parts are listed only for segments whose end is within 3 target durations of the playlist end (PT-13). */
function partsListedFrom(view: PlaylistView, cfg: MediaPlaylistConfig): number {
  return cfg.partTargetSec === undefined ? Infinity : firstEndingWithin(view, 3 * cfg.targetDurationSec * 1000);
}

/**
 * Number of leading complete segments a delta update may replace with EXT-X-SKIP: those ending
 * further than the Skip Boundary from the end of the last (parent) segment (§6.2.5.1).
 */
function skippableCount(view: PlaylistView, cfg: MediaPlaylistConfig): number {
  let n = firstEndingWithin(view, cfg.canSkipUntilSec * 1000);
  while (n > 0 && !view.segments[n - 1].complete) n--;
  return n;
}

/** Settled segments per cached block: a 6-hour window of 2-s segments is ~42 blocks. */
export const SETTLED_BLOCK_SEGMENTS = 256;

/** A run of settled segments whose lines were rendered once and are kept by a SettledBlockCache. */
export interface SettledBlock {
  readonly firstMsn: number;
  /** The init id in force before the block (decides the block's first EXT-X-MAP). */
  readonly initBefore: number;
}

/**
 * Where blocks are kept between renders (one per rendition's window), in whatever form the
 * keeper likes (playlist-responder.ts keeps them compressed).
 */
export interface SettledBlockCache<B extends SettledBlock> {
  get(firstMsn: number): B | undefined;
  /** Keeps the lines (ending with a newline) of a new block; returns it. */
  put(firstMsn: number, initBefore: number, text: string): B;
}

export function renderMediaPlaylist(view: PlaylistView, cfg: MediaPlaylistConfig, opts: RenderOptions): string {
  return renderMediaPlaylistPieces(view, cfg, opts).join('');
}

/**
 * The playlist as text pieces and cached blocks of settled segments (given a block cache): a
 * long DVR window then costs its few live-edge lines per render, and the caller can reuse each
 * block's compressed form too. The blocks carry the query suffix in their URIs, so the cache
 * given must be the one kept for `opts.querySuffix`.
 */
export function renderMediaPlaylistPieces<B extends SettledBlock = never>(view: PlaylistView, cfg: MediaPlaylistConfig,
  opts: RenderOptions, blocks?: SettledBlockCache<B>): (string | B)[] {
  const q = opts.querySuffix;
  const segs = view.segments;
  const hasParts = cfg.partTargetSec !== undefined;
  // Delta updates only when the playlist can skip and is still live (DU-05).
  const skipped = opts.skip !== 'NO' && !view.ended ? skippableCount(view, cfg) : 0;
  const out: string[] = ['#EXTM3U'];
  // VERSION: 6 for EXT-X-MAP without I-FRAMES-ONLY; 9 once EXT-X-SKIP is present (VER-03).
  out.push(`#EXT-X-VERSION:${skipped > 0 ? 9 : 6}`);
  out.push(`#EXT-X-TARGETDURATION:${cfg.targetDurationSec}`);
  const sc = ['CAN-BLOCK-RELOAD=YES'];
  if (hasParts) sc.push(`PART-HOLD-BACK=${fmtAttrSec(cfg.partHoldBackSec!)}`);
  sc.push(`HOLD-BACK=${fmtAttrSec(cfg.holdBackSec)}`, `CAN-SKIP-UNTIL=${fmtAttrSec(cfg.canSkipUntilSec)}`);
  out.push(`#EXT-X-SERVER-CONTROL:${sc.join(',')}`);
  if (hasParts) out.push(`#EXT-X-PART-INF:PART-TARGET=${fmtAttrSec(cfg.partTargetSec!)}`);
  out.push(`#EXT-X-MEDIA-SEQUENCE:${segs.length > 0 ? segs[0].msn : 1}`);
  // Always present: live content may contain discontinuities at any reconnect (MS-03, AAS 8.17).
  out.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${view.discontinuitySequence}`);
  // Header tags stay before EXT-X-SKIP (SK-05).
  if (skipped > 0) {
    out.push(opts.skip === 'v2'
      ? `#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped},RECENTLY-REMOVED-DATERANGES=""`
      : `#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}`);
  }
  const partsFrom = partsListedFrom(view, cfg);
  const pieces: (string | B)[] = [];
  let currentInit = -1;
  for (let i = skipped; i < segs.length; i++) {
    const seg = segs[i];
    const block = blocks && i > skipped ? settledBlock(segs, i, partsFrom, currentInit, cfg, q, blocks) : undefined;
    if (block) {
      if (out.length > 0) pieces.push(out.splice(0).join('\n') + '\n');
      pieces.push(block);
      i += SETTLED_BLOCK_SEGMENTS - 1;
      currentInit = segs[i].initId;
      continue;
    }
    currentInit = pushSegment(out, seg, i, i >= partsFrom, currentInit, cfg, q);
  }
  if (view.ended) {
    out.push('#EXT-X-ENDLIST');
  } else if (hasParts) {
    const next = nextPartOf(segs);
    if (next) out.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${cfg.partUri(next.msn, next.index)}${q}"`);
  }
  if (!view.ended) {
    for (const r of view.renditionReports) {
      out.push(`#EXT-X-RENDITION-REPORT:URI="${r.uri}${q}",LAST-MSN=${r.lastMsn}${r.lastPart !== undefined ? `,LAST-PART=${r.lastPart}` : ''}`);
    }
  }
  if (out.length > 0) pieces.push(out.join('\n') + '\n');
  return pieces;
}

/** The lines of segment i (index in the listed segments); returns the init id now in force. */
function pushSegment(out: string[], seg: PlaylistSegment, i: number, listParts: boolean, currentInit: number, cfg: MediaPlaylistConfig, q: string): number {
  // A segment in progress shows only through its parts: without them it has no line of its own
  // yet, and its tags (PROGRAM-DATE-TIME, MAP) would dangle at the end of the playlist.
  if (!seg.complete && !listParts) return currentInit;
  if (seg.discontinuity && i > 0) out.push('#EXT-X-DISCONTINUITY');
  // EXT-X-MAP before the first listed segment and wherever the init changes (MAP-02, PT-07).
  if (seg.initId !== currentInit) {
    out.push(`#EXT-X-MAP:URI="${cfg.initUri(seg.initId)}${q}"`);
    currentInit = seg.initId;
  }
  out.push(`#EXT-X-PROGRAM-DATE-TIME:${isoTime(seg.programDateTimeMs)}`);
  if (listParts) {
    for (const p of seg.parts) {
      out.push(`#EXT-X-PART:DURATION=${fmtSec(p.durationMs)},URI="${cfg.partUri(seg.msn, p.index)}${q}"${p.independent ? ',INDEPENDENT=YES' : ''}${p.gap ? ',GAP=YES' : ''}`);
    }
  }
  if (seg.complete) {
    // Its URI stays (a segment line needs one); players do not load it (§4.4.4.7), the origin answers 404.
    if (seg.gap) out.push('#EXT-X-GAP');
    out.push(`#EXTINF:${fmtSec(seg.durationMs)},`);
    out.push(`${cfg.segmentUri(seg.msn)}${q}`);
  }
  return currentInit;
}

/**
 * The cached block of SETTLED_BLOCK_SEGMENTS segments starting at listed index i, when one may
 * stand there: aligned on the MSN grid, all complete and outside the part zone, and not the
 * first rendered segment (whose MAP and DISCONTINUITY depend on its position). Its lines then
 * depend only on its segments and on the init before it, which never change while it is listed.
 */
function settledBlock<B extends SettledBlock>(segs: readonly PlaylistSegment[], i: number, partsFrom: number, currentInit: number,
  cfg: MediaPlaylistConfig, q: string, blocks: SettledBlockCache<B>): B | undefined {
  const seg = segs[i];
  const lastIndex = i + SETTLED_BLOCK_SEGMENTS - 1;
  if (seg.msn % SETTLED_BLOCK_SEGMENTS !== 0 || lastIndex >= Math.min(partsFrom, segs.length) || !segs[lastIndex].complete) return undefined;
  let block = blocks.get(seg.msn);
  if (!block || block.initBefore !== currentInit) {
    const lines: string[] = [];
    let init = currentInit;
    for (let k = i; k <= lastIndex; k++) init = pushSegment(lines, segs[k], k, false, init, cfg, q);
    block = blocks.put(seg.msn, currentInit, lines.join('\n') + '\n');
  }
  return block;
}

/**
 * The part the preload hint names (PH-05, PH-02): index 0 of the next MSN once the last segment
 * is complete, else the next index of the open segment. Certain, not predicted: the cutter marks
 * the part that closes a segment when it cuts it (CmafPart.segmentEnd) and the window closes the
 * segment right then, so an open segment always continues with its next index. Only a publisher
 * that leaves abandons the hinted part (PHS-04: its request then gets a 404).
 *
 * None while the playlist ends in a gap (no input on air): the next part is most likely another
 * gap, which a player must not load, and the first part of a returning input comes with a new
 * init, which a hint under the old EXT-X-MAP would misname.
 */
export function nextPartOf(segs: readonly PlaylistSegment[]): { msn: number; index: number } | undefined {
  const last = segs[segs.length - 1];
  if (!last || last.gap) return undefined;
  return last.complete ? { msn: last.msn + 1, index: 0 } : { msn: last.msn, index: last.parts.length };
}

/** The newest (msn, part) a rendition report announces for a view (RR-02, RR-03). */
export function reportFor(uri: string, segs: readonly PlaylistSegment[], withParts: boolean): RenditionReport | undefined {
  const last = segs[segs.length - 1];
  if (!last) return undefined;
  if (!withParts) {
    const done = last.complete ? last : segs[segs.length - 2];
    return done ? { uri, lastMsn: done.msn } : undefined;
  }
  if (last.parts.length === 0) return undefined;
  return { uri, lastMsn: last.msn, lastPart: last.parts.length - 1 };
}
