import type { TileRecord } from './thumbnail-layout.js';

/** A stretch of a playlist's timeline: a segment's wall-clock start and its media duration. */
export interface TimelineSegment {
  programDateTimeMs: number;
  durationMs: number;
}

export interface PreviewVttOptions {
  /** The segments of the playlist the track goes with, oldest first: its timeline. */
  segments: readonly TimelineSegment[];
  /** The URI of a sheet, as the track lists it (relative to the track's own URL). */
  sheetUri: (sheetId: number) => string;
  /** The preview interval: how long the newest tile's cue lasts (no tile follows it yet). */
  intervalMs: number;
}

/**
 * The WebVTT thumbnails track of a playlist: one cue per preview tile, from the tile's time to
 * the next tile's, its text the sheet URI with a `#xywh=x,y,w,h` media fragment (what video.js,
 * Shaka, JW Player and Plyr read).
 *
 * Cue times are on the playlist's timeline, 0 being the start of its first segment, which is
 * where players put time 0 of a live DVR window or a catchup playlist. Tiles are placed through
 * the segments (the one holding the tile's wall-clock time, plus the offset into it), not by
 * wall clock alone: where the publisher was away, wall time jumps but the timeline does not.
 * The tile taken just before the first segment covers the timeline's start; tiles outside every
 * segment are left out. A NOTE gives the PROGRAM-DATE-TIME of time 0 for players that map by it.
 */
export function renderPreviewVtt(tiles: readonly TileRecord[], o: PreviewVttOptions): string {
  const segs = o.segments;
  let out = 'WEBVTT\n\n';
  if (segs.length === 0) return out;
  out += `NOTE time 0 is PROGRAM-DATE-TIME ${new Date(segs[0].programDateTimeMs).toISOString()}\n\n`;
  const placed = placeTiles(tiles, segs);
  for (let i = 0; i < placed.length; i++) {
    const { at, tile } = placed[i];
    const next = i + 1 < placed.length ? placed[i + 1].at : at + o.intervalMs;
    out += `${vttTime(at)} --> ${vttTime(next)}\n${o.sheetUri(tile.sheetId)}#xywh=${tile.x},${tile.y},${tile.width},${tile.height}\n\n`;
  }
  return out;
}

/** Each tile's position on the timeline (ms), in order; tiles are sorted by time. */
function placeTiles(tiles: readonly TileRecord[], segs: readonly TimelineSegment[]): { at: number; tile: TileRecord }[] {
  const out: { at: number; tile: TileRecord }[] = [];
  let before: TileRecord | undefined;
  let s = 0, segStartAt = 0;
  for (const tile of tiles) {
    if (tile.timeMs < segs[0].programDateTimeMs) { before = tile; continue; }
    // Advance to the last segment starting at or before the tile (both lists are in time order).
    while (s + 1 < segs.length && segs[s + 1].programDateTimeMs <= tile.timeMs) segStartAt += segs[s++].durationMs;
    const seg = segs[s];
    const offset = tile.timeMs - seg.programDateTimeMs;
    // Past the segment's end: the publisher was away (no media there), unless it is the newest segment
    // still growing, whose duration the caller may not know yet.
    if (offset >= seg.durationMs && s + 1 < segs.length) continue;
    if (before && out.length === 0) out.push({ at: 0, tile: before });
    if (out.length > 0 && segStartAt + offset <= out[out.length - 1].at) continue;
    out.push({ at: segStartAt + offset, tile });
  }
  if (out.length === 0 && before) out.push({ at: 0, tile: before });
  return out;
}

/** hh:mm:ss.ttt (hours grow past 99 if they must). */
export function vttTime(ms: number): string {
  const t = Math.round(ms);
  const h = Math.floor(t / 3_600_000), m = Math.floor(t / 60_000) % 60, s = Math.floor(t / 1000) % 60, f = t % 1000;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(f).padStart(3, '0')}`;
}
