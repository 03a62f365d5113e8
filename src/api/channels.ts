import { z } from 'zod';
import { channelSchema, failoverSchema, transcodeValue } from '../config/schema.js';
import { transcodeToStored } from '../control/channel-definition.js';
import { UniqueViolationError } from '../db/errors.js';
import { newId } from '../db/ids.js';
import { decodeCursor, encodeCursor } from '../db/pagination.js';
import type { Channel, ChannelPatch } from '../db/types.js';
import { resolveLadder } from '../media/transcode/ladder.js';
import { apiChannel, channelView, findChannel, viewOf, type FoundChannel } from './channel-lookup.js';
import type { ApiApp, ApiContext } from './context.js';
import { ApiError } from './errors.js';
import { isIpOrCidr } from '../ingest/allow-list.js';
import { idParams, page, pageOf, pageQuery, query } from './schemas.js';
import { issuedStreamKeyView, issuedView, issueStreamKey } from './stream-keys.js';

/**
 * Channels: database channels are created, changed and deleted here and applied to the running
 * origin; config-file channels are listed alongside, read-only. The constraints are the config
 * file's (channelSchema), so a channel means the same wherever it is defined.
 */

const c = channelSchema.shape;

const settings = {
  name: z.string().trim().min(1).max(200),
  latencyMode: c.latencyMode.removeDefault(),
  transcode: transcodeValue.describe('"passthrough", a ladder name (hd, sd, mobile, or the config\'s transcode.ladders), '
    + 'a slash list of rung presets ("720p/480p/360p"), or { rungs, keepSource }'),
  dvrWindowSec: c.dvrWindowSec.unwrap().nullable().describe('DVR window, seconds; null: the server\'s dvr.windowSec'),
  record: c.record.removeDefault().describe('Record each publish session to a file'),
  retentionHours: c.retentionHours.unwrap().nullable().describe('Archive retention, hours; null: the server\'s archive.retentionHours'),
  autoStart: c.autoStart.removeDefault().describe('true: a publisher goes live at once; false: preview until POST …/start'),
  ipAllowList: z.array(z.string().max(64).refine(isIpOrCidr, 'not an IP address or CIDR block')).max(256)
    .describe('Addresses or CIDR blocks a publisher may connect from; empty: anywhere'),
  playbackTokenPolicy: c.playbackTokens.removeDefault().describe('"required": playback needs a signed token (?token=…)'),
  failover: failoverSchema.nullable().describe('How the channel switches between its primary and backup inputs (stallMs, minBitrateKbps, '
    + 'failback, failbackAfterSec, slate, slateImage); null: the defaults. Backup inputs publish with stream keys created with input "backup1"…'),
};

const srtPassphraseValue = c.srtPassphrase.unwrap().nullable()
  .describe('SRT encryption: the passphrase the channel\'s SRT publishers must use (10 to 79 characters); null: unencrypted. Never shown again (the channel shows srtEncrypted)');

const createBody = z.object({
  id: c.id.optional().describe('Generated when absent'),
  name: settings.name,
  latencyMode: settings.latencyMode.default('ultra-low'),
  transcode: settings.transcode.default('passthrough'),
  dvrWindowSec: settings.dvrWindowSec.default(null),
  record: settings.record.default(false),
  retentionHours: settings.retentionHours.default(null),
  autoStart: settings.autoStart.default(false),
  ipAllowList: settings.ipAllowList.default([]),
  playbackTokenPolicy: settings.playbackTokenPolicy.default('none'),
  failover: settings.failover.default(null),
  srtPassphrase: srtPassphraseValue.default(null),
}).strict();

const patchBody = z.object({ ...settings, srtPassphrase: srtPassphraseValue }).partial().strict();

type Settings = Partial<Omit<z.output<typeof createBody>, 'id'>>;

