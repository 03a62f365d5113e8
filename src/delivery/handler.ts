import { performance } from 'node:perf_hooks';
import { forward, liveRouteChannel, type PlaybackPlacement } from './placement-forward.js';
import type { Logger } from 'pino';
import type { Channel } from '../media/channel.js';
import { OriginError } from '../errors.js';
import { cachePolicy, FALLBACK_TD, HttpDates } from './cache-policy.js';
import { errorReply, replyForError } from './error-reply.js';
import { MediaResponder } from './media-responder.js';
import { PlaylistResponder } from './playlist-responder.js';
import { PlayerAssets, type BeaconTarget } from './player-page.js';
import { ArchiveResponder } from './archive-responder.js';
import { ThumbnailResponder } from './thumbnail-responder.js';
import type { ChannelThumbnails } from '../media/thumbnails/channel-thumbnails.js';
import type { OriginReply, OriginRequest } from './types.js';
import { PlaybackGate, type ChannelAccess } from './access/playback-gate.js';
import type { PlaybackTokens } from './access/playback-tokens.js';
import type { Readiness } from '../ops/readiness.js';
import { readinessReply } from './readiness-responder.js';
import type { ViewerRequests } from '../analytics/viewer-requests.js';
import { sidOf } from '../analytics/session-key.js';

export type { ChannelAccess };

export interface ChannelLookup {
  get(id: string): Channel | undefined;
  /** A channel's thumbnails and previews, when it has them on. */
  thumbnails?(id: string): ChannelThumbnails | undefined;
  /**
   * What a channel asks of viewers now (playback tokens, preview); undefined or absent: nothing.
   * Called on every /live/<channel>/… request, so it must be cheap.
   */
  access?(id: string): ChannelAccess | undefined;
}

/** Told of every reply as it leaves the handler (/metrics); runs per request, so it must be cheap. */
export interface RequestObserver {
  /** `startedAt` is performance.now() when the request reached the handler. */
  replied(req: OriginRequest, reply: OriginReply, startedAt: number): void;
}

/** Headers every response carries so browsers on other origins can play (CA-03). */
const CORS: Record<string, string> = {
  'access-control-allow-origin': '*',
  // hls.js reads Age for CDN tune-in (HJ-11); Content-Range for byte-range parts.
  'access-control-expose-headers': 'Age, Content-Length, Content-Range, Date',
};

const PREFLIGHT: Record<string, string> = {
  ...CORS,
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  'access-control-allow-headers': 'Range, Accept-Encoding, Authorization',
  'access-control-max-age': '86400',
};

const ROUTES = {
  multivariant: /^\/live\/([a-z0-9_-]+)\/index\.m3u8$/,
  media: /^\/live\/([a-z0-9_-]+)\/(?!previews\.)([a-z0-9_-]+)\.m3u8$/,
  init: /^\/live\/([a-z0-9_-]+)\/([a-z0-9_-]+)\/init-(\d{1,16})\.mp4$/,
  part: /^\/live\/([a-z0-9_-]+)\/([a-z0-9_-]+)\/(\d{1,16})\.(\d{1,6})\.m4s$/,
  segment: /^\/live\/([a-z0-9_-]+)\/([a-z0-9_-]+)\/(\d{1,16})\.m4s$/,
  player: /^\/player\/([a-z0-9_-]+)$/,
  archivePlaylist: /^\/live\/([a-z0-9_-]+)\/archive\/(\w{1,16})-(\w{1,16})\.m3u8$/,
  archiveMultivariant: /^\/live\/([a-z0-9_-]+)\/archive\/(\w{1,16})-(\w{1,16})\/index\.m3u8$/,
  archiveRendition: /^\/live\/([a-z0-9_-]+)\/archive\/(\w{1,16})-(\w{1,16})\/([a-z0-9_-]+)\.m3u8$/,
  archiveSessions: /^\/live\/([a-z0-9_-]+)\/archive\/sessions\.json$/,
  archiveSegment: /^\/live\/([a-z0-9_-]+)\/archive\/([a-z0-9_-]+)\/(\d{10})\/(\d{1,16})\.m4s$/,
  archiveInit: /^\/live\/([a-z0-9_-]+)\/archive\/([a-z0-9_-]+)\/init-(\d{1,16})\.mp4$/,
};

