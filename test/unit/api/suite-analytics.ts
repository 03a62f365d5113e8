/** Viewer analytics through the API: minute rows of several origins added up, intervals, time specs, realtime CCU. */
import type { Test } from 'tap';
import { emptyMinute } from '../../../src/analytics/minute-aggregator.js';
import type { AnalyticsMinute } from '../../../src/db/types.js';
import { Harness, isError, T0, type ApiTarget } from './api-harness.js';

/** One origin's minute of channel `news`: `ccu` viewers all minute, each watching all of it live. */
function minute(at: number, ccu: number, o: Partial<AnalyticsMinute> = {}): AnalyticsMinute {
  return {
    ...emptyMinute('news', at), ccuSamples: 6, ccuSum: 6 * ccu, ccuMax: ccu, watchMs: { live: ccu * 60_000, dvr: 0, catchup: 0 },
    dims: { rendition: { source: ccu * 60_000 }, protocol: { h1: ccu * 60_000 }, player: { browser: ccu * 60_000 }, latencyMode: { 'ultra-low': ccu * 60_000 } },
    ...o,
  };
}

const basic = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

export function analyticsSuite(t: Test, target: ApiTarget): void {
  t.test('a channel\'s analytics: every origin added up, per minute, hour or day, from/to as epoch seconds or ISO 8601 basic', async (t) => {
    const h = await Harness.open(t, target);
    await h.channel({ id: 'news', name: 'News' });
    const m = (i: number) => T0 + i * 60_000;
    await h.db.analytics.addMinutes('origin-a', [
      minute(m(0), 10, { sessions: 10, views: 8, newUniques: 9, beaconPlayMs: 100_000, rebufferMs: 1000 }),
      minute(m(1), 12, { sessions: 2, views: 2, newUniques: 1 }),
      minute(m(61), 4, { watchMs: { live: 100_000, dvr: 60_000, catchup: 80_000 } }),
    ]);
    await h.db.analytics.addMinutes('origin-b', [minute(m(0), 5, { sessions: 5, views: 5, newUniques: 5, dims: { rendition: { '360p': 300_000 }, protocol: { h2: 300_000 }, player: { safari: 300_000 }, latencyMode: { 'ultra-low': 300_000 } } })]);
    h.now = m(120);

    const r = await h.get(`/v1/channels/news/analytics?from=${T0 / 1000}&to=${basic(m(3))}&interval=1m`);
    t.equal(r.status, 200, r.body);
    t.same(r.json.points.map((p: any) => [p.start, p.ccuMax, p.ccuAvg, p.views, p.sessions, p.newUniqueViewers, p.watchTimeSec.total]), [
      [new Date(m(0)).toISOString(), 15, 15, 13, 15, 14, 900],
      [new Date(m(1)).toISOString(), 12, 12, 2, 2, 1, 720],
      [new Date(m(2)).toISOString(), 0, 0, 0, 0, 0, 0],
    ], 'the origins\' CCU of a minute added up; counters added; a minute without rows is zeros');
    t.same(r.json.points[0].byRendition, { source: 600, '360p': 300 });
    t.same(r.json.points[0].byProtocol, { h1: 600, h2: 300 });
    t.same(r.json.points[0].byPlayer, { browser: 600, safari: 300 });
    t.equal(r.json.points[0].rebufferRatio, 0.01, 'rebuffer over play time, from beacons');
    t.equal(r.json.points[1].rebufferRatio, null, 'no beacons: no ratio');
    t.match(r.json.totals, { ccuMax: 15, ccuAvg: 9, views: 15, sessions: 17, newUniqueViewers: 15, watchTimeSec: { total: 1620, live: 1620 } },
      'totals over [from, to): mean CCU over its 3 minutes');

    const midMinute = await h.get(`/v1/channels/news/analytics?from=${T0 / 1000 + 30}&to=${m(2) / 1000 + 30}&interval=1m`);
    t.match(midMinute.json.totals, { ccuMax: 15, ccuAvg: 9, views: 15 }, 'a range starting mid-minute covers that minute\'s samples');
    t.same(midMinute.json.points.map((p: any) => p.ccuMax), [15, 12, 0]);

    await h.db.analytics.addMinutes('origin-a', [minute(m(100), 0, { ccuSamples: 3, ccuSum: 30, ccuMax: 12 })]);
    const partial = await h.get(`/v1/channels/news/analytics?from=${m(100) / 1000}&to=${m(101) / 1000}`);
    t.match(partial.json.points[0], { ccuMax: 12, ccuAvg: 5 }, 'a minute with 3 of its 6 samples taken (an idle origin takes none): the others were 0');

    const hours = await h.get(`/v1/channels/news/analytics?from=${basic(T0)}&to=${basic(m(120))}&interval=1h`);
    t.same(hours.json.points.map((p: any) => [p.ccuMax, p.watchTimeSec]), [
      [15, { total: 1620, live: 1620, dvr: 0, catchup: 0 }],
      [12, { total: 240, live: 100, dvr: 60, catchup: 80 }],
    ], 'watch time by mode');
    t.equal(hours.json.points[0].ccuAvg, Math.round((27 / 60) * 100) / 100, 'the mean over the hour\'s 60 minutes');
    t.equal(hours.json.points[1].ccuAvg, Math.round(((4 + 5) / 60) * 100) / 100);

    const day = await h.get(`/v1/channels/news/analytics?from=${basic(Date.UTC(2026, 10, 25))}&to=${basic(Date.UTC(2026, 10, 26))}&interval=1d`);
    t.equal(day.json.points.length, 1);
    t.equal(day.json.points[0].newUniqueViewers, 15, 'a UTC day\'s new unique viewers are its unique viewers');

    const byDefault = await h.get('/v1/channels/news/analytics');
    t.equal(byDefault.json.to, new Date(m(120)).toISOString(), 'to: now');
    t.equal(byDefault.json.from, new Date(m(60)).toISOString(), 'from: an hour before');
    t.equal(byDefault.json.points.length, 60);

    isError(t, await h.get('/v1/channels/nope/analytics'), 404, 'CHANNEL_NOT_FOUND');
    isError(t, await h.get(`/v1/channels/news/analytics?from=${m(1) / 1000}&to=${m(0) / 1000}`), 400, 'VALIDATION_FAILED', 'from after to');
    isError(t, await h.get('/v1/channels/news/analytics?from=2026-11-25'), 400, 'VALIDATION_FAILED', 'not a catchup time spec');
    isError(t, await h.get('/v1/channels/news/analytics?from=20260231T000000Z'), 400, 'VALIDATION_FAILED', 'a date that does not exist');
    isError(t, await h.get(`/v1/channels/news/analytics?from=${(T0 - 40 * 86_400_000) / 1000}&interval=1d`), 400, 'VALIDATION_FAILED', 'more than 31 days');
    isError(t, await h.get(`/v1/channels/news/analytics?from=${(T0 - 2 * 86_400_000) / 1000}`), 400, 'VALIDATION_FAILED', 'too many points for 1m');
    isError(t, await h.get('/v1/channels/news/analytics?interval=5m'), 400, 'VALIDATION_FAILED');
    const read = await h.token(['read']);
    t.equal((await h.get('/v1/channels/news/analytics', { token: read.secret })).status, 200, 'a read token may');
  });

  t.test('every channel\'s totals in one request: the same figures as each channel\'s own report', async (t) => {
    const h = await Harness.open(t, target);
    await h.channel({ id: 'news', name: 'News' });
    await h.channel({ id: 'sport', name: 'Sport' });
    await h.channel({ id: 'quiet', name: 'Quiet' });
    const m = (i: number) => T0 + i * 60_000;
    await h.db.analytics.addMinutes('origin-a', [minute(m(0), 10, { sessions: 10, views: 8 }), { ...minute(m(1), 3, { views: 3 }), channel: 'sport' }]);
    await h.db.analytics.addMinutes('origin-b', [minute(m(0), 5, { sessions: 5, views: 5 }), { ...minute(m(90), 7), channel: 'sport' }]);
    h.now = m(120);
    const all = await h.get(`/v1/analytics/channels?from=${T0 / 1000}&to=${m(60) / 1000}`);
    t.equal(all.status, 200, all.body);
    t.same(all.json.channels.map((c: any) => c.channelId), ['news', 'sport'], 'channels with rows in the range, by id (quiet has none; sport\'s minute 90 is outside)');
    for (const c of all.json.channels) {
      const own = await h.get(`/v1/channels/${c.channelId}/analytics?from=${T0 / 1000}&to=${m(60) / 1000}`);
      t.same(c.totals, own.json.totals, `${c.channelId}: the totals of its own report`);
    }
    t.match(all.json.channels[0].totals, { ccuMax: 15, views: 13, sessions: 15 }, 'the origins added up');
    isError(t, await h.get(`/v1/analytics/channels?from=${m(60) / 1000}&to=${T0 / 1000}`), 400, 'VALIDATION_FAILED', 'to before from');
    isError(t, await h.get('/v1/analytics/channels?from=0&to=now'), 400, 'VALIDATION_FAILED', 'more than 31 days');
    isError(t, await h.get('/v1/analytics/channels', { token: null }), 401, 'UNAUTHORIZED');
  });

  t.test('realtime CCU: per channel, the origins with a fresh sample added up', async (t) => {
    const h = await Harness.open(t, target);
    await h.db.analytics.putLive('origin-a', h.now - 5000, [{ channelId: 'news', ccu: 120 }, { channelId: 'sport', ccu: 3 }]);
    await h.db.analytics.putLive('origin-b', h.now - 1000, [{ channelId: 'news', ccu: 80 }]);
    await h.db.analytics.putLive('origin-c', h.now - 60_000, [{ channelId: 'news', ccu: 1000 }]);
    const r = await h.get('/v1/analytics/realtime');
    t.equal(r.status, 200, r.body);
    t.same(r.json, { at: new Date(h.now).toISOString(), channels: [
      { channelId: 'news', ccu: 200, origins: 2, sampledAt: new Date(h.now - 5000).toISOString() },
      { channelId: 'sport', ccu: 3, origins: 1, sampledAt: new Date(h.now - 5000).toISOString() },
    ] }, 'an origin whose sample is older than 30 s (stopped) is not counted');
  });
}