/** What the schemas cannot check alone: the ladder (named ladders of the config) and DVR window ≤ retention. */
function checkSettings(ctx: ApiContext, next: Settings, current?: Channel): void {
  const details: { path: string; message: string }[] = [];
  if (next.transcode !== undefined) {
    try {
      resolveLadder(next.transcode, ctx.ladders);
    } catch (err) {
      details.push({ path: 'body.transcode', message: (err as Error).message });
    }
  }
  const dvr = next.dvrWindowSec !== undefined ? next.dvrWindowSec : current?.dvrWindowSec ?? null;
  const retention = next.retentionHours !== undefined ? next.retentionHours : current?.retentionHours ?? null;
  if (dvr !== null && retention !== null && dvr > retention * 3600) {
    details.push({ path: 'body.dvrWindowSec', message: `the DVR window (${dvr} s) is longer than the retention (${retention * 3600} s)` });
  }
  if (details.length > 0) {
    throw new ApiError('VALIDATION_FAILED', `invalid body: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
  }
}

/** The database fields for the settings given (transcode is stored as transcodeProfile). */
function patchOf(s: Settings): ChannelPatch {
  const { transcode, failover, ...rest } = s;
  const patch: ChannelPatch = failover === undefined ? rest : { ...rest, failover: failover as ChannelPatch['failover'] };
  return transcode === undefined ? patch : { ...patch, transcodeProfile: transcodeToStored(transcode) };
}

/** The stored values of the fields a patch changes: what undoes it. */
function undoOf(before: Channel, patch: ChannelPatch): ChannelPatch {
  const undo: Record<string, unknown> = {};
  for (const k of Object.keys(patch) as (keyof ChannelPatch)[]) undo[k] = before[k];
  return undo as ChannelPatch;
}

/**
 * One page of all channels, config and database alike, by id. The cursor is the last id of the
 * page; the database's channel cursor is the same key (a keyset on id), so it is passed on.
 */
async function channelPage(ctx: ApiContext, limit: number, cursor: string | undefined): Promise<{ items: FoundChannel[]; nextCursor: string | null }> {
  const after = cursor === undefined ? undefined : String(decodeCursor(cursor, ['s'])[0]);
  const fromDb = await ctx.db.channels.list({ limit, cursor: after === undefined ? null : encodeCursor([after]) });
  const configs = ctx.runtime.staticChannels().filter((s) => after === undefined || s.id > after);
  const configIds = new Set(configs.map((s) => s.id));
  const merged: FoundChannel[] = [
    ...configs.map((config) => ({ source: 'config' as const, config })),
    ...fromDb.items.filter((r) => !configIds.has(r.id)).map((record) => ({ source: 'api' as const, record })),
  ];
  const idOf = (f: FoundChannel) => (f.source === 'api' ? f.record.id : f.config.id);
  merged.sort((a, b) => (idOf(a) < idOf(b) ? -1 : 1));
  const items = merged.slice(0, limit);
  const more = merged.length > limit || fromDb.nextCursor !== null;
  return { items, nextCursor: more && items.length > 0 ? encodeCursor([idOf(items[items.length - 1])]) : null };
}

export function channelRoutes(app: ApiApp, ctx: ApiContext): void {
  const tags = ['channels'];

  app.post('/v1/channels', {
    schema: { tags, summary: 'Create a channel and its first stream key (the key\'s secret is shown once)', body: createBody,
      response: { 201: channelView.extend({ streamKey: issuedStreamKeyView }) } },
    config: { access: 'write', errors: [409] },
  }, async (req, reply) => {
    const { id: wanted, transcode, failover, ...rest } = req.body;
    checkSettings(ctx, req.body);
    const id = wanted ?? newId('ch', ctx.now());
    if (ctx.runtime.staticChannels().some((s) => s.id === id)) {
      throw new ApiError('CHANNEL_ID_TAKEN', `channel "${id}" is defined in the config file`);
    }
    const created = await ctx.db.transaction(async (tx) => {
      const channel = await tx.channels.create({ id, ...rest, failover: failover as Channel['failover'], transcodeProfile: transcodeToStored(transcode) });
      return { channel, ...await issueStreamKey(ctx, tx.streamKeys, id, 'default') };
    }).catch((err: unknown) => {
      if (err instanceof UniqueViolationError && err.table === 'channels') throw new ApiError('CHANNEL_ID_TAKEN', `channel "${id}" exists`);
      throw err;
    });
    try {
      await ctx.runtime.apply(created.channel);
    } catch (err) {
      // The origin could not serve it: no channel, rather than one that silently does not work.
      await ctx.db.channels.delete(id);
      throw err;
    }
    const view = viewOf(ctx, { source: 'api', record: created.channel });
    return reply.code(201).send({ ...view, streamKey: issuedView(ctx, created.key, created.secret) });
  });

  app.get('/v1/channels', {
    schema: { tags, summary: 'List channels (config and API ones), by id', querystring: query(pageQuery), response: { 200: page(channelView) } },
    config: { access: 'read' },
  }, async (req) => {
    return pageOf(await channelPage(ctx, req.query.limit, req.query.cursor), (f) => viewOf(ctx, f));
  });

  app.get('/v1/channels/:id', {
    schema: { tags, summary: 'Get a channel with its status and URLs', params: idParams, response: { 200: channelView } },
    config: { access: 'read', errors: [404] },
  }, async (req) => viewOf(ctx, await findChannel(ctx, req.params.id)));

  app.patch('/v1/channels/:id', {
    schema: { tags, summary: 'Change a channel (applied to the origin; media settings take effect from the next session)',
      params: idParams, body: patchBody, response: { 200: channelView } },
    config: { access: 'write', errors: [404, 409] },
  }, async (req) => {
    const before = await apiChannel(ctx, req.params.id);
    checkSettings(ctx, req.body, before);
    const patch = patchOf(req.body);
    const after = await ctx.db.channels.update(before.id, patch);
    if (!after) throw new ApiError('CHANNEL_NOT_FOUND', `channel "${before.id}" was deleted meanwhile`);
    try {
      await ctx.runtime.apply(after);
    } catch (err) {
      await ctx.db.channels.update(before.id, undoOf(before, patch));
      throw err;
    }
    return viewOf(ctx, { source: 'api', record: after });
  });

  app.delete('/v1/channels/:id', {
    schema: { tags, summary: 'Delete a channel and its stream keys (its publisher is disconnected; its events stay)', params: idParams,
      response: { 204: z.void().describe('Deleted') } },
    config: { access: 'write', errors: [404, 409] },
  }, async (req, reply) => {
    const channel = await apiChannel(ctx, req.params.id);
    if (await ctx.db.channels.delete(channel.id)) await ctx.runtime.remove(channel.id);
    return reply.code(204).send();
  });
}
