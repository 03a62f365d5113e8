/**
 * Viewer analytics with real clients (issue 17): a real origin, ffmpeg publishing in real time,
 * a swarm of scripted LL-HLS viewers on 127.0.0.1 joining and leaving at known times, three
 * hls.js players in Chromium, a viewer seeking back into the DVR window and one playing a
 * catchup range. Checked against what the clients know they did:
 * - CCU at every 10-s sample within ±2 % of the viewers present (joins and leaves are scheduled
 *   between samples, at least a timeout before the next one, so "present" is exact);
 * - viewers that leave are gone from the open sessions within the timeout (6 s in ultra-low);
 * - views and sessions = the number of viewers (one session per viewer: its playlist requests
 *   carry its sid, its part requests none); unique viewers = the distinct address + user agent
 *   pairs (the three Chromium players share one: one unique viewer, as documented);
 * - watch time within ±5 % of the sum of the viewers' times; the DVR and catchup viewers' time
 *   in their modes;
 * - the API's figures, from the minute rows in SQLite, then in PostgreSQL.
 */
import t, { type Test } from 'tap';
import type { Page } from 'playwright-core';
import { startOrigin, waitUntil, type RunningOrigin } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { launchChromium } from '../helpers/browser.js';
import { playWithHlsJs, watchedPage } from '../helpers/player-probe.js';
import { missingCommand, testNeeding } from '../helpers/ci.js';
import { startPostgres } from '../helpers/postgres.js';
import { presentAt, watchedMs, watchLlHls, type ViewerRecord } from '../helpers/llhls-viewer.js';
import type { CcuSample } from '../../src/analytics/ccu-sampler.js';

t.setTimeout(600_000);

const ADMIN = 'analytics-test-admin-token-0123456789';
const SAMPLE_MS = 10_000;
const TIMEOUT_MS = 6000; // ultra-low: 3 × TARGETDURATION (2 s)
const WAVE_A = 200, WAVE_B = 100, PLAYERS = 3;
const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
/** `n` times spread over [from, from + spanMs). */
const spread = (n: number, from: number, spanMs: number) => Array.from({ length: n }, (_, i) => from + Math.floor((i * spanMs) / n));

/** An hls.js player in a Chromium page: joined at its first media playlist request, left when its page closes. */
async function hlsJsViewer(page: Page, o: RunningOrigin, name: string): Promise<ViewerRecord & { close(): Promise<void> }> {
  const v: ViewerRecord = { name, requests: 0, errors: [] };
  page.on('request', (r) => {
    if (/\/live\/demo\/source\.m3u8/.test(r.url())) { v.requests++; v.joinedAt ??= Date.now(); }
  });
  await playWithHlsJs(page, o.http, `${o.http}/live/demo/index.m3u8`);
  return Object.assign(v, { async close() { await page.close(); v.leftAt = Date.now(); } });
}

/**
 * A viewer that joins live, then from `dvrAt` plays 20 s behind the edge: segments well behind
 * the newest (more than HOLD-BACK + 2 TD), one per second, while reloading its media playlist.
 */
