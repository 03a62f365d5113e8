import t from 'tap';
import type { Browser, Page } from 'playwright-core';
import { startOrigin, waitUntil } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { launchChromium } from '../helpers/browser.js';
import { missingCommand, testNeeding } from '../helpers/ci.js';
import { missingNginx, proxyPort, startCachingProxy } from '../helpers/caching-proxy.js';
import { ScriptedViewer } from '../helpers/scripted-viewer.js';
import { presentAt, watchedMs, type ViewerRecord } from '../helpers/llhls-viewer.js';
import { SAMPLE_INTERVAL_MS } from '../../src/analytics/ccu-sampler.js';

/**
 * Issue 17, Done-when: viewer analytics fed by player beacons through a caching proxy give the
 * same figures as viewers the origin sees directly. One origin, two channels published by two
 * ffmpeg test patterns, two audiences with the same schedule watching at the same time:
 * - `direct`: the viewers fetch from the origin's delivery port (the origin sees every media
 *   playlist request) and post beacons to the API port;
 * - `cdn`: the viewers fetch through nginx configured as a CDN (test/helpers/caching-proxy.ts:
 *   media playlists cached under a key without the sid, parts by Cache-Control, misses
 *   collapsed), so the origin sees a fraction of the requests and only the sid of whichever
 *   viewer missed the cache; their beacons go through nginx to the API (one public host).
 * Each audience is a swarm of scripted LL-HLS viewers (test/helpers/scripted-viewer.ts, which
 * report with the real plugin code) and hls.js in Chromium on the origin's demo player page
 * (/player/<channel>, which loads /player/sigma-beacon.js). They join and leave in waves a few
 * seconds after the origin's CCU samples (every 10 s on the wall clock), so every sample has a
 * known true count: the viewers that had made their first media playlist request and not yet
 * left. Checked through the API: /v1/analytics/realtime within ±2 % of the truth at every sample
 * after the first wave; /v1/channels/{id}/analytics: views = the viewers, watch time within
 * ±5 % of the true total (first media playlist request to leaving, summed).
 */

const SWARM = Number(process.env.BEACON_SWARM ?? 60);
const BROWSERS = 2;
const ADMIN_TOKEN = 'viewer-beacons-test-admin-token-0123456789';
const CCU_TOLERANCE = 0.02;
const WATCH_TOLERANCE = 0.05;

interface Audience {
  name: 'direct' | 'cdn';
  channel: string;
  /** Where playlists, parts and the player page come from. */
  base: string;
  beaconUrl: string;
  swarm: ScriptedViewer[];
  browsers: { page: Page; watch: ViewerRecord }[];
}

