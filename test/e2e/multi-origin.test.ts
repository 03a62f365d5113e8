/**
 * Two origin processes on one PostgreSQL behind an nginx caching proxy with both as upstreams
 * (issue 19): a channel created through origin A's API plays through the proxy (hls.js in
 * Chromium) whichever origin each request lands on (the other relays it from the owner); then A
 * is killed with SIGKILL, the encoder comes back on B (as through a load balancer), and the
 * viewer behind the proxy plays on with no fatal error and shows B's picture.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../helpers/postgres.js';
import { freePorts, spawnOrigin, type OriginProcess } from '../helpers/origin-process.js';
import { missingNginx, startCachingProxy } from '../helpers/caching-proxy.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { launchChromium } from '../helpers/browser.js';
import { openViewer, untilPlaying, untilShowsFrameSince, watchFor } from '../helpers/latency-watch.js';
import { waitUntil } from '../helpers/wait.js';

t.setTimeout(300_000);

const ADMIN = 'multi-origin-admin-token-0123456789abcdef01';
const SECRET = 'multi-origin-server-secret-0123456789abcdef0';
const SOURCE = { fps: 30, gop: 30, width: 640, height: 360, burnedClock: true };

t.test('two origins behind one caching proxy: a channel made on A plays through it, and goes on when A is killed and the encoder moves to B', { skip: missingNginx() }, async (t) => {
  const pg = await startPostgres();
  t.teardown(() => pg.stop());
  const url = await pg.createDatabase('sigma_multi');
  const [httpA, httpB, apiA, apiB, rtmpA, rtmpB, proxyPort] = await freePorts(7);
  const origins: OriginProcess[] = [];
  const spawn = (name: string, http: number, api: number, rtmp: number) => {
    const dir = mkdtempSync(join(tmpdir(), `sigma-multi-${name}-`));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({
      dataDir: join(dir, 'data'), channels: [], secret: SECRET, database: { url },
      rtmp: { host: '127.0.0.1', port: rtmp }, http: { host: '127.0.0.1', port: http }, http2: { enabled: false },
      api: { host: '127.0.0.1', port: api, adminToken: ADMIN }, analytics: { originId: name },
      cluster: { originUrl: `http://127.0.0.1:${http}`, leaseSec: 3 },
    }));
    const p = spawnOrigin(file);
    origins.push(p);
    return p;
  };
  t.teardown(() => Promise.all(origins.map((p) => p.stop('SIGKILL'))));
  const a = spawn('a', httpA, apiA, rtmpA), b = spawn('b', httpB, apiB, rtmpB);
  await Promise.all([a.ready, b.ready]);
  const proxy = await startCachingProxy({ port: proxyPort, deliveryPort: [httpA, httpB], apiPort: apiA });
  t.teardown(() => proxy.stop());

  const created = await fetch(`http://127.0.0.1:${apiA}/v1/channels`, {
    method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'news', name: 'News', autoStart: true }),
  });
  t.equal(created.status, 201, 'the channel is created through A\'s API');
  const key = ((await created.json()) as { streamKey: { secret: string } }).streamKey.secret;
  let publisher = startPublisher(`rtmp://127.0.0.1:${rtmpA}/live/${key}`, SOURCE);
  t.teardown(() => stopPublisher(publisher));
  const playback = `${proxy.url}/live/news/index.m3u8`;
  await waitUntil(async () => (await fetch(`http://127.0.0.1:${httpA}/live/news/source.m3u8`)).status === 200, 20_000, 'the channel live on A');
  const liveAt = Date.now();
  // Round robin: both origins answer through the proxy, B by relaying A.
  await waitUntil(async () => {
    const rs = await Promise.all([0, 1, 2, 3].map(() => fetch(`${proxy.url}/live/news/source.m3u8?probe=${Math.random()}`)));
    return rs.every((r) => r.status === 200);
  }, 10_000, 'the media playlist through the proxy from either origin', 50);
  const throughProxyMs = Date.now() - liveAt;
  t.ok(throughProxyMs <= 2000, `the channel plays through the proxy ${throughProxyMs} ms after it went live on A (≤ 2000 ms)`);

  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const viewer = await openViewer(browser, proxy.url, playback, 'hls.js LL');
  t.teardown(() => viewer.close());
  await untilPlaying(viewer, 30_000);
  const before = await watchFor(viewer, 4000);
  t.ok(before.presented > 60, `hls.js plays through the proxy (${before.presented} frames in 4 s)`);

  // A dies; the encoder reconnects to B.
  await a.stop('SIGKILL');
  await stopPublisher(publisher);
  const movedAt = Date.now();
  publisher = startPublisher(`rtmp://127.0.0.1:${rtmpB}/live/${key}`, SOURCE);
  const shownAt = await untilShowsFrameSince(viewer, movedAt, { timeoutMs: 30_000 }).catch(async (err) => {
    const v = await viewer.page.evaluate(() => { const el = document.querySelector('video')!; const b = el.buffered;
      return { t: el.currentTime, paused: el.paused, ranges: Array.from({ length: b.length }, (_, i) => [b.start(i), b.end(i)]), errors: (window as any).sigmaPlayer.errors.slice(-8) }; });
    t.comment(JSON.stringify(v));
    t.comment(`failed: ${viewer.failed.slice(-12).join(' | ')}`);
    t.comment(proxy.accessLog().slice(-4).map((l) => l.split('\t').slice(0, 6).join(' ')).join('\n'));
    t.comment(`B's warnings: ${JSON.stringify(b.logs().filter((l) => Number(l.level) >= 40).slice(-6))}`);
    throw err;
  });
  t.comment(`B's picture on screen ${shownAt - movedAt} ms after A was killed and the encoder restarted toward B`);
  const after = await watchFor(viewer, 6000);
  t.ok(after.presented > 90, `hls.js plays on from B (${after.presented} frames in 6 s, stalls ${after.stalls}, ${Math.round(after.stalledMs)} ms)`);
  const errors = await viewer.page.evaluate(() => (window as any).sigmaPlayer.errors as { details: string; fatal: boolean }[]);
  t.same(errors.filter((e) => e.fatal), [], 'no fatal player error through the move');
  t.same(viewer.pageErrors, [], 'no page error');
  t.comment(`player errors (not fatal): ${[...new Set(errors.map((e) => e.details))].join(', ') || 'none'}; proxy log lines ${proxy.accessLog().length}`);
});