async function dvrViewer(channelUrl: string, o: { startAt: number; dvrAt: number; leaveAt: number }) {
  const v: ViewerRecord & { dvrFrom?: number } = { name: 'dvr', requests: 0, errors: [] };
  const headers = { 'user-agent': 'sigma-test dvr-viewer', 'accept-encoding': 'identity' };
  const get = async (path: string) => {
    v.requests++;
    const r = await fetch(`${channelUrl}${path}`, { headers });
    const body = await r.text();
    if (r.status !== 200) v.errors.push(`${r.status} ${path}`);
    return body;
  };
  await sleepUntil(o.startAt);
  const media = (await get('index.m3u8')).split('\n').find((l) => l && !l.startsWith('#'))!;
  v.joinedAt = Date.now();
  let next: number | undefined;
  while (Date.now() < o.leaveAt) {
    const playlist = await get(media);
    if (Date.now() >= o.dvrAt) {
      const msns = [...playlist.matchAll(/^source\/(\d+)\.m4s/gm)].map((m) => Number(m[1]));
      next ??= msns[msns.length - 1] - 10;
      v.dvrFrom ??= Date.now();
      await get(`source/${next++}.m4s`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  v.leftAt = Date.now();
  return v;
}

/** A catchup viewer: an archive range's playlist, then its segments one every 1.2 s (a player filling its buffer). */
async function catchupViewer(channelUrl: string, o: { fromSec: number; toSec: number; startAt: number; leaveAt: number }) {
  const v: ViewerRecord = { name: 'catchup', requests: 0, errors: [] };
  const headers = { 'user-agent': 'sigma-test catchup-viewer', 'accept-encoding': 'identity' };
  await sleepUntil(o.startAt);
  v.joinedAt = Date.now();
  v.requests++;
  const r = await fetch(`${channelUrl}archive/${o.fromSec}-${o.toSec}.m3u8`, { headers });
  const segments = (await r.text()).split('\n').filter((l) => /^source\/\d{10}\/\d+\.m4s/.test(l));
  if (r.status !== 200 || segments.length === 0) v.errors.push(`catchup playlist: ${r.status}, ${segments.length} segments`);
  for (let i = 0; Date.now() < o.leaveAt && i < segments.length; i++) {
    v.requests++;
    const s = await fetch(`${channelUrl}archive/${segments[i]}`, { headers });
    await s.arrayBuffer();
    if (s.status !== 200) v.errors.push(`${s.status} ${segments[i]}`);
    await new Promise((res) => setTimeout(res, 1200));
  }
  if (Date.now() < o.leaveAt) v.errors.push('the catchup range ran out before the viewer was to leave');
  v.leftAt = Date.now();
  return v;
}

const within = (t: Test, actual: number, expected: number, fraction: number, what: string) =>
  t.ok(Math.abs(actual - expected) <= fraction * expected, `${what}: ${actual} vs ${expected} (±${fraction * 100} %)`);

async function scenario(t: Test, database: Record<string, unknown>) {
  const o = await startOrigin({
    database, api: { port: 0, host: '127.0.0.1', adminToken: ADMIN },
    // Parts of 1 s keep a few hundred viewers' requests cheap on a 2-core machine; 60 s of DVR window.
    latencyModes: { 'ultra-low': { segmentTargetSec: 2, partTargetSec: 1, playlistWindowSec: 20 } },
    analytics: { flushIntervalSec: 2 },
    channels: [{ id: 'demo', streamKey: 'demo-key-123', latencyMode: 'ultra-low', dvrWindowSec: 60 }],
  });
  t.teardown(() => o.close());
  const analytics = o.origin.analytics!;
  const samples: CcuSample[] = [];
  analytics.sampler.onSamples((s) => samples.push(...s.filter((x) => x.channel === 'demo')));
  const pub = startPublisher(o.rtmp('demo-key-123'), { width: 320, height: 180, fps: 25, gop: 25, videoBitrate: '300k' });
  t.teardown(() => stopPublisher(pub));
  const streamFrom = Math.floor(Date.now() / 1000);
  const channelUrl = `${o.http}/live/demo/`;
  await waitUntil(async () => (await fetch(`${channelUrl}index.m3u8`)).status === 200, 20_000, 'the stream');

  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const players = [];
  for (let i = 0; i < PLAYERS; i++) players.push(await hlsJsViewer((await watchedPage(browser, o.http)).page, o, `hls.js ${i}`));
  // Warm-up: the players start; the DVR window fills beyond HOLD-BACK + 2 TD (a DVR seek of 20 s needs 30 s of stream).
  await sleepUntil(streamFrom * 1000 + 24_000);
  const S = (k: number) => s0 + k * SAMPLE_MS;
  const s0 = Math.ceil((Date.now() + 1000) / SAMPLE_MS) * SAMPLE_MS;

  // Joins and leaves between S(k) + 0.5 s and S(k) + 2.5 s (leaves) or + 7.5 s (joins): a leaver's
  // session times out (6 s after its last request) before the next sample.
  const joinA = spread(WAVE_A, S(0) + 500, 7000), joinB = spread(WAVE_B, S(1) + 500, 7000);
  const leave1 = spread(60, S(4) + 500, 2000), leave2 = spread(60, S(5) + 500, 2000), leaveRest = spread(WAVE_A - 120 + WAVE_B, S(7) + 500, 2000);
  const leaveOf = (i: number) => (i < 60 ? leave1[i] : i < 120 ? leave2[i - 60] : leaveRest[i - 120]);
  const swarm = [
    ...joinA.map((at, i) => watchLlHls(channelUrl, { name: `a${i}`, ua: `sigma-swarm/1 viewer-a${i}`, startAt: at, leaveAt: leaveOf(i) })),
    ...joinB.map((at, i) => watchLlHls(channelUrl, { name: `b${i}`, ua: `sigma-swarm/1 viewer-b${i}`, startAt: at, leaveAt: leaveRest[WAVE_A - 120 + i] })),
  ];
  const dvr = dvrViewer(channelUrl, { startAt: S(1) + 1000, dvrAt: S(1) + 4000, leaveAt: S(4) + 2000 });
  // The range's end is archived by the time it starts (S(2)): 20 segments, more than it has time for.
  const catchup = catchupViewer(channelUrl, { fromSec: streamFrom, toSec: Math.floor(S(1) / 1000), startAt: S(2) + 1000, leaveAt: S(4) + 2500 });

  // The realtime API between samples: this origin's latest sample, through the database.
  await sleepUntil(S(3) + 5000);
  const realtime = await (await fetch(`http://127.0.0.1:${o.ports.api}/v1/analytics/realtime`, { headers: { authorization: `Bearer ${ADMIN}` } })).json();
  const latest = samples[samples.length - 1];
  t.same(realtime.channels, [{ channelId: 'demo', ccu: latest.ccu, origins: 1, sampledAt: new Date(latest.atMs).toISOString() }], 'realtime CCU: the latest sample');

  // Leavers are gone within the timeout: the open sessions, polled, drop by the first group.
  await sleepUntil(S(4) + 100);
  const openNow = () => analytics.sessions.openSessions(Date.now()).get('demo') ?? 0;
  const before = openNow();
  let droppedAt: number | undefined, lowest = before;
  while (Date.now() < S(4) + 9500 && droppedAt === undefined) {
    lowest = Math.min(lowest, openNow());
    if (lowest <= before - 62) droppedAt = Date.now(); // 60 swarm leavers, the DVR and the catchup viewers
    await new Promise((r) => setTimeout(r, 100));
  }
  const viewers: ViewerRecord[] = [...await Promise.all(swarm), await dvr, await catchup];
  const lastLeave = Math.max(...viewers.slice(0, 60).map((v) => v.leftAt!), viewers[WAVE_A + WAVE_B].leftAt!, viewers[WAVE_A + WAVE_B + 1].leftAt!);
  t.ok(droppedAt !== undefined && droppedAt - lastLeave <= TIMEOUT_MS + 1000,
    `the first leavers left the open sessions ${droppedAt === undefined ? 'never' : droppedAt - lastLeave} ms after the last of them left `
    + `(timeout ${TIMEOUT_MS} ms; open sessions ${before} ▶ ${lowest})`);

  await sleepUntil(S(7) + 1000);
  for (const p of players) await p.close();
  viewers.push(...players);
  await sleepUntil(S(9) + 500); // every session timed out and credited at S(8), S(9)
  await stopPublisher(pub);

  const errors = viewers.flatMap((v) => v.errors.map((e) => `${v.name}: ${e}`));
  t.same(errors.slice(0, 5), [], `no viewer request failed (${errors.length})`);
  t.equal(viewers.filter((v) => v.joinedAt !== undefined).length, viewers.length, 'every viewer joined');

  // CCU at every sample from S(0) (the players warmed up) to S(9).
  const checked = samples.filter((s) => s.atMs >= S(0) - 100 && s.atMs <= S(9) + 1000);
  t.ok(checked.length >= 9, `${checked.length} samples checked`);
  for (const s of checked) {
    const truth = presentAt(viewers, s.atMs);
    t.ok(Math.abs(s.ccu - truth) <= Math.floor(0.02 * truth), `CCU at +${(s.atMs - S(0)) / 1000} s: ${s.ccu}, ${truth} present`);
  }

  // The figures through the API, once the minute rows are written.
  const from = Math.floor((S(0) - 60_000) / 1000);
  const report = async () => (await fetch(`http://127.0.0.1:${o.ports.api}/v1/channels/demo/analytics?from=${from}&to=now&interval=1m`,
    { headers: { authorization: `Bearer ${ADMIN}` } })).json();
  let r = await report();
  await waitUntil(async () => { r = await report(); return r.totals.views >= viewers.length; }, 20_000, 'the views written').catch(() => undefined);
  const n = viewers.length;
  t.equal(r.totals.sessions, n, 'sessions = viewers: nobody counted twice');
  t.equal(r.totals.views, n, 'views = viewers (each watched more than viewAfterSec)');
  t.equal(r.totals.newUniqueViewers, WAVE_A + WAVE_B + 2 + 1, 'unique viewers: each address + user agent once (the three Chromium players are one)');
  const truthSec = watchedMs(viewers) / 1000;
  within(t, r.totals.watchTimeSec.total, truthSec, 0.05, 'total watch time, s');
  const d = viewers[WAVE_A + WAVE_B] as ViewerRecord & { dvrFrom: number };
  within(t, r.totals.watchTimeSec.dvr, (d.leftAt! - d.dvrFrom) / 1000, 0.1, 'DVR watch time, s');
  const c = viewers[WAVE_A + WAVE_B + 1];
  within(t, r.totals.watchTimeSec.catchup, (c.leftAt! - c.joinedAt!) / 1000, 0.1, 'catchup watch time, s');
  t.equal(r.totals.ccuMax, Math.max(...checked.map((s) => s.ccu)), `the API's peak is the peak sampled (${JSON.stringify(checked.map((s) => s.ccu))})`);
  t.ok(r.totals.byProtocol.h1 > 0 && r.totals.byLatencyMode['ultra-low'] > 0, 'watch time by protocol and latency mode');
  t.ok(r.totals.byPlayer.browser > 0 && r.totals.byPlayer.other > 0, `by player family: ${JSON.stringify(r.totals.byPlayer)}`);
  t.same(Object.keys(r.totals.byRendition), ['source']);
  t.equal(r.totals.rebufferRatio, null, 'no beacons here: no rebuffer ratio');
}

const missing = missingCommand('ffmpeg', ['-version']) ?? missingCommand(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', ['--version'], 'chromium');

testNeeding(t, 'analytics with real viewers, minute rows in SQLite', missing, async (t) => {
  await scenario(t, {});
});

testNeeding(t, 'analytics with real viewers, minute rows in PostgreSQL', missing, async (t) => {
  const pg = await startPostgres();
  t.teardown(() => pg.stop());
  await scenario(t, { url: await pg.createDatabase('sigma_analytics') });
});
