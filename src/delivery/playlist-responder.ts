import { gzipSync } from 'node:zlib';
import type { Channel, Rendition } from '../media/channel.js';
import type { LiveWindow } from '../store/live-window.js';
import {
  renderMediaPlaylistPieces, reportFor, type MediaPlaylistConfig, type SkipRequest,
} from '../packager/hls/media-playlist.js';
import { renderMultivariantPlaylist, type VariantInfo } from '../packager/hls/multivariant-playlist.js';
import type { ImageStreamInfo } from '../packager/hls/image-playlist.js';
import { measureBitRates } from '../packager/hls/bandwidth.js';
import { OriginError } from '../errors.js';
import { cachePolicy } from './cache-policy.js';
import { errorReply } from './error-reply.js';
import type { OriginReply, OriginRequest } from './types.js';
import { PiecewisePlaylist, SettledBlocksBySuffix, type CompressedBlock } from './settled-blocks.js';

const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';

export interface Directives {
  msn?: number;
  part?: number;
  skip: SkipRequest;
  /** The query without _HLS_* parameters, carried onto every URI ('' or '?…'). */
  querySuffix: string;
}

const INT = /^(0|[1-9]\d{0,15})$/;

/** Parses delivery directives (§6.2.5) from a raw query string; malformed values are 400. */
export function parseDirectives(query: string): Directives {
  const d: Directives = { skip: 'NO', querySuffix: '' };
  if (query === '') return d;
  const kept: string[] = [];
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = eq >= 0 ? pair.slice(0, eq) : pair;
    const value = eq >= 0 ? pair.slice(eq + 1) : '';
    // sid: the analytics session of a media playlist URL; carried onto nothing (parts stay shareable).
    if (name === 'sid') continue;
    if (!name.startsWith('_HLS_')) { kept.push(pair); continue; }
    if (name === '_HLS_msn' || name === '_HLS_part') {
      if (!INT.test(value)) throw new OriginError('BAD_DIRECTIVE', `${name}=${value.slice(0, 20)}`);
      d[name === '_HLS_msn' ? 'msn' : 'part'] = Number(value);
    } else if (name === '_HLS_skip') {
      if (value !== 'YES' && value !== 'v2') throw new OriginError('BAD_DIRECTIVE', `_HLS_skip=${value.slice(0, 20)}`);
      d.skip = value;
    }
    // Other _HLS_ names (steering, e.g. _HLS_throughput) are not ours to act on and are not carried (§7.4).
  }
  if (d.part !== undefined && d.msn === undefined) throw new OriginError('PART_WITHOUT_MSN');
  d.querySuffix = kept.length > 0 ? `?${kept.join('&')}` : '';
  return d;
}

/** A rendered playlist; its gzip is made on the first request that accepts gzip, then kept. */

/**
 * Per-window state of delivery: the frozen playlist constants and the rendered text of the
 * current window version, so 10k requests woken by one part cost one render and one gzip.
 */
/** What a rendition's playlist fixes at its first render besides its URIs. */
type PlaylistConstants = Omit<MediaPlaylistConfig, 'initUri' | 'segmentUri' | 'partUri'>;

class WindowPlaylists {
  constants: PlaylistConstants | undefined;
  config: MediaPlaylistConfig | undefined;
  private version = -1;
  private cache = new Map<string, PiecewisePlaylist>();
  private lastModified = new Date().toUTCString();
  /** Settled segments' lines, compressed once per query suffix: a long DVR window costs its live edge per render. */
  readonly blocks = new SettledBlocksBySuffix();

  get(window: LiveWindow, key: string, render: () => (string | CompressedBlock)[]): PiecewisePlaylist {
    if (window.version !== this.version) {
      this.version = window.version;
      this.cache.clear();
      this.lastModified = new Date().toUTCString();
    }
    let r = this.cache.get(key);
    if (!r) {
      r = new PiecewisePlaylist(render(), this.lastModified);
      // Bound the cache: keys differ only by skip and query suffix (tokens), which can be many.
      if (this.cache.size >= 64) this.cache.clear();
      this.cache.set(key, r);
    }
    return r;
  }
}

export class PlaylistResponder {
  private readonly perWindow = new WeakMap<LiveWindow, WindowPlaylists>();

  /** `imageStreams`: a channel's image playlists of previews, for the multivariant playlist. */
  constructor(private readonly imageStreams: (channel: Channel) => ImageStreamInfo[] = () => []) {}

  private state(window: LiveWindow): WindowPlaylists {
    let s = this.perWindow.get(window);
    if (!s) this.perWindow.set(window, (s = new WindowPlaylists()));
    return s;
  }

  /**
   * The constants of a rendition's playlist, fixed at its first render. TARGETDURATION is the
   * segment target, raised to the longest segment seen so far when the publisher's keyframe
   * interval is longer than the target (TD-02); it never changes afterwards (TD-03).
   */
  playlistConfig(channel: Channel, window: LiveWindow, rendition: string): MediaPlaylistConfig {
    const s = this.state(window);
    // A window belongs to one rendition for its whole life, so its URIs are fixed with the rest.
    s.config ??= {
      ...this.constants(channel, window),
      initUri: (id) => `${rendition}/init-${id}.mp4`,
      segmentUri: (msn) => `${rendition}/${msn}.m4s`,
      partUri: (msn, i) => `${rendition}/${msn}.${i}.m4s`,
    };
    return s.config;
  }

