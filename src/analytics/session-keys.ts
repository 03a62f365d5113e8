import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { decodeJwt } from 'jose';

/**
 * How a viewer's requests and beacons name their session (issue 17), for the two strong keys:
 *
 * - a session id (`sid`) the multivariant playlist mints per request and carries onto the media
 *   playlist URIs. A player beacon brings it back, possibly through a CDN, to an origin that
 *   kept no record of it: so a sid carries its own proof. It is 16 random bytes' worth of
 *   base64url followed by a 64-bit HMAC tag over the channel id and that random part, under a
 *   key derived from the playback-token key (every origin sharing the secret, the ones behind
 *   one CDN, accepts the others' sids). Checking one is one HMAC, no storage; a forged or
 *   mistyped sid, or one minted for another channel, fails.
 * - a playback token: its `jti` when it has one (a back end that signs its own tokens may give
 *   one per viewer), else a digest of the whole token (one token, one viewer).
 *
 * Neither is a secret: anyone who can fetch the multivariant playlist can mint sids. The tag
 * only keeps beacons to sessions the origin handed out (no made-up keys filling the tables).
 */

const RANDOM_BYTES = 12;
const TAG_BYTES = 8;
/** base64url lengths of the two parts (no padding: 12 and 8 bytes → 16 and 11 characters). */
const RANDOM_CHARS = 16;
const TAG_CHARS = 11;
export const SID_LENGTH = RANDOM_CHARS + TAG_CHARS;
const SID = /^[A-Za-z0-9_-]{27}$/;

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
    if (!SID.test(sid)) return false;
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
 * The session keys of a playback token whose signature was checked elsewhere: its `jti` (a
 * back end may give one per viewer; delivery keys the token's requests by it), and a digest of
 * the whole token for one without. Decoding does not verify: call it only for accepted tokens.
 */
export function tokenSessionKey(token: string): { jti?: string; digest: string } {
  let jti: unknown;
  try {
    jti = decodeJwt(token).jti;
  } catch {
    jti = undefined;
  }
  const digest = createHash('sha256').update(token).digest().subarray(0, 16).toString('base64url');
  return typeof jti === 'string' && jti.length > 0 && jti.length <= 64 ? { jti, digest } : { digest };
}
