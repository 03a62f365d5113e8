import { randomBytes, webcrypto } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';

/**
 * Signed playback tokens: HS256 JWTs a viewer carries on every playlist, part and segment URL
 * (`?token=…`) of a channel that requires them. Any JWT library can mint one (see
 * docs/playback-tokens.md); the claims are:
 *
 * - `sub` (required): the channel id the token plays; another channel answers TOKEN_WRONG_CHANNEL.
 * - `exp` (required): expiry, seconds since the epoch. A token without `exp` is refused: a
 *   leaked URL must stop working one day.
 * - `iat` (optional, set by sign()): issue time, informative.
 * - `nbf` (optional): not before, honoured when present.
 * - `jti` (optional, set by sign()): a random id per token; viewer analytics count a token's
 *   requests as one viewer session (the API mints one token per viewer).
 * - `prv` (optional): `true` for a preview token, which also plays a channel whose session is
 *   in preview (publisher connected, not yet started by an operator). Other tokens do not.
 *
 * Only `alg: HS256` is accepted: `none` and any other algorithm are invalid, whatever the key,
 * so no algorithm confusion. Clocks may disagree by CLOCK_TOLERANCE_SEC (for `exp` and `nbf`).
 *
 * Every part request (several per second per viewer) is checked, so tokens whose signature was
 * verified are kept in a bounded cache (FIFO, at most `cacheEntries`) until they expire: a check
 * of a known token is one Map lookup and two comparisons. The expiry is checked on every use,
 * cached or not.
 */

/** Seconds by which the origin's clock and the signer's may disagree (exp and nbf). */
export const CLOCK_TOLERANCE_SEC = 5;
/** Verified tokens kept; beyond this the oldest is forgotten (it is verified again at its next use). */
export const DEFAULT_CACHE_ENTRIES = 10_000;
/** Longer strings are not tokens of ours: refused before any parsing. */
export const MAX_TOKEN_LENGTH = 4096;

export type TokenErrorCode = 'TOKEN_INVALID' | 'TOKEN_EXPIRED' | 'TOKEN_WRONG_CHANNEL';

export type TokenCheck =
  | { ok: true; preview: boolean; /** epoch ms */ expiresAt: number; /** The `jti` claim, when the token has one. */ sessionId?: string }
  | { ok: false; code: TokenErrorCode };

export interface SignOptions {
  /** Lifetime in seconds from `now` (> 0). */
  expiresInSec: number;
  /** A preview token (claim `prv: true`): also plays a channel in preview. */
  preview?: boolean;
  /** Epoch ms; default Date.now(). */
  now?: number;
}

/** What a verified signature told: kept in the cache. */
interface Verified {
  sub: string;
  /** epoch seconds */
  exp: number;
  /** The answer while it is valid, made once. */
  accepted: TokenCheck;
}

const refusal = (code: TokenErrorCode) => Object.freeze({ ok: false, code } as const);
const INVALID = refusal('TOKEN_INVALID'), EXPIRED = refusal('TOKEN_EXPIRED'), WRONG_CHANNEL = refusal('TOKEN_WRONG_CHANNEL');

export class PlaybackTokens {
  private readonly key: Promise<webcrypto.CryptoKey>;
  private readonly verified = new Map<string, Verified>();
  private readonly cacheEntries: number;

  /** `secret`: the HS256 key (ServerKeys.playbackTokens), at least 32 bytes. */
  constructor(secret: Uint8Array, o: { cacheEntries?: number } = {}) {
    if (secret.length < 32) throw new Error('the playback token key must be at least 32 bytes');
    this.cacheEntries = Math.max(1, o.cacheEntries ?? DEFAULT_CACHE_ENTRIES);
    // Imported once: jose would otherwise import a raw key on every verification.
    this.key = webcrypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  }

  /** Mints a token for a channel; `expiresAt` is epoch ms (whole seconds, as `exp`). */
  async sign(channelId: string, o: SignOptions): Promise<{ token: string; expiresAt: number }> {
    if (!channelId) throw new Error('a playback token needs a channel id');
    if (!Number.isFinite(o.expiresInSec) || o.expiresInSec <= 0) throw new Error('expiresInSec must be a positive number of seconds');
    const iat = Math.floor((o.now ?? Date.now()) / 1000);
    const exp = iat + Math.ceil(o.expiresInSec);
    const token = await new SignJWT(o.preview ? { prv: true } : {})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(channelId).setIssuedAt(iat).setExpirationTime(exp).setJti(randomBytes(12).toString('base64url'))
      .sign(await this.key);
    return { token, expiresAt: exp * 1000 };
  }

  /** Whether `token` plays `channelId` at `now` (epoch ms), and whether it is a preview token. */
  async verify(token: string, channelId: string, now = Date.now()): Promise<TokenCheck> {
    const known = this.known(token, channelId, now);
    if (known) return known;
    const v = await this.verifySignature(token, now);
    if ('code' in v) return v;
    this.remember(token, v);
    return this.judge(token, v, channelId, now);
  }

  /**
   * The answer for a token whose signature was verified before (synchronous, allocates nothing);
   * undefined when it is not in the cache and verify() must check it.
   */
  known(token: string, channelId: string, now = Date.now()): TokenCheck | undefined {
    const v = this.verified.get(token);
    return v && this.judge(token, v, channelId, now);
  }

  /** Expiry and channel, on every use, cached or not: a token verified while valid expires on time. */
  private judge(token: string, v: Verified, channelId: string, now: number): TokenCheck {
    if (v.exp <= Math.floor(now / 1000) - CLOCK_TOLERANCE_SEC) {
      this.verified.delete(token);
      return EXPIRED;
    }
    return v.sub === channelId ? v.accepted : WRONG_CHANNEL;
  }

  /** Verified tokens currently cached. */
  get cacheSize(): number {
    return this.verified.size;
  }

  private async verifySignature(token: string, now: number): Promise<Verified | typeof INVALID | typeof EXPIRED> {
    if (token.length > MAX_TOKEN_LENGTH) return INVALID;
    try {
      const { payload } = await jwtVerify(token, await this.key, {
        algorithms: ['HS256'], clockTolerance: CLOCK_TOLERANCE_SEC, currentDate: new Date(now), requiredClaims: ['sub', 'exp'],
      });
      if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') return INVALID;
      const sessionId = typeof payload.jti === 'string' && payload.jti.length > 0 && payload.jti.length <= 64 ? payload.jti : undefined;
      const accepted = Object.freeze({ ok: true, preview: payload.prv === true, expiresAt: payload.exp * 1000, ...(sessionId && { sessionId }) } as const);
      return { sub: payload.sub, exp: payload.exp, accepted };
    } catch (err) {
      if (err instanceof errors.JWTExpired) return EXPIRED;
      if (err instanceof errors.JOSEError) return INVALID;
      throw err;
    }
  }

  /** FIFO: a Map keeps insertion order, so the first key is the oldest entry. */
  private remember(token: string, v: Verified): void {
    if (this.verified.size >= this.cacheEntries) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, v);
  }
}