  private constants(channel: Channel, window: LiveWindow): PlaylistConstants {
    const s = this.state(window);
    if (s.constants) return s.constants;
    const p = channel.profile;
    const longestMs = window.segments.reduce((m, seg) => (seg.complete ? Math.max(m, seg.durationMs) : m), 0);
    const td = Math.max(1, Math.round(p.segmentTargetSec), Math.round(longestMs / 1000));
    s.constants = {
      targetDurationSec: td,
      partTargetSec: p.advertisedPartTargetSec,
      partHoldBackSec: p.partHoldBackSec,
      holdBackSec: 3 * td,
      canSkipUntilSec: 6 * td,
    };
    return s.constants;
  }

  targetDuration(channel: Channel, window: LiveWindow): number {
    return this.constants(channel, window).targetDurationSec;
  }

  /** A media playlist: synchronous unless the request has to wait (first segment, blocking reload). */
  media(req: OriginRequest, channel: Channel, rendition: Rendition): OriginReply | Promise<OriginReply> {
    const d = parseDirectives(req.query);
    const window = rendition.window;
    // hls.js needs at least one complete segment (HJ-02); a playlist is first offered then.
    if (!window.lastCompleteSegment && !window.ended) {
      const first = window.segments[0];
      const waitMs = 3 * channel.profile.segmentTargetSec * 1000 + 2000;
      if (!first) return errorReply('BLOCK_TIMEOUT', cachePolicy.noStore);
      return window.waitFor(first.msn, -1, waitMs, req.signal).then((r) => {
        if (r === 'aborted') throw new OriginError('BLOCK_TIMEOUT');
        if (!window.lastCompleteSegment) return errorReply('BLOCK_TIMEOUT', cachePolicy.noStore);
        return this.afterFirstSegment(req, d, channel, rendition);
      });
    }
    return this.afterFirstSegment(req, d, channel, rendition);
  }

  private afterFirstSegment(req: OriginRequest, d: Directives, channel: Channel, rendition: Rendition): OriginReply | Promise<OriginReply> {
    const window = rendition.window;
    const cfg = this.playlistConfig(channel, window, rendition.name);
    if (d.msn === undefined || window.ended) return this.render(req, d, channel, rendition, false);
    const td = cfg.targetDurationSec;
    const last = window.segments[window.segments.length - 1];
    // "Last Media Segment" read as the parent of the newest part, which serves hls.js's CDN
    // tune-in that may legitimately ask a little ahead (docs/llhls-checklist.md HJ-11, ambiguity (a)).
    if (d.msn > last.msn + 2) return errorReply('MSN_TOO_FAR', cachePolicy.blockingPlaylistError(td));
    let target: [number, number];
    if (channel.profile.advertisedPartTargetSec !== undefined) {
      const part = d.part ?? 0; // _HLS_msn alone ▶ part 0 of that msn (docs/adr/002).
      const limit = cfg.partTargetSec! < 1 ? Math.floor(3 / cfg.partTargetSec!) : 3;
      const perSegment = Math.max(1, Math.round(cfg.targetDurationSec / cfg.partTargetSec!));
      // A complete segment listed without parts (restored from the archive: after a restart or a
      // move between origins) has had all its parts, so the next part is the next segment's first.
      // (A gap the slate stands for lists its gap parts, and is counted by them.)
      const lastIndex = last.complete && last.parts.length === 0 ? perSegment - 1 : last.parts.length - 1;
      const ahead = (d.msn - last.msn) * perSegment + part - lastIndex;
      if (ahead > limit) return errorReply('PART_TOO_FAR', cachePolicy.blockingPlaylistError(td));
      target = [d.msn, part];
    } else {
      target = [d.msn, -1]; // no parts: wait for the complete segment (§6.2.5.2)
    }
    // Already there (a client catching up): answered now, like a non-blocking request.
    if (window.has(target[0], target[1])) return this.render(req, d, channel, rendition, true);
    return window.waitFor(target[0], target[1], 3 * td * 1000, req.signal).then((r) => {
      if (r === 'timeout') return errorReply('BLOCK_TIMEOUT', cachePolicy.noStore);
      if (r === 'aborted' || r === 'gone') throw new OriginError('CHANNEL_NOT_LIVE');
      return this.render(req, d, channel, rendition, true);
    });
  }

