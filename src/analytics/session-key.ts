import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * How a viewer is told apart without cookies (README: Viewer analytics, session keys):
 * - a playback token's `jti` when the channel requires tokens (the API mints one per viewer);
 * - else the `sid` the multivariant playlist hands out, carried on the media playlist URIs;
 * - else a fallback: HMAC-SHA256 of client address + user agent + channel under a salt made
 *   at random for each UTC day, in memory only. The salt is never written anywhere and is
 *   dropped at midnight, so yesterday's keys cannot be recomputed, by us or by anyone else;
 *   the address itself is never stored.
 */

/** What passes for a sid in a URL (ours are SID_LENGTH); anything else in `sid=` is ignored. */
const SID = /^[A-Za-z0-9_-]{8,32}$/;
const DAY_MS = 86_400_000;

const RANDOM_BYTES = 12;
const TAG_BYTES = 8;
/** base64url lengths of the two parts (no padding: 12 and 8 bytes → 16 and 11 characters). */
const RANDOM_CHARS = 16;
const TAG_CHARS = 11;
export const SID_LENGTH = RANDOM_CHARS + TAG_CHARS;
const MINTED = /^[A-Za-z0-9_-]{27}$/;

/**
 * Session ids (`sid`) are verifiable without storage: a player beacon brings one back, possibly
 * through a CDN, to an origin that kept no record of it (POST /v1/beacon). A sid is 16 random
 * base64url characters (96 bits) followed by an 11-character (64-bit) HMAC tag over the channel
 * id and that random part, under a key derived from the playback-token key, so every origin
 * sharing the secret (the ones behind one CDN) accepts the others' sids; a forged or mistyped
 * sid, or one minted for another channel, fails. Not a secret: anyone who can fetch the
 * multivariant playlist gets one. The tag keeps made-up keys out of the tables, no more.
 */
export class SessionIds {
  private readonly key: Buffer;

  /** `playbackTokenKey`: ServerKeys.playbackTokens; the sid key is derived from it for this one purpose. */
  constructor(playbackTokenKey: Uint8Array) {
    this.key = Buffer.from(hkdfSync('sha256', playbackTokenKey, 'sigma-live', 'viewer-session-id', 32));
  }

  /** A new session id for a viewer of `channel`. */
  mint(channel: string): string {
    const random = randomBytes(RANDOM_BYTES).toString('base64url');
    return random + this.tag(channel, random).toString('base64url');
  }

  /** Whether `sid` was minted (by an origin with this key) for `channel`. */
  verify(sid: string, channel: string): boolean {
    if (!MINTED.test(sid)) return false;
    const given = Buffer.from(sid.slice(RANDOM_CHARS), 'base64url');
    // A 27-character base64url string always decodes its last 11 characters to 8 bytes, but a
    // non-canonical last character decodes to the same bytes as the canonical one: compare the
    // re-encoded tag, so each sid has exactly one spelling (one session, not several).
    if (given.length !== TAG_BYTES || given.toString('base64url') !== sid.slice(RANDOM_CHARS)) return false;
    return timingSafeEqual(given, this.tag(channel, sid.slice(0, RANDOM_CHARS)));
  }

  private tag(channel: string, random: string): Buffer {
    return createHmac('sha256', this.key).update(channel).update('\n').update(random).digest().subarray(0, TAG_BYTES);
  }
}

/**
 * The session key of an accepted playback token without a `jti` (a back end's own tokens may
 * have none): a digest of the whole token, one token one viewer.
 */
export function tokenDigestKey(token: string): string {
  return createHash('sha256').update(token).digest().subarray(0, 16).toString('base64url');
}

export function isSid(value: string): boolean {
  return SID.test(value);
}

/**
 * The value of `sid=` in a raw query string, when it looks like one of ours. A plain scan, no
 * URLSearchParams: it runs for every playlist request.
 */
export function sidOf(query: string): string | undefined {
  if (query === '') return undefined;
  let at = query.startsWith('sid=') ? 0 : query.indexOf('&sid=');
  if (at < 0) return undefined;
  at += at === 0 ? 4 : 5;
  let end = query.indexOf('&', at);
  if (end < 0) end = query.length;
  if (end - at < 8 || end - at > 32) return undefined;
  // Checked by hand: a regex here was two thirds of what analytics cost a playlist request.
  for (let i = at; i < end; i++) if (!isSidChar(query.charCodeAt(i))) return undefined;
  return query.slice(at, end);
}

/** [A-Za-z0-9_-] */
function isSidChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45;
}

/** The salted, daily-rotated fallback key of a client; one HMAC (~2.5 µs), so computed only when needed. */
export class FallbackKeys {
  private day = Number.NaN;
  private salt: Buffer = Buffer.alloc(0);

  constructor(private readonly now: () => number = Date.now) {}

  /** 22 base64url characters; the same client, user agent and channel give the same key until UTC midnight. */
  keyOf(address: string, userAgent: string, channel: string): string {
    const day = Math.floor(this.now() / DAY_MS);
    if (day !== this.day) {
      this.day = day;
      this.salt = randomBytes(32);
    }
    return createHmac('sha256', this.salt).update(address).update('\0').update(userAgent).update('\0').update(channel)
      .digest().subarray(0, 16).toString('base64url');
  }
}

/** Player family from a user agent: a handful of coarse names (not a fingerprint); memoised, user agents repeat. */
export class PlayerFamilies {
  private readonly known = new Map<string, string>();

  of(userAgent: string | undefined): string {
    if (!userAgent) return 'other';
    let family = this.known.get(userAgent);
    if (family === undefined) {
      family = playerFamily(userAgent);
      // Bounded: beyond this, a new user agent is classified each time (a few hundred ns).
      if (this.known.size < 1000) this.known.set(userAgent, family);
    }
    return family;
  }
}

export function playerFamily(ua: string): string {
  if (/ExoPlayer|AndroidXMedia3/i.test(ua)) return 'exoplayer';
  if (/AppleCoreMedia|AVPlayer/i.test(ua)) return 'avplayer';
  if (/Lavf|ffmpeg|ffprobe/i.test(ua)) return 'ffmpeg';
  if (/VLC|LibVLC/i.test(ua)) return 'vlc';
  if (/Safari\//.test(ua) && !/Chrome\/|Chromium\/|Edg\//.test(ua)) return 'safari';
  if (/Mozilla\//.test(ua)) return 'browser';
  return 'other';
}
