import type { PlaybackTokens, TokenErrorCode } from '../delivery/access/playback-tokens.js';
import { WindowLimiter } from './window-limiter.js';
import { SessionIds, tokenDigestKey } from '../analytics/session-key.js';
import type { ViewerBeacon, ViewerEventSink, ViewingMode } from '../analytics/viewer-events.js';

/**
 * Takes a player beacon (POST /v1/beacon) from its parsed body to a ViewerBeacon for the
 * analytics: the channel must be served, the beacon must name a session the origin handed out
 * (a sid it minted for that channel, or a playback token valid for it), and a session may send
 * only so many beacons a minute. It knows no HTTP: the route maps its refusals to answers.
 */

/** What a player posts (already checked against the route's schema). */
export interface BeaconBody {
  sid?: string;
  token?: string;
  channel: string;
  event: ViewerBeacon['event'];
  mode?: ViewingMode;
  positionSec?: number;
  latencyMs?: number;
  rebufferMs?: number;
  rendition?: string;
}

export type BeaconRefusal =
  | { code: 'CHANNEL_NOT_FOUND' | 'SESSION_UNKNOWN' | TokenErrorCode }
  | { code: 'BEACON_RATE_LIMITED' | 'TOO_MANY_BAD_BEACONS'; retryAfterSec: number };

/**
 * A player sends play, a heartbeat every 10 s, pause and end: about 6 a minute. Seeking and
 * pausing add a few; more than this is a broken or hostile client, refused until its minute ends.
 */
export const BEACONS_PER_SESSION_PER_MINUTE = 30;
/**
 * Refused beacons (unknown channel, forged sid, bad token) per client address per minute before
 * that address is refused outright. Behind a CDN every viewer shares the CDN's address, so this
 * is generous: it stops a flood, not a player whose token just expired.
 */
export const BAD_BEACONS_PER_ADDRESS_PER_MINUTE = 600;

export interface BeaconIntakeOptions {
  /** Whether the origin serves this channel now (cheap: called for every beacon). */
  serves(channel: string): boolean;
  sessionIds: SessionIds;
  tokens: PlaybackTokens;
  /** Where accepted beacons go; absent: they are checked and dropped (analytics off). */
  sink?: ViewerEventSink;
  /** Whether delivery keys the channel's viewers by token jti (the channel asks for tokens); default: yes. */
  keysViewersByToken?: (channel: string) => boolean;
  now: () => number;
  perSessionPerMinute?: number;
  badPerAddressPerMinute?: number;
}

export class BeaconIntake {
  private readonly perSession: WindowLimiter;
  private readonly badPerAddress: WindowLimiter;

  constructor(private readonly o: BeaconIntakeOptions) {
    this.perSession = new WindowLimiter(o.perSessionPerMinute ?? BEACONS_PER_SESSION_PER_MINUTE, o.now);
    this.badPerAddress = new WindowLimiter(o.badPerAddressPerMinute ?? BAD_BEACONS_PER_ADDRESS_PER_MINUTE, o.now);
  }

  /** Hands the beacon to the analytics, or says why not. `address`: the client's, for the flood limit. */
  async accept(body: BeaconBody, address: string): Promise<BeaconRefusal | undefined> {
    const flood = this.badPerAddress.retryAfterSec(address);
    if (flood > 0) return { code: 'TOO_MANY_BAD_BEACONS', retryAfterSec: flood };
    const who = await this.identify(body);
    if ('code' in who) {
      this.badPerAddress.hit(address);
      return who;
    }
    const wait = this.perSession.retryAfterSec(who.sessionKey);
    if (wait > 0) return { code: 'BEACON_RATE_LIMITED', retryAfterSec: wait };
    this.perSession.hit(who.sessionKey);
    this.o.sink?.beacon({
      channel: body.channel, sessionKey: who.sessionKey, keySource: who.keySource, event: body.event, mode: body.mode,
      rendition: body.rendition, positionSec: body.positionSec, latencyMs: body.latencyMs, rebufferMs: body.rebufferMs, atMs: this.o.now(),
    });
    return undefined;
  }

  /**
   * The session the beacon belongs to, by the rule delivery keys a viewer's requests with, so
   * beacons and requests meet in one session: on a channel that asks for tokens, a valid
   * token's jti; else the sid; else (a token without jti, no sid) a digest of the token. A token
   * that is there must be valid, as delivery would refuse the playlist it came with.
   */
  private async identify(body: BeaconBody): Promise<Pick<ViewerBeacon, 'sessionKey' | 'keySource'> | { code: 'CHANNEL_NOT_FOUND' | 'SESSION_UNKNOWN' | TokenErrorCode }> {
    if (!this.o.serves(body.channel)) return { code: 'CHANNEL_NOT_FOUND' };
    let jti: string | undefined;
    if (body.token !== undefined) {
      const check = await this.o.tokens.verify(body.token, body.channel, this.o.now());
      if (!check.ok) return { code: check.code };
      jti = check.sessionId;
      const byToken = this.o.keysViewersByToken?.(body.channel) ?? true;
      if (jti !== undefined && byToken) return { sessionKey: jti, keySource: 'token' };
    }
    if (body.sid !== undefined) {
      return this.o.sessionIds.verify(body.sid, body.channel) ? { sessionKey: body.sid, keySource: 'sid' } : { code: 'SESSION_UNKNOWN' };
    }
    return { sessionKey: jti ?? tokenDigestKey(body.token!), keySource: 'token' };
  }
}
