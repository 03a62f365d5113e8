import { z } from 'zod';
import { INTERVAL_MS, reportPoints, type ReportPoint } from '../analytics/analytics-report.js';
import { parseTimeSpec } from '../delivery/archive-responder.js';
import { findChannel } from './channel-lookup.js';
import type { ApiApp, ApiContext } from './context.js';
import { ApiError } from './errors.js';
import { idParams, iso, isoTime, query } from './schemas.js';

/** Viewer analytics (README: Viewer analytics): minute rows summed over every origin writing to this database. */

/** The longest range one request covers, and the most points it returns. */
export const MAX_RANGE_MS = 31 * 86_400_000;
export const MAX_POINTS = 1500;
/** An origin's realtime CCU counts while its latest sample is at most this old (samples come every 10 s). */
export const REALTIME_FRESH_MS = 30_000;

const timeSpec = z.string().regex(/^(\d{1,11}|\d{8}T\d{6}Z|now)$/, 'expected epoch seconds, ISO 8601 basic UTC (20261125T182600Z) or now');
const secondsBy = z.record(z.number()).describe('Watch seconds by value');

const pointView = z.object({
  start: isoTime,
  ccuMax: z.number().describe('Largest CCU sampled in the interval (every 10 s; several origins: their peaks of a minute added up)'),
  ccuAvg: z.number().describe('Mean CCU over the interval\'s minutes (a minute without viewers counts as 0)'),
  sessions: z.number().int().describe('Viewer sessions started'),
  views: z.number().int().describe('Sessions that reached analytics.viewAfterSec of watch time'),
  newUniqueViewers: z.number().int().describe('Viewers seen for the first time that UTC day (per origin); summed over a whole day: the day\'s unique viewers'),
  watchTimeSec: z.object({ total: z.number(), live: z.number(), dvr: z.number(), catchup: z.number() }),
  rebufferRatio: z.number().nullable().describe('Rebuffering time over play time, from player beacons; null without beacons'),
  byRendition: secondsBy, byProtocol: secondsBy, byPlayer: secondsBy, byLatencyMode: secondsBy,
});

const reportView = z.object({
  channelId: z.string(),
  from: isoTime,
  to: isoTime,
  interval: z.enum(['1m', '1h', '1d']),
  totals: pointView.omit({ start: true }),
  points: z.array(pointView),
});

const totalsView = z.object({
  from: isoTime,
  to: isoTime,
  channels: z.array(z.object({ channelId: z.string(), totals: pointView.omit({ start: true }) })).describe('By channel id'),
});

const realtimeView = z.object({
  at: isoTime,
  channels: z.array(z.object({
    channelId: z.string(),
    ccu: z.number().int().describe('Open viewer sessions at the latest sample, summed over the origins'),
    origins: z.number().int().describe('Origins whose latest sample (at most 30 s old) is counted'),
    sampledAt: isoTime.describe('The oldest of those samples'),
  })),
});

const reportQuery = query({
  from: timeSpec.optional().describe('Start (inclusive): epoch seconds or ISO 8601 basic UTC; default: one hour before `to`'),
  to: timeSpec.optional().describe('End (exclusive): epoch seconds, ISO 8601 basic UTC or now (default)'),
  interval: z.enum(['1m', '1h', '1d']).default('1m').describe('Width of each point'),
});

const view = (p: Omit<ReportPoint, 'start'>) => ({
  ccuMax: p.ccuMax, ccuAvg: p.ccuAvg, sessions: p.sessions, views: p.views, newUniqueViewers: p.newUniqueViewers,
  watchTimeSec: p.watchSec, rebufferRatio: p.rebufferRatio,
  byRendition: p.by.rendition, byProtocol: p.by.protocol, byPlayer: p.by.player, byLatencyMode: p.by.latencyMode,
});

function badQuery(path: string, message: string): ApiError {
  return new ApiError('VALIDATION_FAILED', message, [{ path: `query.${path}`, message }]);
}

/** The query's [from, to): `to` defaults to now, `from` to an hour before it; at most MAX_RANGE_MS. */
function rangeOf(q: { from?: string; to?: string }, now: number): { from: number; to: number } {
  const to = parseTimeSpec(q.to ?? 'now', now);
  if (to === undefined) throw badQuery('to', 'not a date that exists');
  const from = q.from === undefined ? to - 3600_000 : parseTimeSpec(q.from, now);
  if (from === undefined || q.from === 'now') throw badQuery('from', 'expected epoch seconds or ISO 8601 basic UTC');
  if (from >= to) throw badQuery('to', '`to` must be after `from`');
  if (to - from > MAX_RANGE_MS) throw badQuery('from', `at most ${MAX_RANGE_MS / 86_400_000} days per request`);
  return { from, to };
}

export function analyticsRoutes(app: ApiApp, ctx: ApiContext): void {
  const tags = ['analytics'];

  app.get('/v1/channels/:id/analytics', {
    schema: { tags, summary: 'Viewer analytics of a channel: CCU, sessions, views, unique viewers, watch time, rebuffer ratio',
      params: idParams, querystring: reportQuery, response: { 200: reportView } },
    config: { access: 'read', errors: [404] },
  }, async (req) => {
    const channel = await findChannel(ctx, req.params.id);
    const channelId = channel.source === 'api' ? channel.record.id : channel.config.id;
    const now = ctx.now();
    const { from, to } = rangeOf(req.query, now);
    const interval = req.query.interval;
    if ((to - from) / INTERVAL_MS[interval] > MAX_POINTS) throw badQuery('interval', `more than ${MAX_POINTS} points: use a wider interval`);
    const rows = await ctx.db.analytics.minutes(channelId, Math.floor(from / 60_000) * 60_000, to);
    const points = reportPoints(rows, from, to, INTERVAL_MS[interval], now);
    const [totals] = reportPoints(rows, from, to, to - from, now, false);
    return { channelId, from: iso(from), to: iso(to), interval, totals: view(totals), points: points.map((p) => ({ start: iso(p.start), ...view(p) })) };
  });

  app.get('/v1/analytics/channels', {
    schema: { tags, summary: 'Every channel\'s totals over a range (one request for a table of channels); channels without viewers in it are left out',
      querystring: query({ from: reportQuery.shape.from, to: reportQuery.shape.to }), response: { 200: totalsView } },
    config: { access: 'read' },
  }, async (req) => {
    const now = ctx.now();
    const { from, to } = rangeOf(req.query, now);
    const rows = await ctx.db.analytics.minutesOfAll(Math.floor(from / 60_000) * 60_000, to);
    const byChannel = new Map<string, typeof rows>();
    for (const r of rows) {
      const list = byChannel.get(r.channel);
      if (list) list.push(r);
      else byChannel.set(r.channel, [r]);
    }
    const channels = [...byChannel].map(([channelId, own]) => ({ channelId, totals: view(reportPoints(own, from, to, to - from, now, false)[0]) }));
    return { from: iso(from), to: iso(to), channels };
  });

  app.get('/v1/analytics/realtime', {
    schema: { tags, summary: 'Concurrent viewers per channel now, summed over the origins sharing this database', response: { 200: realtimeView } },
    config: { access: 'read' },
  }, async () => {
    const now = ctx.now();
    const live = await ctx.db.analytics.live(now - REALTIME_FRESH_MS);
    return { at: iso(now), channels: live.map((c) => ({ ...c, sampledAt: iso(c.sampledAt) })) };
  });
}

