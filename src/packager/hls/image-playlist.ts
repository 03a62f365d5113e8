/**
 * HLS image media playlists (pure): the Image Media Playlist extension (v0.4, Roku / Disney /
 * Warner; read by Shaka Player and Roku OS) that lists sprite sheets of preview tiles as the
 * segments of a playlist of their own:
 *
 *   #EXT-X-IMAGES-ONLY
 *   #EXT-X-PROGRAM-DATE-TIME:<wall-clock time of the sheet's first tile>
 *   #EXT-X-TILES:RESOLUTION=<tile WxH>,LAYOUT=<columns>x<rows>,DURATION=<seconds per tile>
 *   #EXTINF:<seconds the sheet covers>,
 *   <sheet URI>
 *
 * A player shows, for a time t inside a sheet's span, the tile of cell floor((t - start) /
 * DURATION), row-major from the top left. The multivariant playlist names the image playlist
 * with EXT-X-IMAGE-STREAM-INF.
 */
import { fmtAttrSec, fmtSec, isoTime } from './media-playlist.js';
import type { TileRecord } from '../../media/thumbnails/thumbnail-layout.js';

/** A preview tile: its keyframe's wall-clock time, its sheet (named by the time of its cell 0), its area there. */
export type ImageTile = TileRecord;

/** One sprite sheet as a segment of the image playlist. */
export interface ImageSheet {
  id: number;
  /** Wall-clock time of cell 0 (= id), epoch ms: the segment's PROGRAM-DATE-TIME. */
  startMs: number;
  /** How long the sheet's tiles cover: from cell 0 to where the tile after its last one would be (EXTINF). */
  durationMs: number;
  /** How long one tile stands for (DURATION): the sheet's mean tile spacing. */
  tileMs: number;
  /** Cells in use, counting from cell 0 (the last tile's cell + 1). */
  cells: number;
  tileWidth: number;
  tileHeight: number;
}

/**
 * The sheets of a stretch of tiles (sorted by time, as ChannelThumbnails keeps them), each with
 * the span its tiles cover. Tiles are taken at keyframes, so their spacing is the preview
 * interval only when the keyframe interval divides it: a sheet's tile DURATION is its own
 * measured mean spacing (cell 0 to its last tile; a one-tile sheet takes the spacing of the
 * sheet before it, or the preview interval), which puts every tile at its time within a
 * fraction of a keyframe interval. A sheet ends where the next begins when that follows on
 * (within half a spacing), else one spacing after its last tile (the publisher left; the newest
 * sheet at the live edge), and no sheet reaches past `untilMs` (the end of the media the
 * previews go with: a player takes the end of the newest segment of any playlist for the live
 * edge, and must not ask for video that does not exist yet). Leading tiles of a sheet may be
 * missing from `tiles` (the window starts inside it): cell 0's time is the sheet id.
 */
export function planSheets(tiles: readonly ImageTile[], o: { columns: number; intervalMs: number; untilMs?: number }): ImageSheet[] {
  const out: ImageSheet[] = [];
  // A sheet of one tile has no spacing of its own: the one before it tells (the publisher's GOP).
  let spacing = o.intervalMs;
  for (let i = 0; i < tiles.length;) {
    const first = tiles[i];
    let j = i;
    while (j + 1 < tiles.length && tiles[j + 1].sheetId === first.sheetId) j++;
    const last = tiles[j];
    const lastCell = (last.y / last.height) * o.columns + last.x / last.width;
    if (lastCell > 0) spacing = (last.timeMs - first.sheetId) / lastCell;
    const next = tiles[j + 1];
    const end = next && next.sheetId - last.timeMs <= 1.5 * spacing ? next.sheetId : last.timeMs + spacing;
    const until = Math.min(end, o.untilMs ?? Infinity);
    if (until > first.sheetId) {
      out.push({ id: first.sheetId, startMs: first.sheetId, durationMs: until - first.sheetId, tileMs: (end - first.sheetId) / (lastCell + 1),
        cells: lastCell + 1, tileWidth: last.width, tileHeight: last.height });
    }
    i = j + 1;
  }
  return out;
}

