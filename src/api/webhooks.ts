import { z } from 'zod';
import type { Delivery, DeliveryAttempt, WebhookEndpoint } from '../db/types.js';
import type { ApiApp, ApiContext } from './context.js';
import { ApiError } from './errors.js';
import { EVENT_TYPES } from './event-types.js';
import { idParams, iso, isoOrNull, isoTime, page, pageOf, pageQuery, pathId, query } from './schemas.js';
import { newSecret } from './secrets.js';

/**
 * Webhook endpoints (admin scope), their outbox rows and delivery log, and manual redelivery.
 * The signing secret is generated unless given, shown in the creation answer only, and never
 * returned afterwards (PATCH can replace it).
 */

const httpUrl = z.string().max(2048).url().refine((u) => /^https?:\/\//i.test(u), 'the URL must be http or https');
const eventTypes = z.array(z.enum(['*', ...EVENT_TYPES]))
  .min(1).max(EVENT_TYPES.length + 1).refine((t) => new Set(t).size === t.length, 'event types must not repeat')
  .describe('Event types delivered to the endpoint; "*" for all (answered sorted)');
const secret = z.string().min(16).max(256).describe('HMAC-SHA256 signing secret; generated when absent');

const endpointView = z.object({
  id: z.string(),
  url: z.string(),
  eventTypes: z.array(z.string()),
  enabled: z.boolean(),
  createdAt: isoTime,
  updatedAt: isoTime,
});

const viewOfEndpoint = (e: WebhookEndpoint): z.input<typeof endpointView> =>
  ({ id: e.id, url: e.url, eventTypes: e.eventTypes, enabled: e.enabled, createdAt: iso(e.createdAt), updatedAt: iso(e.updatedAt) });

const deliveryView = z.object({
  id: z.number().int(),
  eventId: z.string(),
  state: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  nextAttemptAt: isoTime,
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: isoTime,
  updatedAt: isoTime,
  deliveredAt: isoTime.nullable(),
});

const viewOfDelivery = (d: Delivery): z.input<typeof deliveryView> => ({
  id: d.id, eventId: d.eventId, state: d.state, attempts: d.attempts, nextAttemptAt: iso(d.nextAttemptAt), lastStatus: d.lastStatus,
  lastError: d.lastError, createdAt: iso(d.createdAt), updatedAt: iso(d.updatedAt), deliveredAt: isoOrNull(d.deliveredAt),
});

const attemptView = z.object({
  id: z.number().int(),
  deliveryId: z.number().int(),
  eventId: z.string(),
  attempt: z.number().int(),
  at: isoTime,
  ok: z.boolean(),
  status: z.number().int().nullable(),
  error: z.string().nullable(),
  durationMs: z.number(),
});

const viewOfAttempt = (a: DeliveryAttempt): z.input<typeof attemptView> => ({
  id: a.id, deliveryId: a.deliveryId, eventId: a.eventId, attempt: a.attempt, at: iso(a.at), ok: a.ok, status: a.status,
  error: a.error, durationMs: a.durationMs,
});

const notFound = (id: string) => new ApiError('WEBHOOK_NOT_FOUND', `no webhook endpoint "${id}"`);

async function endpointOr404(ctx: ApiContext, id: string): Promise<WebhookEndpoint> {
  const endpoint = await ctx.db.webhooks.get(id);
  if (!endpoint) throw notFound(id);
  return endpoint;
}

export function webhookRoutes(app: ApiApp, ctx: ApiContext): void {
  const tags = ['webhooks'];

  app.post('/v1/webhooks', {
    schema: { tags, summary: 'Add a webhook endpoint (its signing secret is shown once)',
      body: z.object({ url: httpUrl, eventTypes, secret: secret.optional(), enabled: z.boolean().default(true) }).strict(),
      response: { 201: endpointView.extend({ secret: z.string().describe('Signing secret: shown only in this answer') }) } },
    config: { access: 'admin' },
  }, async (req, reply) => {
    const signing = req.body.secret ?? newSecret('webhook');
    const endpoint = await ctx.db.webhooks.create({ ...req.body, secret: signing });
    return reply.code(201).send({ ...viewOfEndpoint(endpoint), secret: signing });
  });

  app.get('/v1/webhooks', {
    schema: { tags, summary: 'List webhook endpoints, oldest first', querystring: query(pageQuery), response: { 200: page(endpointView) } },
    config: { access: 'admin' },
  }, async (req) => {
    return pageOf(await ctx.db.webhooks.list(req.query), viewOfEndpoint);
  });

  app.get('/v1/webhooks/:id', {
    schema: { tags, summary: 'Get a webhook endpoint', params: idParams, response: { 200: endpointView } },
    config: { access: 'admin', errors: [404] },
  }, async (req) => viewOfEndpoint(await endpointOr404(ctx, req.params.id)));

  app.patch('/v1/webhooks/:id', {
    schema: { tags, summary: 'Change a webhook endpoint (a new secret is accepted, never shown)', params: idParams,
      body: z.object({ url: httpUrl, eventTypes, secret, enabled: z.boolean() }).partial().strict(), response: { 200: endpointView } },
    config: { access: 'admin', errors: [404] },
  }, async (req) => {
    const endpoint = await ctx.db.webhooks.update(req.params.id, req.body);
    if (!endpoint) throw notFound(req.params.id);
    return viewOfEndpoint(endpoint);
  });

  app.delete('/v1/webhooks/:id', {
    schema: { tags, summary: 'Delete a webhook endpoint with its pending deliveries and log', params: idParams,
      response: { 204: z.void().describe('Deleted') } },
    config: { access: 'admin', errors: [404] },
  }, async (req, reply) => {
    if (!(await ctx.db.webhooks.delete(req.params.id))) throw notFound(req.params.id);
    return reply.code(204).send();
  });

  app.get('/v1/webhooks/:id/deliveries', {
    schema: { tags, summary: 'The endpoint\'s deliveries (outbox rows), newest first', params: idParams,
      querystring: query({ state: z.enum(['pending', 'delivered', 'failed']).optional(), ...pageQuery }),
      response: { 200: page(deliveryView) } },
    config: { access: 'admin', errors: [404] },
  }, async (req) => {
    await endpointOr404(ctx, req.params.id);
    return pageOf(await ctx.db.outbox.listForEndpoint(req.params.id, req.query), viewOfDelivery);
  });

  app.get('/v1/webhooks/:id/attempts', {
    schema: { tags, summary: 'The endpoint\'s delivery log: every attempt, newest first', params: idParams,
      querystring: query(pageQuery), response: { 200: page(attemptView) } },
    config: { access: 'admin', errors: [404] },
  }, async (req) => {
    await endpointOr404(ctx, req.params.id);
    return pageOf(await ctx.db.deliveryLog.listForEndpoint(req.params.id, req.query), viewOfAttempt);
  });

  app.post('/v1/webhooks/:id/deliveries/:eventId/redeliver', {
    schema: { tags, summary: 'Deliver an event to the endpoint again, now, with a fresh attempt count',
      params: z.object({ id: pathId, eventId: pathId }), response: { 202: deliveryView } },
    config: { access: 'admin', errors: [404] },
  }, async (req, reply) => {
    await endpointOr404(ctx, req.params.id);
    if (!(await ctx.db.events.get(req.params.eventId))) throw new ApiError('EVENT_NOT_FOUND', `no event "${req.params.eventId}"`);
    const delivery = await ctx.db.outbox.redeliver(req.params.id, req.params.eventId);
    ctx.onRedeliver?.();
    return reply.code(202).send(viewOfDelivery(delivery));
  });
}
