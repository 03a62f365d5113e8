import type { Logger } from 'pino';
import type { Database } from '../db/repository.js';
import type { KeyedHash } from '../db/keyed-hash.js';
import type { ApiScope, ApiToken } from '../db/types.js';
import { ApiError } from './errors.js';
import { WindowLimiter } from './window-limiter.js';

/**
 * Bearer-token authentication of the API: each request's token is looked up by its keyed digest
 * (one indexed read, so a revocation holds from the next request on), its scopes checked against
 * the route's, and failed attempts counted per client address.
 *
 * Scopes nest: read (GET) < write (channel, key, start/stop, playback-token and recording
 * changes) < admin (API tokens, webhooks); a token holds the highest of its scopes and all below.
 */

/** What a route needs: a scope, or nothing (the OpenAPI document). */
export type RouteAccess = ApiScope | 'public';

const RANK: Record<ApiScope, number> = { read: 1, write: 2, admin: 3 };

export function grants(scopes: readonly ApiScope[], needed: ApiScope): boolean {
  return scopes.some((s) => RANK[s] >= RANK[needed]);
}

const REALM = 'Bearer realm="sigma-live"';
/** RFC 6750 b64token, bounded: anything else is not worth a database lookup. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]{1,512}=*)$/i;
/** lastUsedAt is written at most this often per token, not on every request. */
export const MARK_USED_EVERY_MS = 60_000;

/**
 * Failed authentications per client address in fixed one-minute windows: past the limit, every
 * request from the address that needs a token is refused (429) until the window ends, valid
 * token or not, so a guesser learns nothing from its next tries.
 */
export class FailedAuthLimiter extends WindowLimiter {
  fail(address: string): void {
    this.hit(address);
  }
}

export class Authenticator {
  /** lastUsedAt writes in flight, by token id. */
  private readonly marking = new Map<string, Promise<void>>();

  constructor(private readonly o: {
    db: Database; hash: KeyedHash; limiter: FailedAuthLimiter; now: () => number; logger: Logger;
  }) {}

  /** The token the request carries, allowed `needed`; throws the 401/403/429 ApiError otherwise. */
  async authenticate(authorization: string | undefined, address: string, needed: ApiScope): Promise<ApiToken> {
    const retryAfter = this.o.limiter.retryAfterSec(address);
    if (retryAfter > 0) throw new ApiError('TOO_MANY_FAILED_AUTH', undefined, undefined, { 'retry-after': String(retryAfter) });
    if (authorization === undefined || authorization === '') {
      throw new ApiError('UNAUTHORIZED', undefined, undefined, { 'www-authenticate': REALM });
    }
    const m = BEARER.exec(authorization);
    const token = m ? await this.o.db.apiTokens.findActiveByHash(this.o.hash.digest(m[1])) : undefined;
    if (!token) {
      this.o.limiter.fail(address);
      throw new ApiError('UNAUTHORIZED', m ? 'the API token is unknown or revoked' : 'the Authorization header must be "Bearer <token>"',
        undefined, { 'www-authenticate': `${REALM}, error="invalid_token"` });
    }
    this.touch(token);
    if (!grants(token.scopes, needed)) {
      throw new ApiError('FORBIDDEN', `this route needs the "${needed}" scope; the token has ${token.scopes.join(', ')}`, undefined,
        { 'www-authenticate': `${REALM}, error="insufficient_scope", scope="${needed}"` });
    }
    return token;
  }

  /** Records lastUsedAt when the stored one is older than MARK_USED_EVERY_MS, in the background. */
  private touch(token: ApiToken): void {
    const due = token.lastUsedAt === null || this.o.now() - token.lastUsedAt >= MARK_USED_EVERY_MS;
    if (!due || this.marking.has(token.id)) return;
    const write = this.o.db.apiTokens.markUsed(token.id)
      .catch((err: unknown) => this.o.logger.warn({ err, tokenId: token.id }, 'could not record the API token\'s last use'))
      .finally(() => this.marking.delete(token.id));
    this.marking.set(token.id, write);
  }

  /** Resolves once every lastUsedAt write started so far is done (close, tests). */
  async settled(): Promise<void> {
    await Promise.all(this.marking.values());
  }
}
