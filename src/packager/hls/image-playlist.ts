/**
 * HLS image media playlists (pure): the Image Media Playlist extension (v0.4, Roku / Disney /
 * Warner; read by Shaka Player and Roku OS). The live image playlist lists one segment per
 * preview tile, each a JPEG of that tile alone:
 *
 *   #EXT-X-IMAGES-ONLY
 *   #EXT-X-PROGRAM-DATE-TIME:<wall-clock time of the tile's keyframe>
 *   #EXT-X-TILES:RESOLUTION=<tile WxH>,LAYOUT=1x1,DURATION=<seconds the tile stands for>
 *   #EXTINF:<the same seconds>,
 *   previews/tiles/<epochMs>.jpg
 *
 * so that its segments are as short as the video's and its TARGETDURATION, HOLD-BACK and
 * PART-HOLD-BACK can be the video playlist's (TD-04, SC-02; docs/adr/005-image-playlist-timing.md).
 * The multivariant playlist names it with EXT-X-IMAGE-STREAM-INF. The sprite sheets stay for
 * the WebVTT track (src/media/thumbnails/preview-vtt.ts).
 */
import { fmtAttrSec, fmtSec, isoTime } from './media-playlist.js';
import type { TileRecord } from '../../media/thumbnails/thumbnail-layout.js';

/** A segment of the video playlist the tiles go with, oldest first. */
export interface VideoSegment {
  programDateTimeMs: number;
  /** Its duration; for the segment still being cut, what its parts cover so far. */
  durationMs: number;
  /** EXT-X-DISCONTINUITY before it (a new publish session, or a hole in the archive). */
  discontinuity: boolean;
}

/** The video playlist the image playlist goes with. */
export interface VideoTimeline {
  segments: readonly VideoSegment[];
  /** Its EXT-X-DISCONTINUITY-SEQUENCE. */
  discontinuitySequence: number;
  /** EXT-X-ENDLIST: no media will follow. */
  ended: boolean;
}

/** One tile as a segment of the image playlist. */
export interface TileSegment {
  /** The tile's time (PROGRAM-DATE-TIME) and name, epoch ms. */
  timeMs: number;
  /** EXTINF and EXT-X-TILES DURATION. */
  durationMs: number;
  /** EXT-X-DISCONTINUITY before it: the video has one between this tile and the one listed before. */
  discontinuity: boolean;
  width: number;
  height: number;
}

export interface TilePlan {
  segments: TileSegment[];
  /** EXT-X-DISCONTINUITY-SEQUENCE: the video's discontinuity number of the first tile's stretch. */
  discontinuitySequence: number;
}

/** A run of video segments without a discontinuity: one publish session's media in the window. */
interface Stretch {
  number: number;
  startMs: number;
  endMs: number;
}

function stretchesOf(video: VideoTimeline): Stretch[] {
  const out: Stretch[] = [];
  for (const [i, s] of video.segments.entries()) {
    const end = s.programDateTimeMs + s.durationMs;
    // The first segment's own discontinuity is already counted in the sequence (the window counts it when the segment before it leaves).
    if (i === 0 || s.discontinuity) out.push({ number: video.discontinuitySequence + (i === 0 ? 0 : out.length), startMs: s.programDateTimeMs, endMs: end });
    else out[out.length - 1].endMs = end;
  }
  return out;
}

/**
 * The tiles (sorted by time, as ChannelThumbnails keeps them) that the image playlist lists, each
 * with a duration that never changes once listed, so a segment keeps its EXTINF across reloads
 * (MS-04, AV-02):
 *
 * - a tile starts at its keyframe's time and stands until the next tile of the same stretch of
 *   video (publish session); the last tile of a stretch that has ended (a discontinuity follows,
 *   or ENDLIST) stands until the stretch's last media;
 * - a tile is listed only once that end is known and the video playlist already lists media up
 *   to it: the newest tile waits for the next one (one preview interval behind the live edge;
 *   Shaka shows the last tile it has for later times);
 * - no tile stands for more than `targetDurationMs` (EXTINF ≤ TARGETDURATION, TD-02, with the
 *   video's TARGETDURATION, TD-04): a tile spaced further from the next (preview interval or
 *   keyframe interval above it) is listed for the target duration and leaves a hole in the
 *   image timeline up to the next tile's PROGRAM-DATE-TIME, which Shaka fills with the tile
 *   before (it looks a time up by the next segment's start);
 * - tiles taken before the video's first segment are left out (the window starts after them);
 * - a tile starting a later stretch than the tile before it carries EXT-X-DISCONTINUITY, and the
 *   playlist's discontinuity sequence is the video's for its first tile, so Shaka closes the
 *   publisher's absence in both timelines alike.
 */
