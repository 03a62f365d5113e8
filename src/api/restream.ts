import { z } from 'zod';
import { transcodeFromStored } from '../control/channel-definition.js';
import { resolveLadder } from '../media/transcode/ladder.js';
import type { RestreamTargetStatus } from '../restream/restream-target.js';
import { maskedTargetUrl, parseTargetUrl } from '../restream/target-url.js';
import type { StoredRestreamTarget } from '../db/types.js';
import { findChannel, type FoundChannel } from './channel-lookup.js';
import type { ApiApp, ApiContext } from './context.js';
import { ApiError } from './errors.js';
import { list, pathId } from './schemas.js';

/**
 * Restream targets (issue 20): where a channel's stream is pushed on to (YouTube, Twitch,
 * Facebook, any RTMP/RTMPS server), the config file's (read-only here) and the API's. A target's
 * URL carries its stream key: it is taken here, sealed in the database, and from then on only
 * shown masked (`rtmp://host/app/…abcd`), in answers, events and logs alike.
 */

export const restreamTargetView = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string().describe('The URL with its stream key masked to its last 4 characters'),
  rendition: z.string().describe("'source' or an ABR rung's name"),
  enabled: z.boolean().describe('Started with the channel\'s stream; false: only by POST …/start'),
  from: z.enum(['config', 'api']).describe('"config": defined in the config file, read-only through the API'),
  state: z.enum(['idle', 'connecting', 'connected', 'retrying', 'stopped']),
  connectedSince: z.string().nullable(),
  retries: z.number().int().describe('Failed attempts and dropped connections since the channel\'s stream started'),
  lastError: z.string().nullable(),
  lastErrorAt: z.string().nullable(),
  bitrateKbps: z.number().describe('Sent over the last 5 s'),
  bytesSent: z.number(),
  framesDropped: z.number().int().describe('Frames not sent because the target fell behind (dropped to the next keyframe)'),
  queuedBytes: z.number().int(),
});

type TargetView = z.input<typeof restreamTargetView>;

const targetUrl = z.string().max(2048).superRefine((u, ctx) => {
  try {
    parseTargetUrl(u);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `${maskedTargetUrl(u)}: ${(err as Error).message}` });
  }
}).describe('rtmp://host[:port]/app/streamKey or rtmps://…: the stream key is the last path element');

const createBody = z.object({
  name: z.string().trim().min(1).max(64).optional(),
  url: targetUrl,
  rendition: z.string().min(1).max(64).default('source'),
  enabled: z.boolean().default(true),
}).strict();

const patchBody = z.object({
  name: z.string().trim().min(1).max(64).optional(),
  url: targetUrl.optional(),
  rendition: z.string().min(1).max(64).optional(),
  enabled: z.boolean().optional(),
}).strict();

const targetParams = z.object({ id: pathId, targetId: pathId });

/** A stored target not (yet) known to this origin's runtime: listed idle. */
function idleView(t: StoredRestreamTarget): TargetView {
  return { id: t.id, name: t.name, url: t.urlHint, rendition: t.rendition, enabled: t.enabled, from: 'api', state: 'idle',
    connectedSince: null, retries: 0, lastError: null, lastErrorAt: null, bitrateKbps: 0, bytesSent: 0, framesDropped: 0, queuedBytes: 0 };
}

/** The renditions a target may push: the source and the channel's rungs. */
function renditionsOf(ctx: ApiContext, found: FoundChannel): string[] {
  const transcode = found.source === 'api' ? transcodeFromStored(found.record.transcodeProfile) : found.config.transcode;
  try {
    return ['source', ...(resolveLadder(transcode as Parameters<typeof resolveLadder>[0], ctx.ladders)?.rungs.map((r) => r.name) ?? [])];
  } catch {
    return ['source'];
  }
}

function checkRendition(ctx: ApiContext, found: FoundChannel, rendition: string): void {
  const ok = renditionsOf(ctx, found);
  if (!ok.includes(rendition)) {
    throw new ApiError('VALIDATION_FAILED', `rendition "${rendition}" is not one of the channel's: ${ok.join(', ')}`,
      [{ path: 'body.rendition', message: `one of ${ok.join(', ')}` }]);
  }
}

async function storedTarget(ctx: ApiContext, channelId: string, targetId: string): Promise<StoredRestreamTarget> {
  const t = await ctx.db.restreamTargets.get(targetId);
  if (t && t.channelId === channelId) return t;
  if (/^config-\d+$/.test(targetId) && ctx.runtime.restream?.status(channelId)?.some((s) => s.id === targetId)) {
    throw new ApiError('CONFIG_CHANNEL_READ_ONLY', `restream target "${targetId}" is defined in the config file: change it there`);
  }
  throw new ApiError('RESTREAM_TARGET_NOT_FOUND', `channel "${channelId}" has no restream target "${targetId}"`);
}

