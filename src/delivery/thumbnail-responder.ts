import { gzipSync } from 'node:zlib';
import type { Channel } from '../media/channel.js';
import type { ChannelThumbnails } from '../media/thumbnails/channel-thumbnails.js';
import { renderPreviewVtt, type TimelineSegment } from '../media/thumbnails/preview-vtt.js';
import type { TileRecord } from '../media/thumbnails/thumbnail-layout.js';
import type { LiveSegment, LiveWindow } from '../store/live-window.js';
import { OriginError } from '../errors.js';
import { cachePolicy } from './cache-policy.js';
import { parseTimeRange } from './archive-responder.js';
import { parseDirectives, playlistReply } from './playlist-responder.js';
import { planSheets, renderImagePlaylist, type ImagePlaylistOptions, type ImageSheet, type ImageStreamInfo } from '../packager/hls/image-playlist.js';
import type { MediaPlaylistConfig } from '../packager/hls/media-playlist.js';
import type { OriginReply, OriginRequest } from './types.js';

const JPEG = 'image/jpeg';
const VTT = 'text/vtt; charset=utf-8';

const ROUTES = {
  latest: /^\/live\/([a-z0-9_-]+)\/thumbnail\.jpg$/,
  byTime: /^\/live\/([a-z0-9_-]+)\/thumbnails\/(\d{1,16})\.jpg$/,
  liveTrack: /^\/live\/([a-z0-9_-]+)\/previews\.vtt$/,
  liveImages: /^\/live\/([a-z0-9_-]+)\/previews\.m3u8$/,
  sheet: /^\/live\/([a-z0-9_-]+)\/previews\/(\d{1,16})\.jpg$/,
  catchupTrack: /^\/live\/([a-z0-9_-]+)\/archive\/(\w{1,16})-(\w{1,16})\.vtt$/,
};

/**
 * Thumbnails and scrubbing previews over HTTP: the newest thumbnail at a stable URL, each kept
 * thumbnail at an immutable one, and WebVTT thumbnail tracks (live DVR window, catchup range)
 * whose cues point into sprite sheets with `#xywh=`.
 */
export class ThumbnailResponder {
  constructor(
    private readonly thumbnailsOf: (channelId: string) => ChannelThumbnails | undefined,
    private readonly now: () => number = Date.now,
    /** The source's media playlist constants (the image playlist repeats its part hold-back and part target). */
    private readonly videoConfigOf?: (ch: Channel, window: LiveWindow) => Pick<MediaPlaylistConfig, 'partTargetSec' | 'partHoldBackSec'>,
  ) {}

  /** The reply when `path` is one of these routes, else undefined. */
  route(req: OriginRequest, path: string, channel: (id: string) => Channel): Promise<OriginReply> | undefined {
    let m: RegExpExecArray | null;
    if ((m = ROUTES.latest.exec(path))) return this.latest(req, channel(m[1]));
    if ((m = ROUTES.byTime.exec(path))) return this.byTime(channel(m[1]), Number(m[2]));
    if ((m = ROUTES.liveTrack.exec(path))) return this.liveTrack(req, channel(m[1]));
    if ((m = ROUTES.liveImages.exec(path))) return this.liveImages(req, channel(m[1]));
    if ((m = ROUTES.sheet.exec(path))) return this.sheet(channel(m[1]), Number(m[2]));
    if ((m = ROUTES.catchupTrack.exec(path))) return this.catchupTrack(req, channel(m[1]), m[2], m[3]);
    return undefined;
  }

  private thumbnails(ch: Channel): ChannelThumbnails {
    const th = this.thumbnailsOf(ch.id);
    if (!th) throw new OriginError('THUMBNAILS_DISABLED', ch.id);
    return th;
  }

  /** `/live/<ch>/thumbnail.jpg`: the newest, cached briefly like a playlist; Content-Location names its immutable URL. */
  private async latest(req: OriginRequest, ch: Channel): Promise<OriginReply> {
    const th = this.thumbnails(ch);
    const pic = th.latest();
    if (!pic) throw new OriginError('NO_THUMBNAIL', ch.id);
    const headers: Record<string, string> = {
      'content-type': JPEG, 'cache-control': cachePolicy.playlist(targetDuration(ch)),
      'last-modified': new Date(pic.timeMs).toUTCString(),
    };
    if (th.stored) headers['content-location'] = `/live/${ch.id}/thumbnails/${pic.timeMs}.jpg${parseDirectives(req.query).querySuffix}`;
    return { status: 200, headers, body: pic.data };
  }