export interface ImagePlaylistOptions {
  /** Tiles per sheet row and column (LAYOUT): the same for every sheet of a channel. */
  columns: number;
  rows: number;
  /** The first sheet's media sequence number. */
  mediaSequence: number;
  /** Raised to the longest sheet's span; at least the nominal span columns × rows × interval. */
  minTargetDurationSec: number;
  /** EXT-X-ENDLIST: the playlist the previews go with has ended. */
  ended: boolean;
  /**
   * The video playlists' part timing, when they have parts: a live image playlist repeats their
   * PART-HOLD-BACK (EXT-X-SERVER-CONTROL without CAN-BLOCK-RELOAD: this playlist does not block)
   * and PART-TARGET (EXT-X-PART-INF, without parts). Shaka loads the image playlist before any
   * video playlist, to size its sheets, and fixes the live delay from that first playlist: in
   * its low-latency mode (its default) the PART-HOLD-BACK, read once a PART-INF was seen;
   * without them, the sum of the last three EXTINFs, whole sheets (minutes behind live).
   * HOLD-BACK is never written: it must be ≥ 3 × this playlist's TARGETDURATION (SC-02), a
   * sheet's span, which its absence implies (docs/adr/005-image-playlist-timing.md).
   */
  videoParts?: { partTargetSec: number; partHoldBackSec: number };
  /** URI of a sheet relative to the image playlist, without query. */
  sheetUri: (sheetId: number) => string;
  /** Query string carried onto every URI (tokens), including its leading '?', or ''. */
  querySuffix: string;
}

/** The image media playlist of the given sheets (oldest first). */
export function renderImagePlaylist(sheets: readonly ImageSheet[], o: ImagePlaylistOptions): string {
  let td = o.minTargetDurationSec;
  for (const s of sheets) td = Math.max(td, Math.ceil(s.durationMs / 1000));
  const out = ['#EXTM3U', '#EXT-X-VERSION:7', `#EXT-X-TARGETDURATION:${td}`];
  const v = o.videoParts;
  if (v) out.push(`#EXT-X-SERVER-CONTROL:PART-HOLD-BACK=${fmtAttrSec(v.partHoldBackSec)}`, `#EXT-X-PART-INF:PART-TARGET=${fmtAttrSec(v.partTargetSec)}`);
  out.push(`#EXT-X-MEDIA-SEQUENCE:${o.mediaSequence}`, '#EXT-X-IMAGES-ONLY');
  for (const s of sheets) {
    out.push(`#EXT-X-PROGRAM-DATE-TIME:${isoTime(s.startMs)}`,
      `#EXT-X-TILES:RESOLUTION=${s.tileWidth}x${s.tileHeight},LAYOUT=${o.columns}x${o.rows},DURATION=${fmtSec(s.tileMs)}`,
      `#EXTINF:${fmtSec(s.durationMs)},`, `${o.sheetUri(s.id)}${o.querySuffix}`);
  }
  if (o.ended) out.push('#EXT-X-ENDLIST');
  return out.join('\n') + '\n';
}

/** What the multivariant playlist says of an image playlist. */
export interface ImageStreamInfo {
  /** URI relative to the multivariant playlist, without query. */
  uri: string;
  /** Peak bits per second of its sheets. */
  bandwidth: number;
  /** One tile's size (RESOLUTION: Shaka multiplies it by the LAYOUT for the sheet's size). */
  tileWidth: number;
  tileHeight: number;
}

/** The EXT-X-IMAGE-STREAM-INF line naming an image playlist. */
export function imageStreamInfLine(s: ImageStreamInfo, querySuffix: string): string {
  return `#EXT-X-IMAGE-STREAM-INF:BANDWIDTH=${Math.max(1, Math.round(s.bandwidth))},RESOLUTION=${s.tileWidth}x${s.tileHeight},`
    + `CODECS="jpeg",URI="${s.uri}${querySuffix}"`;
}