export function restreamRoutes(app: ApiApp, ctx: ApiContext): void {
  const tags = ['restream'];
  const views = async (channelId: string): Promise<TargetView[]> => {
    const live = new Map<string, RestreamTargetStatus>((ctx.runtime.restream?.status(channelId) ?? []).map((s) => [s.id, s]));
    const stored = await ctx.db.restreamTargets.listForChannel(channelId);
    const fromConfig = [...live.values()].filter((s) => s.from === 'config');
    return [...fromConfig, ...stored.map((t) => live.get(t.id) ?? idleView(t))];
  };
  const viewOf = async (channelId: string, id: string): Promise<TargetView | undefined> => (await views(channelId)).find((v) => v.id === id);
  const reload = async (channelId: string) => {
    try {
      await ctx.runtime.restream?.load(channelId);
    } catch (err) {
      ctx.logger.warn({ err, channel: channelId }, 'cannot apply the restream targets now (the change is stored)');
    }
  };

  app.get('/v1/channels/:id/restream', {
    schema: { tags, summary: 'List a channel\'s restream targets with their state (URLs masked)', params: z.object({ id: pathId }), response: { 200: list(restreamTargetView) } },
    config: { access: 'read', errors: [404] },
  }, async (req) => {
    await findChannel(ctx, req.params.id);
    return { items: await views(req.params.id) };
  });

  app.post('/v1/channels/:id/restream', {
    schema: { tags, summary: 'Add a restream target (started at once when the channel is streaming and it is enabled)', params: z.object({ id: pathId }),
      body: createBody, response: { 201: restreamTargetView } },
    config: { access: 'write', errors: [404] },
  }, async (req, reply) => {
    const found = await findChannel(ctx, req.params.id);
    checkRendition(ctx, found, req.body.rendition);
    const existing = await ctx.db.restreamTargets.listForChannel(req.params.id);
    if (existing.length >= 16) throw new ApiError('CONFLICT', 'a channel has at most 16 restream targets');
    const created = await ctx.db.restreamTargets.create({
      channelId: req.params.id, name: req.body.name ?? `target ${existing.length + 1}`, sealedUrl: ctx.keys.restreamUrls.seal(req.body.url),
      urlHint: maskedTargetUrl(req.body.url), rendition: req.body.rendition, enabled: req.body.enabled,
    });
    await reload(req.params.id);
    return reply.code(201).send(await viewOf(req.params.id, created.id) ?? idleView(created));
  });

  app.patch('/v1/channels/:id/restream/:targetId', {
    schema: { tags, summary: 'Change a restream target (a changed URL or rendition reconnects it)', params: targetParams, body: patchBody, response: { 200: restreamTargetView } },
    config: { access: 'write', errors: [404, 409] },
  }, async (req) => {
    const found = await findChannel(ctx, req.params.id);
    const t = await storedTarget(ctx, req.params.id, req.params.targetId);
    if (req.body.rendition !== undefined) checkRendition(ctx, found, req.body.rendition);
    const b = req.body;
    const updated = await ctx.db.restreamTargets.update(t.id, {
      name: b.name, rendition: b.rendition, enabled: b.enabled,
      ...(b.url !== undefined ? { sealedUrl: ctx.keys.restreamUrls.seal(b.url), urlHint: maskedTargetUrl(b.url) } : {}),
    });
    if (!updated) throw new ApiError('RESTREAM_TARGET_NOT_FOUND', `restream target "${t.id}" was deleted meanwhile`);
    await reload(req.params.id);
    return await viewOf(req.params.id, t.id) ?? idleView(updated);
  });

  app.delete('/v1/channels/:id/restream/:targetId', {
    schema: { tags, summary: 'Remove a restream target (its push stops, restream.stopped)', params: targetParams, response: { 204: z.void().describe('Removed') } },
    config: { access: 'write', errors: [404, 409] },
  }, async (req, reply) => {
    await findChannel(ctx, req.params.id);
    const t = await storedTarget(ctx, req.params.id, req.params.targetId);
    await ctx.db.restreamTargets.delete(t.id);
    await reload(req.params.id);
    return reply.code(204).send();
  });

  for (const action of ['start', 'stop'] as const) {
    app.post(`/v1/channels/:id/restream/:targetId/${action}`, {
      schema: { tags, summary: action === 'start' ? 'Start pushing to a target now (the channel must be streaming)' : 'Stop pushing to a target for the rest of this stream',
        params: targetParams, response: { 200: restreamTargetView } },
      config: { access: 'write', errors: [404, 409] },
    }, async (req) => {
      await findChannel(ctx, req.params.id);
      const outcome = ctx.runtime.restream?.control(req.params.id, req.params.targetId, action) ?? 'unknown';
      if (outcome === 'unknown') throw new ApiError('RESTREAM_TARGET_NOT_FOUND', `channel "${req.params.id}" has no restream target "${req.params.targetId}" on this origin`);
      if (outcome === 'not-live') throw new ApiError('CONFLICT', `channel "${req.params.id}" is not streaming: a target starts with the channel's stream`);
      const view = await viewOf(req.params.id, req.params.targetId);
      if (!view) throw new ApiError('RESTREAM_TARGET_NOT_FOUND', `restream target "${req.params.targetId}" is gone`);
      return view;
    });
  }
}
