/**
 * Scenario 8: what /metrics costs the serving path (issue 16). One origin (bench/fake-origin.ts:
 * src/origin.ts with a fake pipeline, the API and /metrics on) serves while this process
 * alternates, in the same run, rounds with a Prometheus-like scrape of /metrics every second and
 * rounds without:
 *   - throughput: autocannon on a part (~25 KB) and on the media playlist, requests/s;
 *   - blocking-reload wake time: N held `_HLS_msn/_HLS_part` requests, then the part is
 *     published; each response's arrival minus the publication time;
 *   - the scrape itself: its duration and size as the scraper sees them;
 *   - the per-request cost of the request observation: OriginHandler.handle() for a part in this
 *     process, with and without the metrics observer (no sockets: the handler's own time).
 *
 *   node dist/bench/metrics.js [--rounds 3] [--duration 8] [--connections 50] [--held 200] [--wakes 20] [--pin true]
 */
import { performance } from 'node:perf_hooks';
import { OriginHandler } from '../src/delivery/handler.js';
import { silentLogger } from '../src/log.js';
import { HttpMetrics } from '../src/ops/metrics/http-metrics.js';
import { createRegistry } from '../src/ops/metrics/registry.js';
import { fakeChannel, request } from '../test/helpers/fake-channel.js';
import { flags, forkChild, median, pct, report, round, sleep } from './common.js';
import { autocannon as autocannonOn, SERVER_CPU, wakeOnce as wakeOn } from './same-run.js';

const autocannon = (url: string, seconds: number) => autocannonOn(url, seconds, opts);

const opts = flags({ rounds: 3, duration: 8, connections: 50, held: 200, wakes: 20, pin: true, observeIterations: 300_000 });

/** Scrapes `url` every second until stopped; records each scrape's duration and size. */
function startScraper(url: string) {
  const durationsMs: number[] = [];
  let bytes = 0, stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t0 = performance.now();
      const text = await (await fetch(url)).text();
      durationsMs.push(performance.now() - t0);
      bytes = text.length;
      await sleep(1000 - Math.min(999, performance.now() - t0));
    }
  })();
  return { durationsMs, get bytes() { return bytes; }, async stop() { stopped = true; await loop; } };
}

/** ns per handle() of a part, in this process, with or without the observer. */
function observeCost(observe: boolean): number {
  const f = fakeChannel();
  const [{ msn }] = f.parts(12);
  const handler = new OriginHandler({ get: (id) => (id === 'test' ? f.channel : undefined) }, silentLogger());
  if (observe) handler.observeReplies(new HttpMetrics(createRegistry(), (id) => id === 'test'));
  const req = request(`/live/test/source/${msn}.1.m4s`);
  for (let i = 0; i < 20_000; i++) handler.handle(req); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < opts.observeIterations; i++) handler.handle(req);
  return ((performance.now() - t0) * 1e6) / opts.observeIterations;
}

async function main(): Promise<void> {
  const origin = await forkChild('fake-origin.js', ['--server', 'uws', '--api', 'true'], opts.pin ? { taskset: SERVER_CPU } : {});
  const base = `http://127.0.0.1:${origin.ready.ports.http}`;
  const metricsUrl = `http://127.0.0.1:${origin.ready.ports.api}/metrics`;
  // The wakes publish parts, so the part requested is the newest at each cell's start (an old one slides out: 404).
  const newestPartUrl = async () => {
    const p = await origin.call<{ msn: number; idx: number }>('publish');
    return `${base}/live/bench/source/${p.msn}.${p.idx}.m4s`;
  };
  const playlistUrl = `${base}/live/bench/source.m3u8`;
  type Cell = { part: number[]; playlist: number[]; wakeMs: number[]; scrapeMs: number[]; errors: number };
  const cells: Record<'off' | 'on', Cell> = {
    off: { part: [], playlist: [], wakeMs: [], scrapeMs: [], errors: 0 },
    on: { part: [], playlist: [], wakeMs: [], scrapeMs: [], errors: 0 },
  };
  let scrapeBytes = 0;
  try {
    await autocannon(await newestPartUrl(), 2); // warm-up
    for (let r = 0; r < opts.rounds; r++) {
      // Alternate which goes first, so drift within a round hits both alike.
      for (const mode of (r % 2 === 0 ? ['off', 'on'] : ['on', 'off']) as ('off' | 'on')[]) {
        const scraper = mode === 'on' ? startScraper(metricsUrl) : undefined;
        const c = cells[mode];
        const part = await autocannon(await newestPartUrl(), opts.duration);
        const playlist = await autocannon(playlistUrl, opts.duration);
        c.part.push(part.rps); c.playlist.push(playlist.rps); c.errors += part.non2xx + playlist.non2xx;
        for (let w = 0; w < opts.wakes; w++) {
          c.wakeMs.push(...await wakeOn(origin, () => `${base}/live/bench/source.m3u8`, opts.held));
          await sleep(200 + Math.random() * 300); // publications at random phases of the scrape's second
        }
        if (scraper) { await scraper.stop(); c.scrapeMs.push(...scraper.durationsMs); scrapeBytes = scraper.bytes; }
        console.log(`round ${r + 1} scrape ${mode}: part ${round(part.rps, 0)} req/s, playlist ${round(playlist.rps, 0)} req/s`);
      }
    }
  } finally {
    await origin.close();
  }
  const summary = (c: Cell) => ({
    partRps: round(median(c.part), 0), partRuns: c.part.map((x) => round(x, 0)),
    playlistRps: round(median(c.playlist), 0), playlistRuns: c.playlist.map((x) => round(x, 0)),
    wakeP50ms: round(pct(c.wakeMs, 50)), wakeP99ms: round(pct(c.wakeMs, 99)), wakeMaxMs: round(pct(c.wakeMs, 100)), wakeSamples: c.wakeMs.length,
    errors: c.errors,
  });
  const observer = { without: [] as number[], with: [] as number[] };
  for (let i = 0; i < 5; i++) { observer.without.push(observeCost(false)); observer.with.push(observeCost(true)); }
  const result = {
    params: opts,
    noScrape: summary(cells.off),
    scrape1s: { ...summary(cells.on), scrapeP50ms: round(pct(cells.on.scrapeMs, 50)), scrapeP99ms: round(pct(cells.on.scrapeMs, 99)), scrapes: cells.on.scrapeMs.length, scrapeBytes },
    handlePartNs: { without: round(median(observer.without), 0), with: round(median(observer.with), 0) },
  };
  report('metrics', result);
  console.log(JSON.stringify(result, null, 2));
}

await main();
