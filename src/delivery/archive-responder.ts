import { gzip, gzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

const gzipAsync = promisify(gzip);
import type { Channel } from '../media/channel.js';
import type { ChannelArchive } from '../store/archive/channel-archive.js';
import { HOUR_DIR } from '../store/archive/archive-layout.js';
import { OriginError } from '../errors.js';
import { renderArchivePlaylistPieces } from '../packager/hls/archive-playlist.js';
import { renderMultivariantPlaylist, type VariantInfo } from '../packager/hls/multivariant-playlist.js';
import { measureBitRates } from '../packager/hls/bandwidth.js';
import { codecStrings } from '../media/codec-string.js';
import { parseDirectives, playlistReply } from './playlist-responder.js';
import { fromDisk, INIT_TYPE, SEGMENT_TYPE } from './media-responder.js';
import { cachePolicy } from './cache-policy.js';
import type { OriginReply, OriginRequest } from './types.js';

/** The longest range one catchup playlist may cover (a longer one is a 400: ask for pieces). */
export const MAX_RANGE_MS = 48 * 3600 * 1000;

/**
 * A point in time in a catchup URL: epoch seconds (`1764095160`), ISO 8601 basic UTC
 * (`20261125T182600Z`: no '-' or ':', so it sits in a path next to the '-' separator), or
 * `now` for the end of a range still growing.
 */
export function parseTimeSpec(spec: string, nowMs: number): number | undefined {
  if (spec === 'now') return nowMs;
  if (/^\d{1,11}$/.test(spec)) return Number(spec) * 1000;
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(spec);
  if (!m) return undefined;
  const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  // Date.UTC rolls 2026-02-31 over into March; a date that does not exist is a mistake.
  return new Date(t).toISOString().slice(0, 19).replace(/[-:]/g, '') === spec.slice(0, 15) ? t : undefined;
}

/** The range of a catchup URL `<from>-<to>`, epoch ms; BAD_TIME_RANGE when malformed, empty or too long. */
export function parseTimeRange(fromSpec: string, toSpec: string, nowMs: number): { from: number; to: number } {
  const from = parseTimeSpec(fromSpec, nowMs), to = parseTimeSpec(toSpec, nowMs);
  if (from === undefined || to === undefined || fromSpec === 'now') {
    throw new OriginError('BAD_TIME_RANGE', 'use <from>-<to> as epoch seconds or YYYYMMDDTHHMMSSZ, or now as the end');
  }
  if (to <= from) throw new OriginError('BAD_TIME_RANGE', 'the end must be after the start');
  if (to - from > MAX_RANGE_MS) throw new OriginError('BAD_TIME_RANGE', `at most ${MAX_RANGE_MS / 3600000} hours per playlist`);
  return { from, to };
}

/**
 * Catchup: playlists for any time range of the archive, the list of broadcast sessions, and
 * the archived segments and init segments they name, all read from disk.
 */
export class ArchiveResponder {
  constructor(private readonly now: () => number = Date.now) {}

  private archiveOf(ch: Channel): ChannelArchive {
    if (!ch.archive) throw new OriginError('ARCHIVE_DISABLED', ch.id);
    return ch.archive;
  }

  /** The range of a catchup URL, checked: a 400 says what is wrong with it. */
  private range(fromSpec: string, toSpec: string): { from: number; to: number; now: number } {
    const now = this.now();
    return { ...parseTimeRange(fromSpec, toSpec, now), now };
  }

  /** A range still growing (it reaches the future of a channel that is live) is an EVENT playlist. */
  private growing(ch: Channel, to: number, now: number): boolean {
    return to > now && (ch.state === 'live' || ch.state === 'reconnecting');
  }

  private cacheOf(ch: Channel, growing: boolean): string {
    return growing ? cachePolicy.playlist(Math.ceil(ch.profile.segmentTargetSec)) : cachePolicy.archivePlaylist;
  }

  /**
   * `/live/<ch>/archive/<from>-<to>.m3u8` (the source, `prefix` '') and
   * `/live/<ch>/archive/<from>-<to>/<rendition>.m3u8` (any rendition, `prefix` '../'):
   * VOD for a closed range, EVENT while it still grows.
   */
  async playlist(req: OriginRequest, ch: Channel, fromSpec: string, toSpec: string, rendition = 'source', prefix = ''): Promise<OriginReply> {
    const archive = this.archiveOf(ch);
    const { from, to, now } = this.range(fromSpec, toSpec);
    const segs = await archive.reader(rendition).range(from, to);
    if (segs.length === 0) throw new OriginError('ARCHIVE_EMPTY', `${rendition} ${fromSpec}-${toSpec}`);
    const growing = this.growing(ch, to, now);
    const pieces: string[] = [];
    for (const piece of renderArchivePlaylistPieces(segs, {
      type: growing ? 'EVENT' : 'VOD', minTargetDurationSec: Math.ceil(ch.profile.segmentTargetSec),
      initUri: (id) => `${prefix}${rendition}/init-${id}.mp4`, segmentUri: (s) => `${prefix}${rendition}/${s.hour}/${s.msn}.m4s`,
      querySuffix: parseDirectives(req.query).querySuffix,
    })) {
      pieces.push(piece);
      // A day of segments renders in a few hundred ms: live channels' requests go between pieces.
      await yieldToEventLoop();
    }
    const text = Buffer.from(pieces.join(''));
    // Compressed on the thread pool, not on the event loop (megabytes for a long range).
    const gzipped = /\bgzip\b/.test(req.header('accept-encoding') ?? '') ? await gzipAsync(text) : undefined;
    return playlistReply(req, text, () => gzipped ?? gzipSync(text), this.cacheOf(ch, growing), new Date(now).toUTCString());
  }

  /**
   * `/live/<ch>/archive/<from>-<to>/index.m3u8`: the multivariant playlist of a catchup range,
   * one variant per rendition archived in it (the source and the ladder's rungs), with CODECS
   * and RESOLUTION from the archived tracks and BANDWIDTH measured over the range's segments.
   */
  async multivariant(req: OriginRequest, ch: Channel, fromSpec: string, toSpec: string): Promise<OriginReply> {
    const archive = this.archiveOf(ch);
    const { from, to, now } = this.range(fromSpec, toSpec);
    const td = Math.ceil(ch.profile.segmentTargetSec);
    const variants: VariantInfo[] = [];
    for (const name of await archive.renditions()) {
      const reader = archive.reader(name);
      const segs = await reader.range(from, to);
      if (segs.length === 0) continue;
      const tracks = await reader.tracks(segs[segs.length - 1].initId);
      if (!tracks) continue;
      const video = tracks.find((x) => x.kind === 'video');
      const { peak, average } = measureBitRates(segs, Math.max(td, ...segs.map((x) => Math.round(x.durationMs / 1000))));
      variants.push({
        uri: `${name}.m3u8`, bandwidth: peak, averageBandwidth: average, codecs: codecStrings(tracks),
        width: video?.kind === 'video' ? video.width : undefined, height: video?.kind === 'video' ? video.height : undefined,
        frameRate: video?.kind === 'video' && video.frameRate > 0 ? video.frameRate : undefined,
        hasAudio: tracks.some((x) => x.kind === 'audio'),
      });
    }
    if (variants.length === 0) throw new OriginError('ARCHIVE_EMPTY', `${fromSpec}-${toSpec}`);
    const text = Buffer.from(renderMultivariantPlaylist(variants, parseDirectives(req.query).querySuffix));
    return playlistReply(req, text, () => gzipSync(text), this.cacheOf(ch, this.growing(ch, to, now)), new Date(now).toUTCString());
  }

  /** `/live/<ch>/archive/sessions.json`: each publish session with its start, end and playlist URL. */
  async sessions(req: OriginRequest, ch: Channel): Promise<OriginReply> {
    const archive = this.archiveOf(ch);
    // The playlist URLs carry the request's query (a playback token) like a playlist's URIs.
    const q = parseDirectives(req.query).querySuffix;
    const list = (await archive.sessions.list()).map((s) => {
      const from = Math.floor(s.startMs / 1000);
      const to = s.endMs === undefined ? 'now' : String(Math.ceil(s.endMs / 1000));
      return {
        startedAt: new Date(s.startMs).toISOString(),
        endedAt: s.endMs === undefined ? null : new Date(s.endMs).toISOString(),
        live: s.endMs === undefined,
        /** When the slate stood in for the publisher (no input fit). */
        slates: s.slates.map((l) => ({ startedAt: new Date(l.startMs).toISOString(), endedAt: new Date(l.endMs).toISOString() })),
        playlist: `/live/${ch.id}/archive/${from}-${to}.m3u8${q}`,
        /** Every archived rendition of the session (the ladder's rungs too). */
        multivariant: `/live/${ch.id}/archive/${from}-${to}/index.m3u8${q}`,
      };
    });
    return {
      status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: Buffer.from(JSON.stringify({ channel: ch.id, sessions: list })),
    };
  }

  /** An archived segment, served only once it is indexed (whole). */
  async segment(req: OriginRequest, ch: Channel, rendition: string, hour: string, msn: number): Promise<OriginReply> {
    if (!HOUR_DIR.test(hour)) throw new OriginError('NOT_FOUND');
    const reader = this.archiveOf(ch).reader(rendition);
    const seg = await reader.find(hour, msn);
    if (!seg) throw new OriginError('NOT_FOUND', `${hour}/${msn}.m4s`);
    return fromDisk(req, { files: reader.files, path: reader.segmentPath(seg) }, seg.bytes, SEGMENT_TYPE, cachePolicy.immutableMedia);
  }

  async init(req: OriginRequest, ch: Channel, rendition: string, initId: number): Promise<OriginReply> {
    const reader = this.archiveOf(ch).reader(rendition);
    const path = reader.paths.init(initId);
    const size = await reader.files.size(path);
    if (size === undefined) throw new OriginError('NOT_FOUND', `init-${initId}.mp4`);
    return fromDisk(req, { files: reader.files, path }, size, INIT_TYPE, cachePolicy.immutableMedia);
  }
}
