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
import { planTiles, renderImagePlaylist, type ImageStreamInfo, type TilePlan, type VideoPlaylistTiming } from '../packager/hls/image-playlist.js';
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
  tile: /^\/live\/([a-z0-9_-]+)\/previews\/tiles\/(\d{1,16})\.jpg$/,
  catchupTrack: /^\/live\/([a-z0-9_-]+)\/archive\/(\w{1,16})-(\w{1,16})\.vtt$/,
};

/**
 * Thumbnails and scrubbing previews over HTTP: the newest thumbnail at a stable URL, each kept
 * thumbnail at an immutable one, WebVTT thumbnail tracks (live DVR window, catchup range)
 * whose cues point into sprite sheets with `#xywh=`, and the live image playlist of the tiles.
 */
export class ThumbnailResponder {
  constructor(
    private readonly thumbnailsOf: (channelId: string) => ChannelThumbnails | undefined,
    private readonly now: () => number = Date.now,
    /** The source's media playlist constants (the image playlist repeats its target duration and hold-backs). */
    private readonly videoConfigOf?: (ch: Channel, window: LiveWindow) => Pick<MediaPlaylistConfig, 'targetDurationSec' | 'holdBackSec' | 'partTargetSec' | 'partHoldBackSec'>,
  ) {}