  /** `/live/<ch>/thumbnails/<epochMs>.jpg`: a kept thumbnail, never changing. */
  private async byTime(ch: Channel, timeMs: number): Promise<OriginReply> {
    const data = await this.thumbnails(ch).thumbnail(timeMs);
    if (!data) throw new OriginError('NOT_FOUND', `thumbnails/${timeMs}.jpg`);
    return { status: 200, headers: { 'content-type': JPEG, 'cache-control': cachePolicy.immutableMedia, 'last-modified': new Date(timeMs).toUTCString() }, body: data };
  }

  /** `/live/<ch>/previews/<sheetId>.jpg`: a sprite sheet; the one still being filled changes with each tile. */
  private async sheet(ch: Channel, sheetId: number): Promise<OriginReply> {
    const sheet = await this.thumbnails(ch).sheet(sheetId);
    if (!sheet) throw new OriginError('NOT_FOUND', `previews/${sheetId}.jpg`);
    const cache = sheet.complete ? cachePolicy.immutableMedia : cachePolicy.playlist(targetDuration(ch));
    return { status: 200, headers: { 'content-type': JPEG, 'cache-control': cache }, body: sheet.data };
  }

  /** `/live/<ch>/previews.vtt`: the thumbnails track of the live playlist's window (its first segment is time 0). */
  private async liveTrack(req: OriginRequest, ch: Channel): Promise<OriginReply> {
    const th = this.thumbnails(ch);
    const r = ch.rendition('source');
    if (!r || r.window.segments.length === 0) throw new OriginError('CHANNEL_NOT_LIVE', ch.id);
    const segments = r.window.segments.map(timelineOf);
    const tiles = th.liveTiles(segments[0].programDateTimeMs);
    return vttReply(tiles, segments, th, 'previews/', req, cachePolicy.playlist(targetDuration(ch)));
  }

  /**
   * `/live/<ch>/previews.m3u8`: the HLS image playlist of the live window (what Shaka reads for
   * live previews; it refuses an external WebVTT track on live streams): one segment per sprite
   * sheet reaching into the window, aligned with the video by PROGRAM-DATE-TIME, numbered by
   * ChannelThumbnails so EXT-X-MEDIA-SEQUENCE goes up as sheets leave the window. The newest
   * sheet grows (its EXTINF with its tiles) like its JPEG; ENDLIST once the window has ended.
   */
  private async liveImages(req: OriginRequest, ch: Channel): Promise<OriginReply> {
    const th = this.thumbnails(ch);
    if (!th.previews.enabled) throw new OriginError('THUMBNAILS_DISABLED', `${ch.id} (scrubbing previews)`);
    const window = ch.rendition('source')?.window;
    // Like the media playlist, offered once a segment is complete (its hold-backs are fixed then).
    if (!window || !(window.lastCompleteSegment || window.ended)) throw new OriginError('CHANNEL_NOT_LIVE', ch.id);
    const sheets = liveSheets(window, th);
    if (sheets.length === 0) throw new OriginError('NO_THUMBNAIL', 'no preview sheet in the live window yet');
    const { columns, rows } = th.previews;
    const text = Buffer.from(renderImagePlaylist(sheets, {
      columns, rows, mediaSequence: th.sheetNumber(sheets[0].id)!, ended: window.ended, videoParts: this.videoParts(ch, window),
      minTargetDurationSec: Math.ceil((columns * rows * th.previewIntervalMs) / 1000),
      sheetUri: (id) => `previews/${id}.jpg`, querySuffix: parseDirectives(req.query).querySuffix,
    }));
    const newest = sheets[sheets.length - 1];
    return playlistReply(req, text, () => gzipSync(text), cachePolicy.playlist(targetDuration(ch)),
      new Date(newest.startMs + newest.durationMs).toUTCString());
  }

  /** The source playlist's part timing, when it has parts (what the image playlist repeats for Shaka). */
  private videoParts(ch: Channel, window: LiveWindow): ImagePlaylistOptions['videoParts'] {
    const c = this.videoConfigOf?.(ch, window);
    return c?.partTargetSec !== undefined && c.partHoldBackSec !== undefined ? { partTargetSec: c.partTargetSec, partHoldBackSec: c.partHoldBackSec } : undefined;
  }

