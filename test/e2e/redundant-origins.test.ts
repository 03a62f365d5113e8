/**
 * Redundant origins (issue 19, point 3): one encoder publishes to two origin processes that
 * share nothing (ffmpeg's tee muxer, as OBS does with two outputs); an nginx caching proxy
 * spreads every request over both. hls.js in Chromium plays through the proxy, its playlists,
 * parts and segments coming from either origin; then origin A is killed with SIGKILL and the
 * proxy moves on to B: the viewer plays on with no player error.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, spawnOrigin, type OriginProcess } from '../helpers/origin-process.js';
import { missingNginx, startCachingProxy } from '../helpers/caching-proxy.js';
import { startTeePublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { launchChromium } from '../helpers/browser.js';
import { openViewer, untilPlaying, watchFor } from '../helpers/latency-watch.js';

t.setTimeout(180_000);

const KEY = 'redundant-e2e-key-0123';
const SOURCE = { fps: 30, gop: 30, width: 640, height: 360, burnedClock: true };

t.test('one encoder to two independent origins behind one proxy: hls.js takes from both, and plays on when A is killed', { skip: missingNginx() }, async (t) => {
  const [httpA, httpB, rtmpA, rtmpB, proxyPort] = await freePorts(5);
  const origins: OriginProcess[] = [];
  const spawn = (name: string, http: number, rtmp: number) => {
    const dir = mkdtempSync(join(tmpdir(), `sigma-redundant-${name}-`));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({
      dataDir: join(dir, 'data'), channels: [{ id: 'twin', streamKey: KEY, latencyMode: 'ultra-low' }],
      srt: { enabled: false }, rtmp: { host: '127.0.0.1', port: rtmp }, http: { host: '127.0.0.1', port: http }, http2: { enabled: false }, api: { enabled: false },
    }));
    const p = spawnOrigin(file);
    origins.push(p);
    return p;
  };
  t.teardown(() => Promise.all(origins.map((p) => p.stop('SIGKILL'))));
  const a = spawn('a', httpA, rtmpA), b = spawn('b', httpB, rtmpB);
  await Promise.all([a.ready, b.ready]);
  const proxy = await startCachingProxy({ port: proxyPort, deliveryPort: [httpA, httpB], apiPort: httpA });
  t.teardown(() => proxy.stop());
  const publisher = startTeePublisher([`rtmp://127.0.0.1:${rtmpA}/live/${KEY}`, `rtmp://127.0.0.1:${rtmpB}/live/${KEY}`], SOURCE);
  t.teardown(() => stopPublisher(publisher));

  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const viewer = await openViewer(browser, proxy.url, `${proxy.url}/live/twin/index.m3u8`, 'hls.js LL');
  t.teardown(() => viewer.close());
  await untilPlaying(viewer, 30_000);
  const before = await watchFor(viewer, 5000);
  t.ok(before.presented > 100, `hls.js plays through the proxy (${before.presented} frames in 5 s)`);
  const upstreams = new Set(proxy.accessLog().filter((l) => /\tGET \/live\/twin\/source/.test(l)).map((l) => l.split('\t')[7]).filter((u) => u && u !== '-'));
  t.ok(upstreams.has(`127.0.0.1:${httpA}`) && upstreams.has(`127.0.0.1:${httpB}`), `its requests reached both origins (${[...upstreams].join(', ')})`);

  await a.stop('SIGKILL');
  const after = await watchFor(viewer, 8000);
  t.comment(`after A's SIGKILL: ${after.presented} frames in 8 s, ${after.stalls} stalls, ${Math.round(after.stalledMs)} ms stalled`);
  t.ok(after.presented > 150, `hls.js plays on from B (${after.presented} frames in 8 s)`);
  const errors = await viewer.page.evaluate(() => (window as any).sigmaPlayer.errors as { details: string; fatal: boolean }[]);
  t.same(errors.filter((e) => e.fatal), [], 'no fatal player error');
  t.same(errors.filter((e) => !/bufferStalledError|bufferNudgeOnStall|bufferSeekOverHole/.test(e.details)).map((e) => e.details), [],
    'no player error other than a stall notice');
  t.same(viewer.pageErrors, [], 'no page error');
});
