/**
 * Two origin processes on one PostgreSQL and one object store (Ceph RGW), behind an nginx
 * caching proxy with both as upstreams (issue 19): a channel created through origin A's API
 * plays through the proxy (hls.js in Chromium) whichever origin each request lands on (the other
 * relays it from the owner); then A is killed with SIGKILL, the encoder comes back on B (as
 * through a load balancer), B continues A's playlist from the shared archive (MSNs go on, one
 * discontinuity), and the viewer behind the proxy plays on with no fatal error and shows B's
 * picture. A's data dir is then deleted, and the catchup range over both origins plays in
 * hls.js from the object store.
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
import { startObjectStore } from '../helpers/object-store.js';
import { parseM3u8 } from '../helpers/m3u8.js';
import { playWithHlsJs, watchedPage } from '../helpers/player-probe.js';

t.setTimeout(300_000);

const ADMIN = 'multi-origin-admin-token-0123456789abcdef01';
const SECRET = 'multi-origin-server-secret-0123456789abcdef0';
const SOURCE = { fps: 30, gop: 30, width: 640, height: 360, burnedClock: true };

t.test('two origins behind one caching proxy on one database and object store: a channel made on A plays through it, goes on when A is killed and the encoder moves to B, and its catchup plays from the store', { skip: missingNginx() }, async (t) => {
  const [pg, store] = await Promise.all([startPostgres(), startObjectStore()]);
  t.teardown(() => pg.stop());
  t.teardown(() => store.stop());
  const url = await pg.createDatabase('sigma_multi');
  Object.assign(process.env, store.env); // the origins' credentials for the object store, from the environment
  const bucket = await store.createBucket('sigma-multi');
  const dataDirs: Record<string, string> = {};
  const [httpA, httpB, apiA, apiB, rtmpA, rtmpB, proxyPort] = await freePorts(7);
  const origins: OriginProcess[] = [];
  const spawn = (name: string, http: number, api: number, rtmp: number) => {
    const dir = mkdtempSync(join(tmpdir(), `sigma-multi-${name}-`));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'config.json');
    dataDirs[name] = join(dir, 'data');
    writeFileSync(file, JSON.stringify({
      dataDir: join(dir, 'data'), channels: [], secret: SECRET, database: { url },
      objectStore: { bucket, endpoint: store.endpoint, region: store.region, localRetentionMinutes: 0 },
      srt: { enabled: false }, rtmp: { host: '127.0.0.1', port: rtmp }, http: { host: '127.0.0.1', port: http }, http2: { enabled: false },
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
  const onA = listing(await (await fetch(`http://127.0.0.1:${httpA}/live/news/source.m3u8`)).text());
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

  await t.test('B continued A\'s playlist from the shared archive: MSNs go on past all A listed, one discontinuity', async (t) => {
    const onB = listing(await (await fetch(`http://127.0.0.1:${httpB}/live/news/source.m3u8`)).text());
    const cut = onB.segments.findIndex((x) => x.discontinuity);
    t.ok(cut > 0, `B lists A's segments before its own (${cut} of A's and gaps, then B's from MSN ${onB.segments[cut]?.msn})`);
    t.equal(onB.segments.filter((x) => x.discontinuity).length, 1, 'one discontinuity, where the encoder moved');
    t.same(onB.segments.filter((x, i) => i > 0 && x.msn !== onB.segments[i - 1].msn + 1).map((x) => x.msn), [], 'consecutive MSNs');
    const ofA = onB.segments.slice(0, cut).filter((x) => !x.gap), gaps = onB.segments.slice(0, cut).filter((x) => x.gap);
    const lastOfA = onA.segments.at(-1)!.msn;
    const restoredLast = ofA.at(-1)?.msn ?? -1;
    t.comment(`A listed complete segments up to MSN ${lastOfA} (parts of ${lastOfA + 1}) when it was killed; B restored up to ${restoredLast} from the store, then ${gaps.length} gaps`);
    t.ok(lastOfA - restoredLast <= 1, `at most the segment A completed as it died is missing from the store (${lastOfA - restoredLast})`);
    t.same(gaps.map((x) => x.msn), gaps.length ? Array.from({ length: gaps.length }, (_, i) => restoredLast + 1 + i) : [], 'EXT-X-GAP segments stand for what A had after its last archived segment');
    t.ok(onB.segments[cut].msn >= lastOfA + 3, `B's own media starts past A's open segment and its preload hint (MSN ${onB.segments[cut].msn} ≥ ${lastOfA + 3})`);
    t.ok(onB.segments[0].msn <= onA.segments[0].msn, `B's DVR window reaches back as far as A's did (from MSN ${onB.segments[0].msn}; A's from ${onA.segments[0].msn})`);
    const same = ofA.filter((x) => onA.segments.some((y) => y.msn === x.msn && y.pdt === x.pdt && y.extinf === x.extinf));
    t.equal(same.length, ofA.filter((x) => x.msn >= onA.segments[0].msn).length, 'A\'s segments are listed by B as A listed them (MSN, PDT, EXTINF)');
  });

  await stopPublisher(publisher);
  await viewer.close();
  // A's machine is gone: its disk too.
  rmSync(dataDirs.a, { recursive: true, force: true });
  await new Promise((r) => setTimeout(r, 2500));
  const range = `${Math.floor(liveAt / 1000) - 1}-${Math.floor(Date.now() / 1000)}`;
  const catchup = `${proxy.url}/live/news/archive/${range}.m3u8`;

  await t.test('catchup over both origins plays from the object store after A\'s data dir is deleted', async (t) => {
    const res = await fetch(catchup);
    t.equal(res.status, 200, catchup);
    const c = listing(await res.text());
    const beforeMove = c.segments.filter((x) => Date.parse(x.pdt) < movedAt).length;
    t.ok(beforeMove >= 2 && c.segments.length - beforeMove >= 2, `segments from A (${beforeMove}) and from B (${c.segments.length - beforeMove})`);
    t.equal(c.segments.filter((x) => x.discontinuity).length, 1, 'one discontinuity, at the move');
    const { page, pageErrors, failed } = await watchedPage(browser, proxy.url);
    await playWithHlsJs(page, proxy.url, catchup);
    await page.waitForFunction(() => (window as any).sigmaPlayer.ended || document.querySelector('video')!.ended, undefined, { timeout: 60_000, polling: 200 });
    const end = await page.evaluate(() => ({ t: document.querySelector('video')!.currentTime, errors: (window as any).sigmaPlayer.errors as { details: string; fatal: boolean }[] }));
    const total = c.segments.reduce((sum, x) => sum + x.extinf, 0);
    t.comment(`catchup: ${c.segments.length} segments, ${total.toFixed(1)} s; hls.js ended at ${end.t.toFixed(1)} s`);
    t.ok(Math.abs(end.t - total) < 1, 'hls.js played it to the end');
    t.same(end.errors.filter((e) => e.fatal), [], 'no fatal hls.js error');
    t.same(failed, [], 'no failed request');
    t.same(pageErrors, [], 'no page error');
    await page.close();
  });
});

/** A media playlist's complete segments (with EXTINF), each with its MSN, PDT, whether a discontinuity precedes it and whether it is a gap. */
function listing(text: string): { segments: { msn: number; pdt: string; extinf: number; discontinuity: boolean; gap: boolean }[] } {
  const { manifest } = parseM3u8(text);
  // m3u8-parser does not read EXT-X-GAP: the tag's segment is the next EXTINF's.
  const gaps: boolean[] = [];
  let gap = false;
  for (const line of text.split('\n')) {
    if (line === '#EXT-X-GAP') gap = true;
    else if (line.startsWith('#EXTINF:')) { gaps.push(gap); gap = false; }
  }
  const segments = (manifest.segments as { duration?: number; dateTimeString?: string; discontinuity?: boolean }[])
    .map((x, i) => ({ msn: manifest.mediaSequence + i, pdt: x.dateTimeString ?? '', extinf: x.duration ?? 0, discontinuity: x.discontinuity === true, gap: gaps[i] === true }))
    .filter((x) => x.extinf > 0);
  return { segments };
}
