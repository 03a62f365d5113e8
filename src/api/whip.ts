import { z } from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { PublishTokens } from '../control/publish-tokens.js';
import type { WhipIngest } from '../ingest/whip/whip-ingest.js';
import { findChannel } from './channel-lookup.js';
import type { ApiApp, ApiContext } from './context.js';
import { ApiError, errorBodySchema } from './errors.js';
import { goLiveHtml, type PlaybackBase } from './go-live-page.js';
import { iso, isoTime, pathId } from './schemas.js';

/**
 * WHIP (RFC 9725) on the API's port: POST /v1/whip/<channel> with an SDP offer and the
 * channel's stream key or a publish token as bearer answers 201 with the SDP answer and the
 * session's URL (Location), whose DELETE ends the broadcast. Trickle ICE is not offered (the
 * answer lists every candidate): PATCH answers 405, as the RFC asks. CORS lets a page on any
 * origin publish (the key or token is the credential, not a cookie). Also here: the Go-live
 * page, and publish tokens (so a browser never holds the stream key).
 */

export interface WhipRoutesOptions {
  ingest: WhipIngest | undefined;
  tokens: PublishTokens;
  /** Read when the page is first asked for (the HTTP port is known by then). */
  playbackBase: () => PlaybackBase;
}

const CORS = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'Location, ETag, Accept-Patch' };
const PREFLIGHT = {
  ...CORS,
  'access-control-allow-methods': 'POST, DELETE, PATCH, OPTIONS',
  'access-control-allow-headers': 'Authorization, Content-Type, If-Match',
  'access-control-max-age': '86400',
};
/** An SDP offer of a browser is a few kB; with many candidates and codecs, still far below this. */
const SDP_LIMIT = 64 * 1024;
/** Publish tokens last an hour unless asked otherwise. */
const DEFAULT_PUBLISH_TOKEN_SEC = 3600;

const channelParam = z.object({ channel: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a channel id') });
const sessionParams = channelParam.extend({ session: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a session id') });

function bearerOf(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

export function whipRoutes(app: ApiApp, ctx: ApiContext, o: WhipRoutesOptions): void {
  app.register(async (scoped) => {
    // Bodies are read as text whatever their type (a PATCH carries an SDP fragment); the offer
    // must be application/sdp, which the hook checks, so a JSON body gets 415, not a schema error.
    scoped.addContentTypeParser('*', { parseAs: 'string', bodyLimit: SDP_LIMIT }, (_req, body, done) => done(null, body));
    scoped.addHook('onRequest', async (_req, reply) => { reply.headers(CORS); });
    scoped.addHook('preValidation', async (req) => {
      if (req.method === 'POST' && !/^application\/sdp\s*(;|$)/i.test(req.headers['content-type'] ?? '')) throw new ApiError('UNSUPPORTED_SDP_TYPE');
    });
    const api = scoped.withTypeProvider<ZodTypeProvider>();
    const tags = ['whip'];

    api.post('/v1/whip/:channel', {
      schema: { tags, summary: 'Go live over WebRTC (WHIP): an SDP offer in, the SDP answer out (bearer: the stream key or a publish token)',
        params: channelParam, body: z.string().describe('The SDP offer (application/sdp)'),
        response: { 201: z.string().describe('The SDP answer (application/sdp); Location: the session, DELETE it to stop') } },
      config: { access: 'public', errors: [404, 409, 415, 503] },
    }, async (req, reply) => {
      if (!o.ingest) throw new ApiError('WHIP_UNAVAILABLE', 'WHIP ingest is off on this origin (whip.enabled)');
      const r = await o.ingest.publish({ channelId: req.params.channel, bearer: bearerOf(req.headers.authorization), offer: req.body, remoteAddress: req.ip });
      if ('refused' in r) {
        const headers: Record<string, string> = r.refused === 'PUBLISH_UNAUTHORIZED' ? { 'www-authenticate': 'Bearer realm="whip"' } : {};
        throw new ApiError(r.refused, r.reason, undefined, headers);
      }
      return reply.code(201).headers({ 'content-type': 'application/sdp', location: `/v1/whip/${req.params.channel}/sessions/${r.sessionId}`, etag: `"${r.sessionId}"` })
        .serializer((s: string) => s).send(r.answer);
    });

    api.delete('/v1/whip/:channel/sessions/:session', {
      schema: { tags, summary: 'End a WHIP session (the broadcast stops; its URL is its capability)', params: sessionParams,
        response: { 200: z.object({ ended: z.literal(true) }) } },
      config: { access: 'public', errors: [404] },
    }, async (req) => {
      if (!o.ingest?.end(req.params.channel, req.params.session)) throw new ApiError('WHIP_SESSION_NOT_FOUND');
      return { ended: true as const };
    });

    api.patch('/v1/whip/:channel/sessions/:session', {
      schema: { tags, summary: 'Trickle ICE and ICE restarts: not supported (405); the answer lists every candidate', params: sessionParams,
        response: { 405: errorBodySchema.describe('TRICKLE_NOT_SUPPORTED') } },
      config: { access: 'public', errors: [405] },
    }, async () => { throw new ApiError('TRICKLE_NOT_SUPPORTED'); });

    for (const path of ['/v1/whip/:channel', '/v1/whip/:channel/sessions/:session']) {
      api.options(path, {
        schema: { tags, summary: 'CORS preflight', response: { 204: z.void().describe('Allowed') } },
        config: { access: 'public' },
      }, async (_req, reply) => reply.code(204).headers({ ...PREFLIGHT, 'accept-post': 'application/sdp' }).send());
    }
  });

  app.post('/v1/channels/:id/publish-tokens', {
    schema: { tags: ['whip'], summary: 'A short-lived publish token: a browser (the Go-live page, any WHIP client) publishes with it instead of the stream key',
      params: z.object({ id: pathId }),
      body: z.object({ expiresInSec: z.number().int().min(60).max(86_400).default(DEFAULT_PUBLISH_TOKEN_SEC) }).strict().default({}),
      response: { 201: z.object({ token: z.string(), expiresAt: isoTime, whipUrl: z.string(), goLiveUrl: z.string() }) } },
    config: { access: 'write', errors: [404] },
  }, async (req, reply) => {
    await findChannel(ctx, req.params.id);
    const { token, expiresAt } = await o.tokens.sign(req.params.id, req.body.expiresInSec);
    const whipUrl = ctx.runtime.urls(req.params.id).whip;
    return reply.code(201).send({ token, expiresAt: iso(expiresAt), whipUrl,
      goLiveUrl: `${whipUrl.replace(/\/v1\/whip\/.*$/, '')}/go-live#channel=${encodeURIComponent(req.params.id)}&token=${encodeURIComponent(token)}` });
  });

  let page: string | undefined;
  app.get('/go-live', {
    schema: { tags: ['whip'], summary: 'The Go-live page: broadcast from a browser (camera or screen) over WHIP, with a preview of the HLS output',
      response: { 200: z.string().describe('The page (text/html)') } },
    config: { access: 'public' },
  }, async (_req, reply) => {
    page ??= goLiveHtml(o.playbackBase());
    return reply.headers({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache',
      // The page's own script and hls.js from the origin's player assets; media from anywhere it plays.
      'permissions-policy': 'camera=(self), microphone=(self), display-capture=(self)' }).serializer((html: string) => html).send(page);
  });
}