  /** The reply when `path` is one of these routes, else undefined. */
  route(req: OriginRequest, path: string, channel: (id: string) => Channel): Promise<OriginReply> | undefined {
    let m: RegExpExecArray | null;
    if ((m = ROUTES.latest.exec(path))) return this.latest(req, channel(m[1]));
    if ((m = ROUTES.byTime.exec(path))) return this.byTime(channel(m[1]), Number(m[2]));
    if ((m = ROUTES.liveTrack.exec(path))) return this.liveTrack(req, channel(m[1]));
    if ((m = ROUTES.liveImages.exec(path))) return this.liveImages(req, channel(m[1]));
    if ((m = ROUTES.sheet.exec(path))) return this.sheet(channel(m[1]), Number(m[2]));
    if ((m = ROUTES.tile.exec(path))) return this.tile(channel(m[1]), Number(m[2]));
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

  /** `/live/<ch>/previews/tiles/<epochMs>.jpg`: one preview tile alone (a segment of the image playlist), never changing. */
  private async tile(ch: Channel, timeMs: number): Promise<OriginReply> {
    const data = await this.thumbnails(ch).tileImage(timeMs);
    if (!data) throw new OriginError('NOT_FOUND', `previews/tiles/${timeMs}.jpg`);
    return { status: 200, headers: { 'content-type': JPEG, 'cache-control': cachePolicy.immutableMedia, 'last-modified': new Date(timeMs).toUTCString() }, body: data };
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
   * live previews; it refuses an external WebVTT track on live streams): one segment per tile
   * from the window's start, aligned with the video by PROGRAM-DATE-TIME and discontinuities,
   * numbered by ChannelThumbnails so EXT-X-MEDIA-SEQUENCE goes up as tiles leave the window, with
   * the video playlist's TARGETDURATION and hold-backs (planTiles, renderImagePlaylist). A tile
   * is listed once its duration is known and then never changes; ENDLIST once the window has ended.
   */
  private async liveImages(req: OriginRequest, ch: Channel): Promise<OriginReply> {
    const th = this.thumbnails(ch);
    if (!th.previews.enabled) throw new OriginError('THUMBNAILS_DISABLED', `${ch.id} (scrubbing previews)`);
    const window = ch.rendition('source')?.window;
    // Like the media playlist, offered once a segment is complete (its hold-backs are fixed then).
    if (!window || !(window.lastCompleteSegment || window.ended)) throw new OriginError('CHANNEL_NOT_LIVE', ch.id);
    const video = this.videoTiming(ch, window);
    const plan = liveTiles(window, th, video);
    if (plan.segments.length === 0) throw new OriginError('NO_THUMBNAIL', 'no preview tile in the live window yet');
    const text = Buffer.from(renderImagePlaylist(plan, {
      mediaSequence: th.tileNumber(plan.segments[0].timeMs)!, ended: window.ended, video,
      tileUri: (timeMs) => `previews/tiles/${timeMs}.jpg`, querySuffix: parseDirectives(req.query).querySuffix,
    }));
    const newest = plan.segments[plan.segments.length - 1];
    return playlistReply(req, text, () => gzipSync(text), cachePolicy.playlist(targetDuration(ch)),
      new Date(newest.timeMs + newest.durationMs).toUTCString());
  }

  /** What the image playlist repeats of the source playlist: its TARGETDURATION and hold-backs (and part target). */
  private videoTiming(ch: Channel, window: LiveWindow): VideoPlaylistTiming {
    const c = this.videoConfigOf?.(ch, window);
    if (c) return { targetDurationSec: c.targetDurationSec, holdBackSec: c.holdBackSec, partHoldBackSec: c.partHoldBackSec, partTargetSec: c.partTargetSec };
    // Without the playlist responder (tests of this class alone): the profile's, as the video would have them.
    const td = targetDuration(ch);
    return { targetDurationSec: td, holdBackSec: 3 * td, partHoldBackSec: ch.profile.partHoldBackSec, partTargetSec: ch.profile.advertisedPartTargetSec };
  }

  /**
   * The live image playlist as the multivariant playlist lists it (EXT-X-IMAGE-STREAM-INF), in
   * every latency mode, when the channel has previews, a tile is listed, and the window is live:
   * a player loading an ended window sees a VOD, and Shaka places a VOD's image segments end to
   * end from 0 rather than by PROGRAM-DATE-TIME, which misplaces the tiles after a hole or a
   * capped tile; the .vtt serves VOD (Shaka accepts external thumbnails there).
   */
  liveImageStreams(ch: Channel): ImageStreamInfo[] {
    const th = this.thumbnailsOf(ch.id);
    const window = ch.rendition('source')?.window;
    if (!th?.previews.enabled || !window || window.ended || !window.lastCompleteSegment) return [];
    const plan = liveTiles(window, th, this.videoTiming(ch, window));
    if (plan.segments.length === 0) return [];
    // Measured on the tiles still in RAM (the newest two sheets' worth): bits per second of preview time.
    let bandwidth = 1;
    for (const s of plan.segments) {
      const bytes = th.tileBytesInRam(s.timeMs);
      if (bytes !== undefined) bandwidth = Math.max(bandwidth, (bytes * 8000) / s.durationMs);
    }
    const newest = plan.segments[plan.segments.length - 1];
    return [{ uri: 'previews.m3u8', bandwidth, tileWidth: newest.width, tileHeight: newest.height }];
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

/** The tiles of the live window the image playlist lists, on the source playlist's timeline. */
function liveTiles(window: LiveWindow, th: ChannelThumbnails, video: VideoPlaylistTiming): TilePlan {
  const segments = window.segments.map((s) => ({ ...timelineOf(s), discontinuity: s.discontinuity }));
  // Every tile liveTiles gives is numbered: a tile loses its number only when it leaves that list.
  return planTiles(th.liveTiles(segments[0]?.programDateTimeMs ?? Infinity), { segments, discontinuitySequence: window.discontinuitySequence, ended: window.ended },
    { targetDurationMs: video.targetDurationSec * 1000 });
}

/** A live segment on the timeline; the open one's duration is what its parts have so far. */
function timelineOf(s: LiveSegment): TimelineSegment {
  return { programDateTimeMs: s.programDateTimeMs, durationMs: s.complete ? s.durationMs : s.parts.reduce((a, p) => a + p.durationMs, 0) };
}

/** Target duration as the catchup playlists use it: the profile's segment target, rounded up. */
function targetDuration(ch: Channel): number {
  return Math.ceil(ch.profile.segmentTargetSec);
}