export function planTiles(tiles: readonly TileRecord[], video: VideoTimeline, o: { targetDurationMs: number }): TilePlan {
  const stretches = stretchesOf(video);
  const plan: TilePlan = { segments: [], discontinuitySequence: stretches[0]?.number ?? video.discontinuitySequence };
  if (stretches.length === 0) return plan;
  const untilMs = stretches[stretches.length - 1].endMs;
  let s = 0, prevStretch = -1;
  for (let i = 0; i < tiles.length; i++) {
    const tile = tiles[i];
    if (tile.timeMs < stretches[0].startMs) continue;
    while (s + 1 < stretches.length && stretches[s + 1].startMs <= tile.timeMs) s++;
    const next = tiles[i + 1];
    const nextInStretch = next !== undefined && (s + 1 >= stretches.length || next.timeMs < stretches[s + 1].startMs);
    const stretchEnded = s + 1 < stretches.length || video.ended;
    const endMs = nextInStretch ? next.timeMs : stretchEnded ? stretches[s].endMs : undefined;
    // Not known yet, or beyond the media listed: listed on a later reload, and so is everything after it.
    if (endMs === undefined || endMs > untilMs) break;
    if (plan.segments.length === 0) plan.discontinuitySequence = stretches[s].number;
    plan.segments.push({
      timeMs: tile.timeMs, durationMs: Math.max(1, Math.min(endMs - tile.timeMs, o.targetDurationMs)),
      discontinuity: plan.segments.length > 0 && s !== prevStretch, width: tile.width, height: tile.height,
    });
    prevStretch = s;
  }
  return plan;
}

/** What the image playlist repeats of the video playlist's header (fixed for the channel's life, SC-08, TD-03). */
export interface VideoPlaylistTiming {
  targetDurationSec: number;
  holdBackSec: number;
  /** With parts (LL-HLS): PART-HOLD-BACK and PART-TARGET. */
  partHoldBackSec?: number;
  partTargetSec?: number;
}

export interface ImagePlaylistOptions {
  /** The first tile's media sequence number. */
  mediaSequence: number;
  /**
   * The video playlist's TARGETDURATION and EXT-X-SERVER-CONTROL hold-backs. Shaka loads the
   * image playlist before any video playlist (to size its tiles) and fixes its live delay from
   * that first playlist: HOLD-BACK, or, in its low-latency mode, PART-HOLD-BACK once it has
   * seen a PART-INF; so the image playlist repeats them, and the video's PART-TARGET as
   * EXT-X-PART-INF (it lists no parts; without CAN-BLOCK-RELOAD no player may block on one).
   * CAN-BLOCK-RELOAD and CAN-SKIP-UNTIL are left out: this playlist neither blocks nor skips.
   */
  video: VideoPlaylistTiming;
  /** EXT-X-ENDLIST: the playlist the previews go with has ended. */
  ended: boolean;
  /** URI of a tile's JPEG relative to the image playlist, without query. */
  tileUri: (timeMs: number) => string;
  /** Query string carried onto every URI (tokens), including its leading '?', or ''. */
  querySuffix: string;
}

/** The live image media playlist of the planned tiles. */
export function renderImagePlaylist(plan: TilePlan, o: ImagePlaylistOptions): string {
  const v = o.video;
  const sc = [`HOLD-BACK=${fmtAttrSec(v.holdBackSec)}`];
  if (v.partHoldBackSec !== undefined) sc.unshift(`PART-HOLD-BACK=${fmtAttrSec(v.partHoldBackSec)}`);
  const out = ['#EXTM3U', '#EXT-X-VERSION:7', `#EXT-X-TARGETDURATION:${v.targetDurationSec}`, `#EXT-X-SERVER-CONTROL:${sc.join(',')}`];
  if (v.partHoldBackSec !== undefined && v.partTargetSec !== undefined) out.push(`#EXT-X-PART-INF:PART-TARGET=${fmtAttrSec(v.partTargetSec)}`);
  out.push(`#EXT-X-MEDIA-SEQUENCE:${o.mediaSequence}`, `#EXT-X-DISCONTINUITY-SEQUENCE:${plan.discontinuitySequence}`, '#EXT-X-IMAGES-ONLY');
  for (const s of plan.segments) {
    if (s.discontinuity) out.push('#EXT-X-DISCONTINUITY');
    const d = fmtSec(s.durationMs);
    out.push(`#EXT-X-PROGRAM-DATE-TIME:${isoTime(s.timeMs)}`, `#EXT-X-TILES:RESOLUTION=${s.width}x${s.height},LAYOUT=1x1,DURATION=${d}`,
      `#EXTINF:${d},`, `${o.tileUri(s.timeMs)}${o.querySuffix}`);
  }
  if (o.ended) out.push('#EXT-X-ENDLIST');
  return out.join('\n') + '\n';
}

/** What the multivariant playlist says of an image playlist. */
export interface ImageStreamInfo {
  /** URI relative to the multivariant playlist, without query. */
  uri: string;
  /** Peak bits per second of its tiles. */
  bandwidth: number;
  /** One tile's size (RESOLUTION: Shaka multiplies it by the LAYOUT for the image's size). */
  tileWidth: number;
  tileHeight: number;
}

/** The EXT-X-IMAGE-STREAM-INF line naming an image playlist. */
export function imageStreamInfLine(s: ImageStreamInfo, querySuffix: string): string {
  return `#EXT-X-IMAGE-STREAM-INF:BANDWIDTH=${Math.max(1, Math.round(s.bandwidth))},RESOLUTION=${s.tileWidth}x${s.tileHeight},`
    + `CODECS="jpeg",URI="${s.uri}${querySuffix}"`;
}
