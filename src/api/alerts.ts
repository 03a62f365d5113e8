import { z } from 'zod';
import type { StoredAlert } from '../db/types.js';
import type { ApiApp, ApiContext } from './context.js';
import { ApiError } from './errors.js';
import { idParams, iso, isoOrNull, isoTime, page, pageOf, pageQuery, query } from './schemas.js';

/** The alerts the origin raised (src/ops/alerts), active and cleared, newest raise first. */

export const alertView = z.object({
  id: z.string().describe('The alertId of its alert.raised and alert.cleared events'),
  rule: z.string().describe('publisherStalled, bitrateLow, keyframeInterval, avDrift, diskLow, … (README: Alerts)'),
  channelId: z.string().nullable().describe('null for origin-wide rules (diskLow, webhookFailing, eventLoopLag)'),
  state: z.enum(['active', 'cleared']),
  raisedAt: isoTime,
  clearedAt: isoTime.nullable(),
  value: z.number().nullable().describe('The reading that raised it, in unit'),
  threshold: z.number(),
  unit: z.string(),
  message: z.string().describe('Why it was raised'),
  clearValue: z.number().nullable().describe('The reading when it cleared (null: nothing to read, e.g. the publisher left)'),
  clearMessage: z.string().nullable(),
});

const viewOfAlert = (a: StoredAlert): z.input<typeof alertView> => ({
  id: a.id, rule: a.rule, channelId: a.channelId, state: a.state, raisedAt: iso(a.raisedAt), clearedAt: isoOrNull(a.clearedAt),
  value: a.value, threshold: a.threshold, unit: a.unit, message: a.message, clearValue: a.clearValue, clearMessage: a.clearMessage,
});

const alertsQuery = query({
  state: z.enum(['active', 'cleared', 'all']).default('all').describe('active: raised and not cleared; cleared: the history'),
  channelId: z.string().min(1).max(128).optional().describe('Only this channel\'s alerts'),
  rule: z.string().min(1).max(64).optional().describe('Only this rule\'s alerts'),
  ...pageQuery,
});

export function alertRoutes(app: ApiApp, ctx: ApiContext): void {
  const tags = ['alerts'];

  app.get('/v1/alerts', {
    schema: { tags, summary: 'Alerts, newest raise first: active ones and the history', querystring: alertsQuery, response: { 200: page(alertView) } },
    config: { access: 'read' },
  }, async (req) => {
    const { state, ...rest } = req.query;
    return pageOf(await ctx.db.alerts.list({ ...rest, state: state === 'all' ? undefined : state }), viewOfAlert);
  });

  app.get('/v1/alerts/:id', {
    schema: { tags, summary: 'Get one alert', params: idParams, response: { 200: alertView } },
    config: { access: 'read', errors: [404] },
  }, async (req) => {
    const alert = await ctx.db.alerts.get(req.params.id);
    if (!alert) throw new ApiError('ALERT_NOT_FOUND', `no alert "${req.params.id}"`);
    return viewOfAlert(alert);
  });
}
