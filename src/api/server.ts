import Fastify, { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { ChannelRuntime } from '../control/channel-runtime.js';
import type { ServerKeys } from '../control/server-secret.js';
import type { Database } from '../db/repository.js';
import type { RungRef } from '../media/transcode/ladder.js';
import { alertRoutes } from './alerts.js';
import { analyticsRoutes } from './analytics.js';
import { apiTokenRoutes } from './api-tokens.js';
import { Authenticator, FailedAuthLimiter } from './auth.js';
import { channelControlRoutes } from './channel-control.js';
import { consoleRoutes } from './console-files.js';
import { channelRoutes } from './channels.js';
import type { ApiApp, ApiContext } from './context.js';
import { errorReply } from './errors.js';
import { eventRoutes } from './events.js';
import { healthRoutes } from './health.js';
import type { Readiness } from '../ops/readiness.js';
import { describeRoute, registerOpenApi } from './openapi.js';
import { recordingRoutes } from './recordings.js';
import { streamKeyRoutes } from './stream-keys.js';
import { restreamRoutes } from './restream.js';
import { webhookRoutes } from './webhooks.js';
import { whipRoutes, type WhipRoutesOptions } from './whip.js';
import { PublishTokens } from '../control/publish-tokens.js';
import { beaconRoutes } from './beacon.js';
import { BeaconIntake } from './beacon-intake.js';
import { SessionIds } from '../analytics/session-key.js';
import type { ViewerEventSink } from '../analytics/viewer-events.js';
import { PlaybackTokens } from '../delivery/access/playback-tokens.js';

export interface ApiServerOptions {
  db: Database;
  runtime: ChannelRuntime;
  keys: ServerKeys;
  logger: Logger;
  /** api.maxFailedAuthPerMinute: failed authentications per client address per minute before 429. */
  maxFailedAuthPerMinute: number;
  /** Called after a manual redelivery was queued (wakes the webhook sender). */
  onRedeliver?: () => void;
  now?: () => number;
  /** The config's transcode.ladders (names a channel's transcode may use); default none. */
  transcodeLadders?: Readonly<Record<string, readonly RungRef[]>>;
  /** Serves /healthz and /readyz (no token) when given. */
  readiness?: Readiness;
  /** GET /metrics, and what counts the API's requests in it (src/ops/metrics); absent: no /metrics. */
  metrics?: ApiMetrics;
  /** Where POST /v1/beacon hands accepted beacons (the viewer analytics); absent: checked, then dropped. */
  viewers?: ViewerEventSink;
  /** Whether delivery keys a channel's viewers by their tokens' jti (it asks for tokens); default: whenever a token is given. */
  keysViewersByToken?: (channel: string) => boolean;
  /** WHIP ingest, publish tokens and the Go-live page; absent: WHIP answers 503, tokens still minted. */
  whip?: WhipRoutesOptions;
}

export interface ApiMetrics {
  register(app: ApiApp): void;
  /** One API request answered, after `seconds`. */
  observe(status: number, seconds: number): void;
}

export interface ApiServer {
  /** The Fastify instance: `app.inject()` answers without a socket. */
  app: ApiApp;
  /** Listens; resolves with the port (the one picked when `port` is 0). */
  listen(host: string, port: number): Promise<number>;
  /** Stops listening, waits for requests in flight and the last lastUsedAt writes. */
  close(): Promise<void>;
}

/** Bodies are small JSON documents; anything bigger is a mistake or an attack (413). */
const BODY_LIMIT = 64 * 1024;

/** Any error as its JSON answer; an unexpected one is logged whole, and only its code goes out. */
function sendError(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const r = errorReply(err);
  if (r.internal) req.log.error({ err }, 'API request failed');
  return reply.code(r.status).headers(r.headers).send(r.body);
}

/**
 * The REST control API (/v1): JSON in and out, every input validated by zod schemas that also
 * make the OpenAPI document, bearer-token auth with scopes, one log line per request.
 */
export function createApiServer(opts: ApiServerOptions): ApiServer {
  const now = opts.now ?? Date.now;
  const logger = opts.logger.child({ component: 'api' });
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One line per request, written by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    exposeHeadRoutes: false,
    return503OnClosing: true,
    // Long enough for the schemas to answer a too-long id (400 with details); longer still is a framework error.
    routerOptions: { maxParamLength: 1000 },
    frameworkErrors: (err, req, reply) => sendError(err, req, reply),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // JSON only (415 for anything else); an empty body is no body, as clients often send one with POST.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if ((body as string).trim() === '') done(null, undefined);
    else json(req, body as string, done);
  });

  const auth = new Authenticator({
    db: opts.db, hash: opts.keys.apiTokens, limiter: new FailedAuthLimiter(opts.maxFailedAuthPerMinute, now), now, logger,
  });
  app.decorateRequest('apiToken', null);
  app.addHook('onRoute', describeRoute);
  app.addHook('onRequest', async (req) => {
    const access = req.routeOptions.config.access;
    // undefined: no route matched (the 404 answer needs no token).
    if (access === undefined || access === 'public') return;
    req.apiToken = await auth.authenticate(req.headers.authorization, req.ip, access);
  });
  app.addHook('onResponse', async (req, reply) => {
    opts.metrics?.observe(reply.statusCode, reply.elapsedTime / 1000);
    req.log.info({ method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime),
      tokenId: req.apiToken?.id, address: req.ip }, 'api request');
  });
  app.setErrorHandler(sendError);
  app.setNotFoundHandler((req, reply) => reply.code(404).send({
    error: { code: 'ROUTE_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0].slice(0, 200)}` },
  }));

  const ctx: ApiContext = {
    db: opts.db, runtime: opts.runtime, keys: opts.keys, logger, now, ladders: opts.transcodeLadders ?? {}, onRedeliver: opts.onRedeliver,
  };
  app.register(async (scoped) => {
    const api = scoped.withTypeProvider<ZodTypeProvider>();
    await registerOpenApi(api);
    opts.metrics?.register(api);
    for (const routes of [channelRoutes, streamKeyRoutes, restreamRoutes, channelControlRoutes, recordingRoutes, eventRoutes, alertRoutes, analyticsRoutes, apiTokenRoutes, webhookRoutes]) {
      routes(api, ctx);
    }
    if (opts.readiness) healthRoutes(api, opts.readiness);
    consoleRoutes(api);
    whipRoutes(api, ctx, opts.whip ?? { ingest: undefined, tokens: new PublishTokens(opts.keys.publishTokens), playbackBase: () => ({ port: 8080 }) });
    beaconRoutes(api, new BeaconIntake({
      serves: (id) => opts.runtime.status(id) !== undefined, sessionIds: new SessionIds(opts.keys.playbackTokens),
      tokens: new PlaybackTokens(opts.keys.playbackTokens), sink: opts.viewers, keysViewersByToken: opts.keysViewersByToken, now,
    }));
  });

  return {
    app,
    async listen(host, port) {
      await app.listen({ host, port });
      const address = app.server.address();
      return typeof address === 'object' && address !== null ? address.port : port;
    },
    async close() {
      await app.close();
      await auth.settled();
    },
  };
}