/** How many segments a live part or segment is behind the newest one (0: in the newest). */
function behindNewest(segments: readonly { msn: number }[], msn: number): number {
  const newest = segments[segments.length - 1];
  return newest === undefined ? 0 : newest.msn - msn;
}

/**
 * The origin's one request handler: route ▶ responder ▶ reply. It knows nothing of sockets;
 * the uWS, node:http and node:http2 adapters translate to and from it, and tests call it directly.
 */
export class OriginHandler {
  private readonly playlists = new PlaylistResponder((ch) => this.thumbnails.liveImageStreams(ch));
  private readonly media: MediaResponder;
  private readonly player = new PlayerAssets();
  private readonly archive: ArchiveResponder;
  private readonly thumbnails: ThumbnailResponder;
  private readonly gate: PlaybackGate;
  private readonly dates: HttpDates;

  /**
   * `tokens` checks the playback tokens of channels whose access() asks for them
   * (docs/playback-tokens.md); without it such channels refuse every token (fail closed).
   * `now` (epoch ms) dates replies (Date, Expires) and catchup ranges.
   */
  constructor(private readonly channels: ChannelLookup, private readonly log: Logger, private tokens?: PlaybackTokens, now: () => number = Date.now) {
    this.gate = new PlaybackGate((id) => this.channels.access?.(id), () => this.tokens, log);
    this.dates = new HttpDates(now);
    this.archive = new ArchiveResponder(now);
    this.thumbnails = new ThumbnailResponder((id) => this.channels.thumbnails?.(id), now, (ch, w) => this.playlists.playlistConfig(ch, w, 'source'));
    this.media = new MediaResponder((w) => {
      const ch = this.channelOfWindow.get(w);
      return ch ? this.playlists.targetDuration(ch, w) : FALLBACK_TD;
    });
  }

  private readonly channelOfWindow = new WeakMap<object, Channel>();

  private observer: RequestObserver | undefined;

  /** Tells `observer` of every reply from now on. */
  observeReplies(observer: RequestObserver): void {
    this.observer = observer;
  }

  /** Gives the token key after construction (a composition root that loads its server keys at start). */
  usePlaybackTokens(tokens: PlaybackTokens): void {
    this.tokens = tokens;
  }

  private beacon: BeaconTarget | undefined;

  private placement: PlaybackPlacement | undefined;

  /** Several origins: a channel live on another one is proxied from it or redirected there (README: Several origins on one PostgreSQL). */
  usePlacement(placement: PlaybackPlacement): void {
    this.placement = placement;
  }

  /** The player page posts its beacons there (once the API listens; before, and without it, none). */
  useBeaconTarget(beacon: BeaconTarget): void {
    this.beacon = beacon;
  }

  private viewers: ViewerRequests | undefined;

  /**
   * Viewer analytics: told of every viewer request after the gate (media playlists, parts,
   * segments, catchup), and the multivariant playlist hands out a session id (README: Viewer analytics).
   * undefined: none of that from now on (bench/analytics.ts compares the two in one process).
   */
  countViewers(viewers: ViewerRequests | undefined): void {
    this.viewers = viewers;
  }

  private readiness: Readiness | undefined;

  /** Answers /readyz from this probe (without one, /readyz is not a route). */
  useReadiness(readiness: Readiness): void {
    this.readiness = readiness;
  }

  /**
   * A reply, synchronously when nothing has to be waited for (a part or playlist that exists:
   * most requests), so that an adapter can answer inside the transport's own callback without
   * promise machinery; a promise when the request waits (blocking reload, preload hint, disk).
   */
  handle(req: OriginRequest): OriginReply | Promise<OriginReply> {
    const started = this.observer ? performance.now() : 0;
    let routed: OriginReply | Promise<OriginReply>;
    try {
      routed = this.route(req);
    } catch (err) {
      return this.finish(req, this.errorReply(err, req), started);
    }
    if (routed instanceof Promise) {
      return routed.then((r) => this.finish(req, r, started), (err: unknown) => this.finish(req, this.errorReply(err, req), started));
    }
    return this.finish(req, routed, started);
  }

