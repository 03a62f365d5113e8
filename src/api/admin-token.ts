import type { Logger } from 'pino';
import type { ServerKeys } from '../control/server-secret.js';
import { UniqueViolationError } from '../db/errors.js';
import type { Database } from '../db/repository.js';
import type { ApiToken } from '../db/types.js';
import { newSecret } from './secrets.js';

/**
 * The row of the configured admin token (api.adminToken) has an id made from its digest, so
 * every start (and every origin sharing the database) finds the same row, and the API can tell
 * it apart: it is managed by the config and cannot be revoked through the API.
 */
export const CONFIG_TOKEN_ID_PREFIX = 'tok_config_';

export const isConfigToken = (id: string): boolean => id.startsWith(CONFIG_TOKEN_ID_PREFIX);

export const FIRST_TOKEN_NAME = 'first admin token';

/** Every API token, revoked ones too (a handful: tokens are made by hand). */
export async function allApiTokens(db: Database): Promise<ApiToken[]> {
  const out: ApiToken[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: ApiToken[]; nextCursor: string | null } = await db.apiTokens.list({ limit: 500, cursor });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return out;
}

export interface EnsureAdminTokenOptions {
  db: Database;
  keys: Pick<ServerKeys, 'apiTokens'>;
  /** api.adminToken from the config or env. */
  configured?: string;
  logger: Logger;
  /** Where the first token is shown, once (the console; never the log). */
  print: (line: string) => void;
}

/**
 * Makes sure someone can administer the API at start:
 * - with a configured token: its admin row exists (idempotent), and the row of an earlier
 *   configured token that the config no longer holds is revoked, so changing api.adminToken
 *   retires the old one;
 * - without: when the database has no active token at all, a new admin token is created and
 *   printed once, with a clear warning that it is never shown again.
 * Returns the admin token's id, when one is (or was made) active.
 */
export async function ensureAdminToken(o: EnsureAdminTokenOptions): Promise<{ tokenId: string | null; created: boolean }> {
  const { db, logger } = o;
  if (o.configured !== undefined) {
    const digest = o.keys.apiTokens.digest(o.configured);
    const id = CONFIG_TOKEN_ID_PREFIX + digest.slice(0, 24);
    const tokens = await allApiTokens(db);
    for (const t of tokens) {
      if (isConfigToken(t.id) && t.revokedAt === null && t.secretHash !== digest) {
        await db.apiTokens.revoke(t.id);
        logger.info({ tokenId: t.id }, 'revoked the API token of an earlier api.adminToken');
      }
    }
    const existing = tokens.find((t) => t.secretHash === digest);
    if (existing && existing.revokedAt !== null) {
      logger.error({ tokenId: existing.id }, 'the configured api.adminToken was revoked earlier and is refused: configure a new one');
      return { tokenId: null, created: false };
    }
    if (existing) return { tokenId: existing.id, created: false };
    try {
      await db.apiTokens.create({ id, name: 'api.adminToken (config)', secretHash: digest, scopes: ['admin'] });
      logger.info({ tokenId: id }, 'stored the configured admin API token');
      return { tokenId: id, created: true };
    } catch (err) {
      // Another origin sharing the database stored it at the same moment.
      if (err instanceof UniqueViolationError) return { tokenId: id, created: false };
      throw err;
    }
  }
  if ((await db.apiTokens.countActive()) > 0) return { tokenId: null, created: false };
  const secret = newSecret('apiToken');
  const token = await db.apiTokens.create({ name: FIRST_TOKEN_NAME, secretHash: o.keys.apiTokens.digest(secret), scopes: ['admin'] });
  const rule = '='.repeat(78);
  for (const line of [
    rule,
    'No API token exists yet: this admin token was created. It is shown ONCE and never again',
    '(only its digest is stored). Copy it now, and create narrower tokens with POST /v1/api-tokens:',
    '',
    `    ${secret}`,
    '',
    'Use it as "Authorization: Bearer <token>". Or set api.adminToken (SIGMA__API__ADMIN_TOKEN).',
    rule,
  ]) o.print(line);
  logger.warn({ tokenId: token.id }, 'created the first admin API token (printed once on the console, not logged)');
  return { tokenId: token.id, created: true };
}
