import { z } from 'zod';
import { channelStatusView, findChannel, statusView } from './channel-lookup.js';
import type { ApiApp, ApiContext } from './context.js';
import { fromBeforeTo, idParams, instant, iso, isoOrNull, isoTime, list, optionalBody, query } from './schemas.js';

/**
 * What the running origin does with a channel, config or API alike: start (preview → live),
 * stop, its publish sessions, catchup URLs and signed playback tokens.
 */

/** Playback tokens live at most a week (a leaked URL must stop working). */
export const MAX_PLAYBACK_TOKEN_SEC = 7 * 86400;

const sessionView = z.object({
  startedAt: isoTime, endedAt: isoTime.nullable().describe('null while the session is on'),
  slates: z.array(z.object({ startedAt: isoTime, endedAt: isoTime })).describe('when the slate stood in for the publisher (no input fit)'),
});

const catchupQuery = query({ from: instant, to: instant }).superRefine(fromBeforeTo);

const playbackTokenBody = optionalBody({
  expiresInSec: z.number().int().min(10).max(MAX_PLAYBACK_TOKEN_SEC).default(3600).describe('Lifetime, seconds'),
  preview: z.boolean().default(false).describe('Also plays while the channel is in preview (before start)'),
});

/** The playback URL with ?token=… (or &token=… after a query it already has). */
function withToken(url: string, token: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
}

export function channelControlRoutes(app: ApiApp, ctx: ApiContext): void {
  const tags = ['control'];

  app.post('/v1/channels/:id/start', {
    schema: { tags, summary: 'Make a previewing channel live (emits channel.live)', params: idParams, response: { 200: channelStatusView } },
    config: { access: 'write', errors: [404, 409] },
  }, async (req) => {
    await findChannel(ctx, req.params.id);
    return statusView(await ctx.runtime.start(req.params.id));
  });

  app.post('/v1/channels/:id/stop', {
    schema: { tags, summary: 'End the session now: the publisher is disconnected, the playlist ends (emits channel.ended)',
      params: idParams, response: { 200: channelStatusView } },
    config: { access: 'write', errors: [404, 409] },
  }, async (req) => {
    await findChannel(ctx, req.params.id);
    return statusView(await ctx.runtime.stop(req.params.id));
  });

  app.post('/v1/channels/:id/inputs/:input/activate', {
    schema: { tags, summary: 'Put a connected, healthy input on air at its next keyframe (emits input.failover or input.restored); '
      + 'it stays on air (no auto failback) until it fails', params: z.object({ id: idParams.shape.id, input: z.string().regex(/^(primary|backup[1-4])$/, "input: 'primary' or 'backup1'…'backup4'") }),
    response: { 200: channelStatusView } },
    config: { access: 'write', errors: [404, 409] },
  }, async (req) => {
    await findChannel(ctx, req.params.id);
    return statusView(await ctx.runtime.activateInput(req.params.id, req.params.input));
  });

  app.get('/v1/channels/:id/sessions', {
    schema: { tags, summary: 'Publish sessions kept in the channel\'s archive, oldest first', params: idParams, response: { 200: list(sessionView) } },
    config: { access: 'read', errors: [404] },
  }, async (req) => {
    await findChannel(ctx, req.params.id);
    const sessions = await ctx.runtime.sessions(req.params.id);
    return { items: sessions.map((s) => ({ startedAt: iso(s.startedAt), endedAt: isoOrNull(s.endedAt),
      slates: s.slates.map((l) => ({ startedAt: iso(l.startMs), endedAt: iso(l.endMs) })) })) };
  });

  app.get('/v1/channels/:id/catchup', {
    schema: { tags, summary: 'The catchup playlist URL for a time range', params: idParams, querystring: catchupQuery,
      response: { 200: z.object({ url: z.string() }) } },
    config: { access: 'read', errors: [404] },
  }, async (req) => {
    await findChannel(ctx, req.params.id);
    return { url: ctx.runtime.catchupUrl(req.params.id, req.query.from, req.query.to) };
  });

  app.post('/v1/channels/:id/playback-tokens', {
    schema: { tags: ['playback'], summary: 'A signed playback token for the channel, and the playback URL carrying it',
      params: idParams, body: playbackTokenBody,
      response: { 201: z.object({ token: z.string(), expiresAt: isoTime, playbackUrl: z.string() }) } },
    config: { access: 'write', errors: [404, 409] },
  }, async (req, reply) => {
    await findChannel(ctx, req.params.id);
    const { token, expiresAt } = await ctx.runtime.playbackToken(req.params.id, req.body);
    return reply.code(201).send({ token, expiresAt: iso(expiresAt), playbackUrl: withToken(ctx.runtime.urls(req.params.id).playback, token) });
  });
}
