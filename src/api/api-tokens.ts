import { z } from 'zod';
import type { ApiToken } from '../db/types.js';
import { allApiTokens, isConfigToken } from './admin-token.js';
import type { ApiApp, ApiContext } from './context.js';
import { ApiError } from './errors.js';
import { idParams, iso, isoOrNull, isoTime, page, pageOf, pageQuery, query } from './schemas.js';
import { newSecret } from './secrets.js';

/**
 * API tokens (admin scope). The secret is shown once, at creation; the database keeps its keyed
 * digest. Revocation rules: the configured token (api.adminToken) is managed by the config and
 * cannot be revoked here; the last active admin token cannot be revoked (nobody could administer
 * the API any more). Any other token may be revoked, the caller's own included.
 */

const scope = z.enum(['read', 'write', 'admin']);

const tokenView = z.object({
  id: z.string(),
  name: z.string(),
  scopes: z.array(scope),
  source: z.enum(['api', 'config']).describe('"config": api.adminToken, managed by the config'),
  createdAt: isoTime,
  lastUsedAt: isoTime.nullable().describe('Recorded at most once a minute'),
  revokedAt: isoTime.nullable(),
});

const viewOfToken = (t: ApiToken): z.input<typeof tokenView> => ({
  id: t.id, name: t.name, scopes: t.scopes, source: isConfigToken(t.id) ? 'config' : 'api',
  createdAt: iso(t.createdAt), lastUsedAt: isoOrNull(t.lastUsedAt), revokedAt: isoOrNull(t.revokedAt),
});

const createBody = z.object({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(scope).min(1).max(3).describe('read: GET routes; write: also channel changes; admin: everything')
    .refine((s) => new Set(s).size === s.length, 'scopes must not repeat'),
}).strict();

/** Active admin tokens other than `except`. */
async function otherActiveAdmins(ctx: ApiContext, except: string): Promise<number> {
  return (await allApiTokens(ctx.db)).filter((t) => t.id !== except && t.revokedAt === null && t.scopes.includes('admin')).length;
}

async function tokenOr404(ctx: ApiContext, id: string): Promise<ApiToken> {
  const token = await ctx.db.apiTokens.get(id);
  if (!token) throw new ApiError('API_TOKEN_NOT_FOUND', `no API token "${id}"`);
  return token;
}

export function apiTokenRoutes(app: ApiApp, ctx: ApiContext): void {
  const tags = ['api tokens'];

  app.post('/v1/api-tokens', {
    schema: { tags, summary: 'Create an API token (its secret is shown once)', body: createBody,
      response: { 201: tokenView.extend({ secret: z.string().describe('The bearer token: shown only in this answer') }) } },
    config: { access: 'admin' },
  }, async (req, reply) => {
    const secret = newSecret('apiToken');
    const token = await ctx.db.apiTokens.create({ name: req.body.name, scopes: req.body.scopes, secretHash: ctx.keys.apiTokens.digest(secret) });
    return reply.code(201).send({ ...viewOfToken(token), secret });
  });

  app.get('/v1/token', {
    schema: { tags, summary: 'The API token of this request: its name and scopes (what a client may offer its user)', response: { 200: tokenView } },
    config: { access: 'read' },
  }, async (req) => viewOfToken(req.apiToken!));

  app.get('/v1/api-tokens', {
    schema: { tags, summary: 'List API tokens, revoked ones too (never the secrets)', querystring: query(pageQuery),
      response: { 200: page(tokenView) } },
    config: { access: 'admin' },
  }, async (req) => {
    return pageOf(await ctx.db.apiTokens.list(req.query), viewOfToken);
  });

  app.get('/v1/api-tokens/:id', {
    schema: { tags, summary: 'Get an API token', params: idParams, response: { 200: tokenView } },
    config: { access: 'admin', errors: [404] },
  }, async (req) => viewOfToken(await tokenOr404(ctx, req.params.id)));

  app.delete('/v1/api-tokens/:id', {
    schema: { tags, summary: 'Revoke an API token (idempotent); not the configured one, nor the last active admin token',
      params: idParams, response: { 204: z.void().describe('Revoked') } },
    config: { access: 'admin', errors: [404, 409] },
  }, async (req, reply) => {
    const token = await tokenOr404(ctx, req.params.id);
    if (token.revokedAt === null) {
      if (isConfigToken(token.id)) throw new ApiError('CONFIG_TOKEN_READ_ONLY');
      if (token.scopes.includes('admin') && (await otherActiveAdmins(ctx, token.id)) === 0) throw new ApiError('LAST_ADMIN_TOKEN');
      await ctx.db.apiTokens.revoke(token.id);
    }
    return reply.code(204).send();
  });
}
