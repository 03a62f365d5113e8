import { createHmac, randomBytes } from 'node:crypto';

/**
 * How a viewer is told apart without cookies (README: Viewer analytics, session keys):
 * - a playback token's `jti` when the channel requires tokens (the API mints one per viewer);
 * - else the `sid` the multivariant playlist hands out, carried on the media playlist URIs;
 * - else a fallback: HMAC-SHA256 of client address + user agent + channel under a salt made
 *   at random for each UTC day, in memory only. The salt is never written anywhere and is
 *   dropped at midnight, so yesterday's keys cannot be recomputed, by us or by anyone else;
 *   the address itself is never stored.
 */

/** A sid as we mint it (12 base64url characters, 72 random bits); anything else in `sid=` is ignored. */
const SID = /^[A-Za-z0-9_-]{8,32}$/;
const DAY_MS = 86_400_000;

/** A new session id for a multivariant playlist response. */
export function mintSid(): string {
  return randomBytes(9).toString('base64url');
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
  const sid = query.slice(at, end);
  return SID.test(sid) ? sid : undefined;
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
