import { z } from 'zod';
import type { EventQuery, StoredEvent } from '../db/types.js';
import { findChannel } from './channel-lookup.js';
import type { ApiApp, ApiContext } from './context.js';
import { ApiError } from './errors.js';
import { fromBeforeTo, idParams, instant, iso, isoTime, page, pageOf, pageQuery, query } from './schemas.js';

/** The stored lifecycle events, newest first. */

export const eventView = z.object({
  id: z.string(),
  type: z.string().describe('channel.preview, channel.live, channel.ended, recording.ready, …'),
  channelId: z.string().nullable().describe('null for events about the whole origin (storage.low, …)'),
  occurredAt: isoTime,
  payload: z.record(z.unknown()),
});

export const viewOfEvent = (e: StoredEvent): z.input<typeof eventView> =>
  ({ id: e.id, type: e.type, channelId: e.channelId, occurredAt: iso(e.occurredAt), payload: e.payload });

const filters = {
  type: z.string().min(1).max(100).optional().describe('Only events of this type'),
  from: instant.optional().describe('Inclusive lower bound: ISO 8601 or epoch ms'),
  to: instant.optional().describe('Exclusive upper bound: ISO 8601 or epoch ms'),
  ...pageQuery,
};

const eventsQuery = query({ channelId: z.string().min(1).max(128).optional().describe('Only events of this channel'), ...filters })
  .superRefine(fromBeforeTo);

async function eventPage(ctx: ApiContext, q: EventQuery) {
  return pageOf(await ctx.db.events.query(q), viewOfEvent);
}

export function eventRoutes(app: ApiApp, ctx: ApiContext): void {
  const tags = ['events'];

  app.get('/v1/events', {
    schema: { tags, summary: 'Query stored events, newest first', querystring: eventsQuery, response: { 200: page(eventView) } },
    config: { access: 'read' },
  }, async (req) => eventPage(ctx, req.query));

  app.get('/v1/events/:id', {
    schema: { tags, summary: 'Get one event', params: idParams, response: { 200: eventView } },
    config: { access: 'read', errors: [404] },
  }, async (req) => {
    const event = await ctx.db.events.get(req.params.id);
    if (!event) throw new ApiError('EVENT_NOT_FOUND', `no event "${req.params.id}"`);
    return viewOfEvent(event);
  });

  app.get('/v1/channels/:id/events', {
    schema: { tags, summary: 'A channel\'s events, newest first (a deleted channel\'s: GET /v1/events?channelId=…)', params: idParams,
      querystring: query(filters).superRefine(fromBeforeTo), response: { 200: page(eventView) } },
    config: { access: 'read', errors: [404] },
  }, async (req) => {
    await findChannel(ctx, req.params.id);
    return eventPage(ctx, { ...req.query, channelId: req.params.id });
  });
}