  /**
   * The live image playlist as the multivariant playlist lists it (EXT-X-IMAGE-STREAM-INF), when
   * the channel has previews, a sheet reaches into the window, and the window is live: a player
   * loading an ended window sees a VOD, and Shaka places a VOD's image segments end to end from
   * 0 rather than by PROGRAM-DATE-TIME, which puts a sheet begun before the window at the wrong
   * time; the .vtt serves VOD (Shaka accepts external thumbnails there). Only for channels with
   * parts (LL-HLS): Shaka takes its live delay from the image playlist, which can give it the
   * video's PART-HOLD-BACK but no HOLD-BACK below three sheets (SC-02), so on a channel without
   * parts naming it would put Shaka minutes behind live (docs/adr/005-image-playlist-timing.md).
   */
  liveImageStreams(ch: Channel): ImageStreamInfo[] {
    const th = this.thumbnailsOf(ch.id);
    const window = ch.rendition('source')?.window;
    if (!th?.previews.enabled || !window || window.ended || !window.lastCompleteSegment) return [];
    if (!this.videoParts(ch, window)) return [];
    const sheets = liveSheets(window, th);
    if (sheets.length === 0) return [];
    // Measured on the sheets still in RAM (the newest two): bits per second of preview time.
    let bandwidth = 1;
    for (const s of sheets) {
      const bytes = th.sheetBytesInRam(s.id);
      if (bytes !== undefined && s.durationMs > 0) bandwidth = Math.max(bandwidth, (bytes * 8000) / s.durationMs);
    }
    const newest = sheets[sheets.length - 1];
    return [{ uri: 'previews.m3u8', bandwidth, tileWidth: newest.tileWidth, tileHeight: newest.tileHeight }];
  }

  /**
   * `/live/<ch>/archive/<from>-<to>.vtt`: the thumbnails track of the catchup playlist of the
   * same range, on that playlist's timeline (time 0 = its first segment, which may start a little
   * before `from`).
   */
  private async catchupTrack(req: OriginRequest, ch: Channel, fromSpec: string, toSpec: string): Promise<OriginReply> {
    const th = this.thumbnails(ch);
    if (!ch.archive || !th.stored) throw new OriginError('ARCHIVE_DISABLED', ch.id);
    const now = this.now();
    const { from, to } = parseTimeRange(fromSpec, toSpec, now);
    const segs = await ch.archive.reader('source').range(from, to);
    if (segs.length === 0) throw new OriginError('ARCHIVE_EMPTY', `${fromSpec}-${toSpec}`);
    const last = segs[segs.length - 1];
    // From one preview interval (at least 10 s) before the first segment: the tile covering its start.
    const tiles = await th.tilesBetween(segs[0].programDateTimeMs - Math.max(th.previewIntervalMs, 10_000), last.programDateTimeMs + last.durationMs);
    const growing = to > now && (ch.state === 'live' || ch.state === 'reconnecting');
    return vttReply(tiles, segs, th, '../previews/', req, growing ? cachePolicy.playlist(targetDuration(ch)) : cachePolicy.archivePlaylist);
  }
}

function vttReply(tiles: TileRecord[], segments: readonly TimelineSegment[], th: ChannelThumbnails, sheetDir: string,
  req: OriginRequest, cacheControl: string): OriginReply {
  // Tokens and other query parameters go onto every sheet URI, as playlists carry them onto media.
  const query = parseDirectives(req.query).querySuffix;
  const text = renderPreviewVtt(tiles, { segments, intervalMs: th.previewIntervalMs, sheetUri: (id) => `${sheetDir}${id}.jpg${query}` });
  return { status: 200, headers: { 'content-type': VTT, 'cache-control': cacheControl }, body: Buffer.from(text) };
}

/** The sheets of the live tiles reaching into the source playlist's window, cut at its newest media. */
function liveSheets(window: LiveWindow, th: ChannelThumbnails): ImageSheet[] {
  const first = timelineOf(window.segments[0]), last = timelineOf(window.segments[window.segments.length - 1]);
  return planSheets(th.liveTiles(first.programDateTimeMs), {
    columns: th.previews.columns, intervalMs: th.previewIntervalMs, untilMs: last.programDateTimeMs + last.durationMs,
  }).filter((s) => s.startMs + s.durationMs > first.programDateTimeMs && th.sheetNumber(s.id) !== undefined);
}

/** A live segment on the timeline; the open one's duration is what its parts have so far. */
function timelineOf(s: LiveSegment): TimelineSegment {
  return { programDateTimeMs: s.programDateTimeMs, durationMs: s.complete ? s.durationMs : s.parts.reduce((a, p) => a + p.durationMs, 0) };
}

/** Target duration as the catchup playlists use it: the profile's segment target, rounded up. */
function targetDuration(ch: Channel): number {
  return Math.ceil(ch.profile.segmentTargetSec);
}