  private render(req: OriginRequest, d: Directives, channel: Channel, rendition: Rendition, blocking: boolean): OriginReply {
    const window = rendition.window;
    const cfg = this.playlistConfig(channel, window, rendition.name);
    const hasParts = channel.profile.advertisedPartTargetSec !== undefined;
    const skip = window.ended ? 'NO' : d.skip;
    // The view is only built on a cache miss: one render per window version, however many wait.
    const state = this.state(window);
    const rendered = state.get(window, `${skip}|${d.querySuffix}`, () => {
      const blocks = state.blocks.for(d.querySuffix, window.segments[0]?.msn ?? 0);
      return renderMediaPlaylistPieces({
        segments: window.segments,
        discontinuitySequence: window.discontinuitySequence,
        ended: window.ended,
        renditionReports: channel.renditions().filter((o) => o.name !== rendition.name)
          .map((o) => reportFor(`${o.name}.m3u8`, o.window.segments, hasParts)).filter((x) => x !== undefined),
      }, cfg, { skip, querySuffix: d.querySuffix }, blocks);
    });
    const td = cfg.targetDurationSec;
    const cache = window.ended ? cachePolicy.playlist(td) : blocking ? cachePolicy.blockingPlaylist(td) : cachePolicy.playlist(td);
    return playlistReply(req, () => rendered.text, () => rendered.gzip, cache, rendered.lastModified);
  }

  /**
   * Multivariant playlist: exact CODECS, RESOLUTION, FRAME-RATE, measured BANDWIDTH (MV-05, MV-06).
   * `sid`: the viewer analytics' session id, added to the media playlist URIs (not to image playlists).
   */
  async multivariant(req: OriginRequest, channel: Channel, sid?: string, cacheControl: string = cachePolicy.multivariant): Promise<OriginReply> {
    const d = parseDirectives(req.query);
    let renditions = channel.renditions();
    // Bandwidth is measured, so the multivariant playlist waits for each rendition's first
    // segment (the ladder's rungs come a little after the source: encoder delay).
    // Renditions share MSNs, so a rung with no part yet waits for the segment the others are on.
    const firstMsn = renditions.find((r) => r.window.segments[0])?.window.segments[0].msn;
    const waitMs = 3 * channel.profile.segmentTargetSec * 1000 + 2000;
    const waits = renditions.filter((r) => !r.window.lastCompleteSegment && !r.window.ended).flatMap((r) => {
      const msn = r.window.segments[0]?.msn ?? firstMsn;
      return msn === undefined ? [] : [r.window.waitFor(msn, -1, waitMs, req.signal)];
    });
    if (waits.length > 0) {
      await Promise.all(waits);
      renditions = channel.renditions();
    }
    renditions = renditions.filter((r) => r.window.lastCompleteSegment);
    if (renditions.length === 0) {
      throw new OriginError('CHANNEL_NOT_LIVE', channel.id);
    }
    const variants: VariantInfo[] = renditions.map((r) => {
      const video = r.tracks.find((t) => t.kind === 'video');
      const { peak, average } = measureBandwidth(r.window, this.targetDuration(channel, r.window));
      return {
        uri: `${r.name}.m3u8`, bandwidth: peak, averageBandwidth: average, codecs: r.codecs,
        width: video?.kind === 'video' ? video.width : undefined,
        height: video?.kind === 'video' ? video.height : undefined,
        frameRate: video?.kind === 'video' ? measureFrameRate(video.frameRate) : undefined,
        hasAudio: r.tracks.some((t) => t.kind === 'audio'),
      };
    });
    const variantQuery = sid === undefined ? d.querySuffix : `${d.querySuffix}${d.querySuffix === '' ? '?' : '&'}sid=${sid}`;
    const text = Buffer.from(renderMultivariantPlaylist(variants, d.querySuffix, this.imageStreams(channel), variantQuery));
    return playlistReply(req, text, () => gzipSync(text), cacheControl, new Date().toUTCString());
  }
}

/** A playlist reply, gzipped when the client accepts it (AV-08, AAS 10.1). */
export function playlistReply(req: OriginRequest, text: Buffer | (() => Buffer), gzip: Buffer | (() => Buffer), cacheControl: string, lastModified: string): OriginReply {
  const headers: Record<string, string> = {
    'content-type': PLAYLIST_TYPE, 'cache-control': cacheControl, vary: 'Accept-Encoding', 'last-modified': lastModified,
  };
  // Playlists go out gzipped when the client accepts it (AV-08, AAS 10.1).
  if (/\bgzip\b/.test(req.header('accept-encoding') ?? '')) {
    headers['content-encoding'] = 'gzip';
    return { status: 200, headers, body: typeof gzip === 'function' ? gzip() : gzip };
  }
  return { status: 200, headers, body: typeof text === 'function' ? text() : text };
}

/** Bandwidth is measured over the newest this-much media: a DVR window of hours would make every request walk it. */
const BANDWIDTH_SPAN_MS = 10 * 60 * 1000;

/** Peak and average bit rate over the newest complete segments (up to 10 minutes). */
export function measureBandwidth(window: LiveWindow, td: number): { peak: number; average: number } {
  const newestFirst: (typeof window.segments)[number][] = [];
  for (let i = window.segments.length - 1, spanMs = 0; i >= 0 && spanMs < BANDWIDTH_SPAN_MS; i--) {
    const s = window.segments[i];
    if (s.complete && s.durationMs > 0) { newestFirst.push(s); spanMs += s.durationMs; }
  }
  return measureBitRates(newestFirst.reverse(), td);
}

export function measureFrameRate(announced: number): number | undefined {
  return announced > 0 ? announced : undefined;
}
