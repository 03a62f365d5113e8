import type { OriginRequest } from '../delivery/types.js';
import { randomBytes } from 'node:crypto';
import { FallbackKeys, PlayerFamilies, SessionIds, sidOf } from './session-key.js';
import type { SessionKeySource, ViewingMode } from './viewer-events.js';
import type { ViewerSessions } from './viewer-sessions.js';

/**
 * A live part or segment this many segments or more behind the newest one is DVR viewing: a
 * player at the live edge sits HOLD-BACK (3 × TARGETDURATION) behind it, plus the segment being
 * fetched; two target durations more is a margin no live player needs. In time: more than
 * HOLD-BACK + 2 × TARGETDURATION behind the newest segment.
 */
export const DVR_BEHIND_SEGMENTS = 6;

export interface ViewerRequestsOptions {
  sessions: ViewerSessions;
  /** The session id of a request's playback token (its jti), when the channel asks for tokens and the token is valid. */
  tokenSession(req: OriginRequest, channel: string): string | undefined;
  now?: () => number;
  fallbackKeys?: FallbackKeys;
}

/**
 * What delivery tells the analytics, one call per viewer request after the playback gate
 * (README: Viewer analytics). Sessions are kept from the requests a player makes all along:
 * live media playlists (keyed by token jti, else the sid the multivariant playlist put on their
 * URL, else the fallback hash) and catchup requests (token, else fallback: archive URLs carry no
 * sid). Live parts and segments do not start or keep sessions (they carry no sid, so CDNs can
 * share them): at the live edge they cost one comparison; behind it they mark their client's
 * session as DVR, found through the fallback hash the sid session was linked to at its start.
 */
export class ViewerRequests {
  private readonly now: () => number;
  private readonly fallback: FallbackKeys;
  private readonly players = new PlayerFamilies();
  /** A key of this process until the origin gives the server's (sids then verify on every origin sharing the secret). */
  private sessionIds = new SessionIds(randomBytes(32));

  constructor(private readonly o: ViewerRequestsOptions) {
    this.now = o.now ?? Date.now;
    this.fallback = o.fallbackKeys ?? new FallbackKeys(this.now);
  }

  /** Mints sids under the server's key (the origin calls this at start, once the keys are loaded). */
  useSessionIds(ids: SessionIds): void {
    this.sessionIds = ids;
  }

  /** A new session id for a multivariant playlist response: verifiable by POST /v1/beacon. */
  mintSid(channel: string): string {
    return this.sessionIds.mint(channel);
  }

  private fallbackOf(req: OriginRequest, channel: string): string {
    return this.fallback.keyOf(req.remoteAddress ?? '', req.header('user-agent') ?? '', channel);
  }

  private touch(req: OriginRequest, channel: string, key: string, keySource: SessionKeySource, mode: ViewingMode,
    rendition: string | undefined, atMs: number, viewerKey?: string): void {
    this.o.sessions.touch({
      channel, sessionKey: key, keySource, viewerKey, mode, rendition, protocol: req.protocol ?? 'h1',
      player: this.players.of(req.header('user-agent')), atMs,
    });
  }

  /** A live media playlist request (blocking or not). */
  playlist(req: OriginRequest, channel: string, rendition: string): void {
    const at = this.now(), protocol = req.protocol ?? 'h1';
    const jti = this.o.tokenSession(req, channel);
    if (jti !== undefined) {
      if (!this.o.sessions.refresh(channel, jti, at, rendition, protocol)) this.touch(req, channel, jti, 'token', 'live', rendition, at);
      return;
    }
    const sid = sidOf(req.query);
    if (sid === undefined) return this.touch(req, channel, this.fallbackOf(req, channel), 'fallback', 'live', rendition, at);
    if (this.o.sessions.refresh(channel, sid, at, rendition, protocol)) return;
    // A new session: the fallback hash links the client's sid-less media requests to it.
    this.touch(req, channel, sid, 'sid', 'live', rendition, at, this.fallbackOf(req, channel));
  }

  /** A live part or segment `behind` segments behind the newest one. */
  media(req: OriginRequest, channel: string, rendition: string, behind: number): void {
    if (behind < DVR_BEHIND_SEGMENTS) return;
    const at = this.now();
    const jti = this.o.tokenSession(req, channel);
    if (jti !== undefined) return this.touch(req, channel, jti, 'token', 'dvr', rendition, at);
    const fallback = this.fallbackOf(req, channel);
    const sid = this.o.sessions.linked(channel, fallback, at);
    if (sid !== undefined) this.touch(req, channel, sid, 'sid', 'dvr', rendition, at);
    else this.touch(req, channel, fallback, 'fallback', 'dvr', rendition, at);
  }

  /** A catchup playlist, segment or init segment. */
  archive(req: OriginRequest, channel: string, rendition: string | undefined): void {
    const at = this.now();
    const jti = this.o.tokenSession(req, channel);
    if (jti !== undefined) return this.touch(req, channel, jti, 'token', 'catchup', rendition, at);
    this.touch(req, channel, this.fallbackOf(req, channel), 'fallback', 'catchup', rendition, at);
  }
}