  private errorReply(err: unknown, req: OriginRequest): OriginReply {
    if (err instanceof OriginError) return replyForError(err, cachePolicy.playlistError(FALLBACK_TD));
    this.log.error({ err, path: req.path }, 'request failed');
    return { status: 500, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: Buffer.from('{"error":{"code":"INTERNAL","message":"internal error"}}') };
  }

  /** What every reply gets: CORS, Date (and Expires with a planned lifetime), and for HEAD the headers without the body. */
  private finish(req: OriginRequest, reply: OriginReply, started: number): OriginReply {
    Object.assign(reply.headers, reply.status === 204 ? PREFLIGHT : CORS);
    this.dates.stamp(reply.headers);
    if (req.method === 'HEAD') {
      // HEAD: the same headers, no body; the length is known unless the body is a stream.
      const len = Buffer.isBuffer(reply.body) ? reply.body.length
        : Array.isArray(reply.body) ? (reply.body as readonly Buffer[]).reduce((s, b) => s + b.length, 0) : undefined;
      if (len !== undefined) reply.headers['content-length'] = String(len);
      reply.body = undefined;
    }
    this.observer?.replied(req, reply, started);
    return reply;
  }

  private route(req: OriginRequest): OriginReply | Promise<OriginReply> {
    if (req.method === 'OPTIONS') return { status: 204, headers: {} };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const r = errorReply('METHOD_NOT_ALLOWED', 'no-store');
      r.headers.allow = 'GET, HEAD, OPTIONS';
      return r;
    }
    const path = req.path;
    if (path === '/healthz') {
      return { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: Buffer.from('{"status":"ok"}') };
    }
    if (path === '/readyz' && this.readiness) return readinessReply(this.readiness);
    // Every /live/<channel>/… route, before any work (a blocking request is refused before it waits).
    const gate = this.gate.check(req);
    if (gate instanceof Promise) return gate.then((refused) => refused ?? this.dispatch(req, path));
    if (gate) return gate;
    return this.dispatch(req, path);
  }

  private dispatch(req: OriginRequest, path: string): OriginReply | Promise<OriginReply> {
    const placed = liveRouteChannel(req, this.placement);
    if (placed !== undefined) {
      const ownerUrl = this.placement!.elsewhere(placed);
      if (ownerUrl) return forward(req, { channelId: placed, ownerUrl }, this.placement!, () => this.afterOwnerLost(req, path, placed));
      if (this.placement!.comebackUntil(placed) !== undefined && !this.playableHere(placed)) return this.afterOwnerLost(req, path, placed);
    }
    let m: RegExpExecArray | null;
    if ((m = ROUTES.part.exec(path))) {
      const r = this.rendition(this.channel(m[1]), m[2]), msn = Number(m[3]);
      this.viewers?.media(req, m[1], m[2], behindNewest(r.window.segments, msn));
      return this.media.part(req, r, msn, Number(m[4]));
    }
    // index.m3u8 also matches the media route: the multivariant playlist first.
    if ((m = ROUTES.multivariant.exec(path))) return this.multivariant(req, this.channel(m[1]));
    if ((m = ROUTES.media.exec(path))) {
      const ch = this.channel(m[1]), r = this.rendition(ch, m[2]);
      this.viewers?.playlist(req, m[1], m[2]);
      return this.playlists.media(req, ch, r);
    }
    if ((m = ROUTES.init.exec(path))) return this.media.init(req, this.rendition(this.channel(m[1]), m[2]), Number(m[3]));
    if ((m = ROUTES.segment.exec(path))) {
      const r = this.rendition(this.channel(m[1]), m[2]), msn = Number(m[3]);
      this.viewers?.media(req, m[1], m[2], behindNewest(r.window.segments, msn));
      return this.media.segment(req, r, msn);
    }
    if ((m = ROUTES.archiveSessions.exec(path))) return this.archive.sessions(req, this.channel(m[1]));
    return this.dispatchArchive(req, path) ?? this.dispatchOther(req, path);
  }

  /**
   * The origin a channel was live on died. Its publisher is most likely coming back through a
   * load balancer, here or on another origin: the request waits for that (a session here, or a
   * new placement), as long as a blocking reload would, then is answered as it then stands.
   */
  private async afterOwnerLost(req: OriginRequest, path: string, channelId: string): Promise<OriginReply> {
    const until = this.placement?.comebackUntil(channelId) ?? Date.now();
    while (Date.now() < until && !req.signal.aborted) {
      if (this.playableHere(channelId) || this.placement?.elsewhere(channelId)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (req.signal.aborted) throw new OriginError('NOT_FOUND');
    // A blocking reload asked the dead owner for its next part; the channel's session here (or
    // elsewhere) numbers its parts anew after a discontinuity, so that part may come seconds
    // later or never: the playlist is answered as it now stands, and the player goes on from it.
    const query = req.query.split('&').filter((kv) => !/^_HLS_(msn|part)=/.test(kv)).join('&');
    // (The request's own methods and getters stay: a copy with only the query replaced.)
    return this.dispatch(query === req.query ? req : Object.assign(Object.create(req) as OriginRequest, { query }), path);
  }

  /** The channel's live playlist can be played here: a complete segment (what hls.js needs first, HJ-02). */
  private playableHere(channelId: string): boolean {
    return this.channels.get(channelId)?.rendition('source')?.window.lastCompleteSegment !== undefined;
  }

  /** Catchup routes, each one a viewer request of its channel. */
  private dispatchArchive(req: OriginRequest, path: string): OriginReply | Promise<OriginReply> | undefined {
    let m: RegExpExecArray | null;
    let reply: (ch: Channel) => OriginReply | Promise<OriginReply>, rendition: string | undefined;
    if ((m = ROUTES.archivePlaylist.exec(path))) reply = (ch) => this.archive.playlist(req, ch, m![2], m![3]);
    else if ((m = ROUTES.archiveMultivariant.exec(path))) reply = (ch) => this.archive.multivariant(req, ch, m![2], m![3]);
    else if ((m = ROUTES.archiveRendition.exec(path))) { rendition = m[4]; reply = (ch) => this.archive.playlist(req, ch, m![2], m![3], m![4], '../'); }
    else if ((m = ROUTES.archiveSegment.exec(path))) { rendition = m[2]; reply = (ch) => this.archive.segment(req, ch, m![2], m![3], Number(m![4])); }
    else if ((m = ROUTES.archiveInit.exec(path))) { rendition = m[2]; reply = (ch) => this.archive.init(req, ch, m![2], Number(m![3])); }
    else return undefined;
    const ch = this.channel(m[1]);
    // A channel without an archive answers 404: nobody watches anything there.
    if (ch.archive) this.viewers?.archive(req, ch.id, rendition);
    return reply(ch);
  }

  /**
   * With viewer analytics on, the multivariant playlist carries a session id onto its media
   * playlist URIs: the request's own sid, else a new one, and a response with a new one is for
   * this viewer only (no cache may share it).
   */
  private multivariant(req: OriginRequest, ch: Channel): Promise<OriginReply> {
    if (!this.viewers) return this.playlists.multivariant(req, ch);
    const given = sidOf(req.query);
    return this.playlists.multivariant(req, ch, given ?? this.viewers.mintSid(ch.id), given === undefined ? cachePolicy.perViewer : undefined);
  }

  private dispatchOther(req: OriginRequest, path: string): OriginReply | Promise<OriginReply> {
    let m: RegExpExecArray | null;
    const thumbnails = this.thumbnails.route(req, path, (id) => this.channel(id));
    if (thumbnails) return thumbnails;
    if ((m = ROUTES.player.exec(path))) {
      this.channel(m[1]);
      return this.player.page(m[1], this.beacon);
    }
    const asset = this.player.asset(path);
    if (asset) return asset;
    throw new OriginError('NOT_FOUND', path.slice(0, 200));
  }

  private channel(id: string): Channel {
    const ch = this.channels.get(id);
    if (!ch) throw new OriginError('CHANNEL_NOT_FOUND', id);
    return ch;
  }

  private rendition(ch: Channel, name: string) {
    const r = ch.rendition(name);
    if (!r) {
      if (ch.renditions().length === 0) throw new OriginError('CHANNEL_NOT_LIVE', ch.id);
      throw new OriginError('RENDITION_NOT_FOUND', name);
    }
    this.channelOfWindow.set(r.window, ch);
    return r;
  }
}