const missing = missingNginx() ?? missingCommand('ffmpeg', ['-version'])
  ?? missingCommand(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', ['--version'], 'chromium');

testNeeding(t, 'viewer analytics: beacons through an nginx cache match direct viewing (CCU ±2 %, views, watch time ±5 %)', missing, async (t) => {
  t.setTimeout(420_000);
  const port = await proxyPort();
  const o = await startOrigin({
    // The origin tells its player page to post beacons to the proxy, which passes them to the API.
    publicUrl: `http://127.0.0.1:${port}`,
    api: { port: 0, host: '127.0.0.1', adminToken: ADMIN_TOKEN },
    // 0.5-s parts: LL-HLS all the same, at 2 requests a second per viewer rather than 5 (a 2-core machine).
    latencyModes: { 'ultra-low': { segmentTargetSec: 2, partTargetSec: 0.5 } },
    analytics: { flushIntervalSec: 2 },
    channels: [{ id: 'direct', streamKey: 'direct-key-1234' }, { id: 'cdn', streamKey: 'cdn-key-1234' }],
  });
  t.teardown(() => o.close());
  const proxy = await startCachingProxy({ port, deliveryPort: o.ports.http!, apiPort: o.ports.api! });
  t.teardown(() => proxy.stop());
  const api = `http://127.0.0.1:${o.ports.api}`;
  const apiGet = async (path: string) => {
    const r = await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return r.json() as Promise<any>;
  };

  for (const ch of ['direct', 'cdn']) {
    const pub = startPublisher(o.rtmp(`${ch}-key-1234`), { width: 320, height: 180, fps: 25, gop: 50, audio: true });
    t.teardown(() => stopPublisher(pub));
  }
  for (const ch of ['direct', 'cdn']) {
    await waitUntil(async () => (await fetch(`${o.http}/live/${ch}/index.m3u8`)).status === 200, 30_000, `${ch} is live`);
  }

  const audience = (name: Audience['name'], base: string, beaconUrl: string): Audience => ({
    name, channel: name, base, beaconUrl, browsers: [],
    swarm: Array.from({ length: SWARM }, (_, i) => new ScriptedViewer({
      base, channel: name, beaconUrl, userAgent: `sigma-scripted-viewer/${name}-${i}`,
    })),
  });
  const audiences = [audience('direct', o.http, `${api}/v1/beacon`), audience('cdn', proxy.url, `${proxy.url}/v1/beacon`)];
  // A test that fails half way still stops every viewer (their heartbeat timers would keep the process alive).
  t.teardown(() => Promise.all(audiences.flatMap((a) => a.swarm.map((v) => v.leave()))));
  const browser: Browser = await launchChromium();
  t.teardown(() => browser.close());

  const openPlayer = async (a: Audience) => {
    const page = await browser.newPage();
    const watch: ViewerRecord = { name: `chromium-${a.name}-${a.browsers.length}`, requests: 0, errors: [] };
    page.on('request', (r) => { if (watch.joinedAt === undefined && /\/source\.m3u8\?/.test(r.url())) watch.joinedAt = Date.now(); });
    await page.goto(`${a.base}/player/${a.channel}`);
    a.browsers.push({ page, watch });
  };
  /** What each demo page's plugin had sent when it was closed (window.sigmaBeacons). */
  const pageBeacons: { audience: string; sent: Record<string, number> | undefined }[] = [];
  const closePlayer = async (p: Audience['browsers'][number], a: Audience) => {
    pageBeacons.push({ audience: a.name, sent: await p.page.evaluate(() => (window as any).sigmaBeacons?.sent) });
    p.watch.leftAt = Date.now();
    // Navigating away fires pagehide: the plugin's `end`, as when a viewer closes the tab.
    await p.page.goto('about:blank');
    await p.page.close();
  };

  // ------------------------------------------------------------------ the schedule
  const slice = (a: Audience, from: number, to: number) => a.swarm.slice(Math.round(from * SWARM), Math.round(to * SWARM));
  const waves: { what: string; run: (a: Audience) => Promise<unknown> }[] = [
    { what: '40 % of the swarm and the browsers join', run: (a) => Promise.all([...slice(a, 0, 0.4).map((v) => v.join()), ...Array.from({ length: BROWSERS }, () => openPlayer(a))]) },
    { what: '30 % more join', run: (a) => Promise.all(slice(a, 0.4, 0.7).map((v) => v.join())) },
    { what: 'a quarter of the first leave', run: (a) => Promise.all(slice(a, 0, 0.1).map((v) => v.leave())) },
    { what: 'the last 30 % join', run: (a) => Promise.all(slice(a, 0.7, 1).map((v) => v.join())) },
    { what: 'a browser and 30 % leave', run: (a) => Promise.all([closePlayer(a.browsers[0], a), ...slice(a, 0.1, 0.4).map((v) => v.leave())]) },
    { what: 'nobody moves', run: async () => undefined },
    { what: 'everybody leaves', run: (a) => Promise.all([closePlayer(a.browsers[1], a), ...slice(a, 0.4, 1).map((v) => v.leave())]) },
  ];
  const watches = (a: Audience): ViewerRecord[] => [...a.swarm, ...a.browsers.map((b) => b.watch)];

  /** Waits for the sample after `after` (the sampler runs at every 10 s of the wall clock) and returns it. */
  const nextSample = async (after: number) => waitUntil(async () => {
    const r = await apiGet('/v1/analytics/realtime');
    const at = Date.parse(r.channels.find((c: any) => c.channelId === 'direct')?.sampledAt ?? '');
    if (!(at > after)) return undefined;
    const ccu = (ch: string) => r.channels.find((c: any) => c.channelId === ch)?.ccu ?? 0;
    return { at, direct: ccu('direct'), cdn: ccu('cdn') };
  }, SAMPLE_INTERVAL_MS * 3, 'the next CCU sample', 250);

  const samples: { at: number; wave: string; direct: [number, number]; cdn: [number, number] }[] = [];
  let last = Date.now();
  // Start just after a sample, so that each wave is over well before the next one.
  await waitUntil(() => Date.now() % SAMPLE_INTERVAL_MS > 1000 && Date.now() % SAMPLE_INTERVAL_MS < 3000, SAMPLE_INTERVAL_MS * 2, 'a quiet moment', 50);
  for (const wave of waves) {
    const started = Date.now();
    await Promise.all(audiences.map((a) => wave.run(a)));
    t.ok(Date.now() - started < SAMPLE_INTERVAL_MS - 3000, `${wave.what}: done in ${Date.now() - started} ms, before the next sample`);
    const s = await nextSample(last);
    last = s.at;
    samples.push({ at: s.at, wave: wave.what, direct: [s.direct, presentAt(watches(audiences[0]), s.at)], cdn: [s.cdn, presentAt(watches(audiences[1]), s.at)] });
    // Each wave a few seconds after a sample: joins and leaves are never under way at one.
    await waitUntil(() => Date.now() >= s.at + 2000, 5000, 'two seconds past the sample', 50);
  }
  t.comment(`samples (measured, true): ${JSON.stringify(samples.map((s) => ({ wave: s.wave, direct: s.direct, cdn: s.cdn })))}`);

  for (const s of samples) {
    for (const name of ['direct', 'cdn'] as const) {
      const [got, truth] = s[name];
      t.ok(Math.abs(got - truth) <= CCU_TOLERANCE * truth, `${name}, after "${s.wave}": CCU ${got}, true ${truth} (±${CCU_TOLERANCE * 100} %)`);
    }
  }
  t.equal(samples.at(-1)!.cdn[1], 0, 'the last sample has nobody watching');

  // ------------------------------------------------------------------ views and watch time
  const flushed = Date.now() + 2 * 2000 + 1000;
  await waitUntil(() => Date.now() > flushed, 10_000, 'the minute rows flushed', 100);
  const from = Math.floor((Math.min(...audiences.flatMap((a) => watches(a).map((w) => w.joinedAt!))) - 120_000) / 1000);
  for (const a of audiences) {
    const report = await apiGet(`/v1/channels/${a.channel}/analytics?from=${from}&to=now&interval=1m`);
    const viewers = SWARM + BROWSERS;
    const trueWatchSec = watchedMs(watches(a)) / 1000;
    t.equal(report.totals.views, viewers, `${a.name}: views = the ${viewers} viewers`);
    const watched = report.totals.watchTimeSec.total;
    t.ok(Math.abs(watched - trueWatchSec) <= WATCH_TOLERANCE * trueWatchSec,
      `${a.name}: watch time ${watched.toFixed(0)} s, true ${trueWatchSec.toFixed(0)} s (±${WATCH_TOLERANCE * 100} %)`);
    const failures = a.swarm.flatMap((v) => v.errors);
    t.same(failures, [], `${a.name}: no scripted viewer saw an error or a refused beacon`);
    t.ok(a.swarm.every((v) => v.beaconsSent >= 2), `${a.name}: every scripted viewer sent play and end at least`);
  }

  for (const b of pageBeacons) {
    t.ok(b.sent && b.sent.play >= 1 && b.sent.heartbeat >= 2, `the ${b.audience} demo page's plugin sent play and heartbeats: ${JSON.stringify(b.sent)}`);
  }
  t.equal(pageBeacons.length, 2 * BROWSERS);

  // The proxy really stood between the cdn viewers and the origin: most of their playlist requests never reached it.
  const cdnPlaylists = proxy.accessLog().filter((l) => /\tGET \/live\/cdn\/source\.m3u8\?/.test(l));
  const hits = cdnPlaylists.filter((l) => l.split('\t')[4] === 'HIT').length;
  t.ok(hits > cdnPlaylists.length / 2, `nginx answered ${hits} of the cdn audience's ${cdnPlaylists.length} media playlist requests from its cache`);
  const beaconLines = proxy.accessLog().filter((l) => /\tPOST \/v1\/beacon /.test(l) && l.split('\t')[2] === '204');
  t.ok(beaconLines.length > SWARM * 2, `beacons went through nginx to the API (${beaconLines.length} answered 204)`);
});
