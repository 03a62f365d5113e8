import { PlaybackTokens, type TokenCheck } from '../delivery/access/playback-tokens.js';

/** Publish tokens live at most a day: one is given to a browser for one broadcast. */
export const MAX_PUBLISH_TOKEN_SEC = 86_400;

/**
 * Short-lived publish tokens: what a "Go live" page or a WHIP client carries instead of the
 * channel's stream key, so the key never reaches a browser. The same signed HS256 JWTs as
 * playback tokens (`sub` = the channel), under a key of their own (ServerKeys.publishTokens):
 * a playback token, which viewers hold by the thousand, can never publish.
 */
export class PublishTokens {
  private readonly jwt: PlaybackTokens;

  constructor(secret: Uint8Array) {
    this.jwt = new PlaybackTokens(secret, { cacheEntries: 1000 });
  }

  sign(channelId: string, expiresInSec: number): Promise<{ token: string; expiresAt: number }> {
    return this.jwt.sign(channelId, { expiresInSec: Math.min(expiresInSec, MAX_PUBLISH_TOKEN_SEC) });
  }

  verify(token: string, channelId: string): Promise<TokenCheck> {
    return this.jwt.verify(token, channelId);
  }
}

/** Whether a bearer credential is a JWT (three base64url parts) rather than a stream key. */
export function looksLikeJwt(credential: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(credential);
}
