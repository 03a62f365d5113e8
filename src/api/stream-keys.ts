import { z } from 'zod';
import type { StreamKeyRepository } from '../db/repository.js';
import type { StreamKey } from '../db/types.js';
import { apiChannel } from './channel-lookup.js';
import type { ApiApp, ApiContext } from './context.js';
import { ApiError } from './errors.js';
import { iso, isoOrNull, isoTime, optionalBody, page, pageOf, pageQuery, pathId, query } from './schemas.js';
import { hintOf, newSecret } from './secrets.js';

/**
 * Stream keys: several per channel, each a secret shown once (at creation or rotation); the
 * database keeps its keyed digest and last four characters (the hint). Config channels keep
 * their key in the config file, so these routes refuse them (409).
 */

export const streamKeyView = z.object({
  id: z.string(),
  channelId: z.string(),
  name: z.string().nullable(),
  input: z.string().describe("The channel input it publishes to: 'primary' or a hot-standby 'backup1'…'backup4'"),
  hint: z.string().describe('The last characters of the key'),
  createdAt: isoTime,
  lastUsedAt: isoTime.nullable(),
  revokedAt: isoTime.nullable(),
});

export const issuedStreamKeyView = streamKeyView.extend({
  secret: z.string().describe('The stream key: shown only in this answer'),
  publishUrl: z.string().describe('publishServer/secret: what a broadcaster publishes to'),
});

const keyView = (k: StreamKey): z.input<typeof streamKeyView> => ({
  id: k.id, channelId: k.channelId, name: k.name, input: k.input, hint: k.hint,
  createdAt: iso(k.createdAt), lastUsedAt: isoOrNull(k.lastUsedAt), revokedAt: isoOrNull(k.revokedAt),
});

export function issuedView(ctx: ApiContext, key: StreamKey, secret: string): z.input<typeof issuedStreamKeyView> {
  return { ...keyView(key), secret, publishUrl: `${ctx.runtime.urls(key.channelId).publishServer}/${secret}` };
}

/** A new secret and its row: what the publisher sends is hashed the same way by the ingest. */
export function newStreamKeySecret(ctx: ApiContext): { secret: string; keyHash: string; hint: string } {
  const secret = newSecret('streamKey');
  return { secret, keyHash: ctx.keys.streamKeys.digest(secret), hint: hintOf(secret) };
}

export async function issueStreamKey(ctx: ApiContext, repo: StreamKeyRepository, channelId: string, name: string | null, input = 'primary'):
  Promise<{ key: StreamKey; secret: string }> {
  const { secret, keyHash, hint } = newStreamKeySecret(ctx);
  return { key: await repo.create({ channelId, keyHash, hint, name, input }), secret };
}

const keyName = z.string().trim().min(1).max(100).nullable().optional().describe('A label, e.g. "studio OBS"');
const keyInput = z.string().regex(/^(primary|backup[1-4])$/, "input: 'primary' or 'backup1'…'backup4'").optional()
  .describe("The input the key publishes to (default 'primary'); a backup encoder publishes with a 'backup1' key at the same time (hot standby)");
const keyParams = z.object({ id: pathId, keyId: pathId });

/** The key of this channel (404 for another channel's key). */
async function channelKey(ctx: ApiContext, channelId: string, keyId: string): Promise<StreamKey> {
  await apiChannel(ctx, channelId);
  const key = await ctx.db.streamKeys.get(keyId);
  if (!key || key.channelId !== channelId) throw new ApiError('STREAM_KEY_NOT_FOUND', `channel "${channelId}" has no stream key "${keyId}"`);
  return key;
}

export function streamKeyRoutes(app: ApiApp, ctx: ApiContext): void {
  const tags = ['stream keys'];

  app.post('/v1/channels/:id/stream-keys', {
    schema: { tags, summary: 'Create a stream key (its secret is shown once)', params: z.object({ id: pathId }), body: optionalBody({ name: keyName, input: keyInput }),
      response: { 201: issuedStreamKeyView } },
    config: { access: 'write', errors: [404, 409] },
  }, async (req, reply) => {
    const channel = await apiChannel(ctx, req.params.id);
    const { key, secret } = await issueStreamKey(ctx, ctx.db.streamKeys, channel.id, req.body.name ?? null, req.body.input);
    return reply.code(201).send(issuedView(ctx, key, secret));
  });

  app.get('/v1/channels/:id/stream-keys', {
    schema: { tags, summary: 'List a channel\'s stream keys, revoked ones too (never the secrets)', params: z.object({ id: pathId }),
      querystring: query(pageQuery), response: { 200: page(streamKeyView) } },
    config: { access: 'read', errors: [404, 409] },
  }, async (req) => {
    await apiChannel(ctx, req.params.id);
    return pageOf(await ctx.db.streamKeys.listForChannel(req.params.id, req.query), keyView);
  });

  app.post('/v1/channels/:id/stream-keys/:keyId/rotate', {
    schema: { tags, summary: 'Replace a stream key: a new secret (shown once), the old key revoked', params: keyParams,
      body: optionalBody({ name: keyName }), response: { 201: issuedStreamKeyView } },
    config: { access: 'write', errors: [404, 409] },
  }, async (req, reply) => {
    const old = await channelKey(ctx, req.params.id, req.params.keyId);
    if (old.revokedAt !== null) throw new ApiError('STREAM_KEY_REVOKED', `stream key "${old.id}" is revoked: create a new one`);
    const { secret, keyHash, hint } = newStreamKeySecret(ctx);
    const key = await ctx.db.streamKeys.rotate(old.id, { keyHash, hint, name: req.body.name === undefined ? old.name : req.body.name });
    if (!key) throw new ApiError('STREAM_KEY_REVOKED', `stream key "${old.id}" was revoked meanwhile`);
    return reply.code(201).send(issuedView(ctx, key, secret));
  });

  app.delete('/v1/channels/:id/stream-keys/:keyId', {
    schema: { tags, summary: 'Revoke a stream key (idempotent): publishing with it is refused from now on', params: keyParams,
      response: { 204: z.void().describe('Revoked') } },
    config: { access: 'write', errors: [404, 409] },
  }, async (req, reply) => {
    const key = await channelKey(ctx, req.params.id, req.params.keyId);
    await ctx.db.streamKeys.revoke(key.id);
    return reply.code(204).send();
  });
}
