/**
 * Scenario 10: what viewer analytics (issue 17) cost the serving path. Two fake origins
 * (bench/fake-origin.ts: src/origin.ts with a fake pipeline), one with analytics off and one
 * with them on, pinned to the same core, measured in alternating rounds of the same run:
 *   - throughput: autocannon on the newest part (no sid: at the live edge analytics cost one
 *     comparison) and on the media playlist with a sid (every request updates its session);
 *   - blocking-reload wake time: N held `_HLS_msn/_HLS_part` requests, each with its own sid
 *     (N sessions), then the part is published; each response's arrival minus the publication;
 *   - the per-request cost in this process: OriginHandler.handle() of a part and of a sid
 *     playlist, with and without analytics (no sockets);
 *   - memory per 10 000 concurrent sessions: heap after a full GC, before and after 10 000 sid
 *     sessions (each with its client's fallback key, its unique-viewer entry and link).
 *
 *   node dist/bench/analytics.js [--rounds 3] [--duration 8] [--connections 50] [--held 200] [--wakes 20] [--pin true]
 */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { OriginHandler } from '../src/delivery/handler.js';
import { silentLogger } from '../src/log.js';
import { ViewerAnalytics } from '../src/analytics/viewer-analytics.js';
import { FallbackKeys } from '../src/analytics/session-key.js';
import { fakeChannel, request } from '../test/helpers/fake-channel.js';
import { flags, forkChild, median, pct, report, round, sleep, type IpcChild } from './common.js';
import { autocannon as autocannonOn, SERVER_CPU, wakeOnce } from './same-run.js';

const opts = flags({ rounds: 3, duration: 8, connections: 50, held: 200, wakes: 20, pin: true, handleIterations: 300_000, sessions: 10_000 });
const autocannon = (url: string, seconds: number) => autocannonOn(url, seconds, opts);
/** A sid as the multivariant playlist mints them: 12 base64url characters. */
const sidOf = (i: number) => `bench${String(i).padStart(7, '0')}`;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function analyticsFor(now: () => number = Date.now): ViewerAnalytics {
  return new ViewerAnalytics({
    settings: { viewAfterSec: 10, sessionTimeoutSec: {}, retentionDays: 90, flushIntervalSec: 10 },
    channelOf: () => ({ latencyMode: 'ultra-low', targetDurationSec: 2 }), tokenSession: () => undefined, logger: silentLogger(), now,
  });
}

/** ns per handle() in this process, with or without analytics: a part at the edge, and a media playlist with a sid. */
function handleCost(withAnalytics: boolean): { partNs: number; playlistNs: number } {
  const f = fakeChannel();
  const [{ msn, index }] = f.parts(12).slice(-1);
  const handler = new OriginHandler({ get: (id) => (id === 'test' ? f.channel : undefined) }, silentLogger());
  if (withAnalytics) handler.countViewers(analyticsFor().requests);
  const perRequest = (req: ReturnType<typeof request>) => {
    for (let i = 0; i < 20_000; i++) handler.handle(req); // warm-up
    const t0 = performance.now();
    for (let i = 0; i < opts.handleIterations; i++) handler.handle(req);
    return ((performance.now() - t0) * 1e6) / opts.handleIterations;
  };
  const headers = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36' };
  return {
    partNs: perRequest(request(`/live/test/source/${msn}.${index}.m4s`, { headers, remoteAddress: '10.0.0.1' })),
    playlistNs: perRequest(request(`/live/test/source.m3u8?sid=${sidOf(1)}`, { headers, remoteAddress: '10.0.0.1' })),
  };
}

/** Heap bytes that `n` open sid sessions hold (after a full GC), each with a distinct client. */
function memoryPerSessions(n: number): { bytes: number; perSessionBytes: number } {
  const analytics = analyticsFor();
  const keys = new FallbackKeys();
  const viewerKeys = Array.from({ length: n }, (_, i) => keys.keyOf(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 'Mozilla/5.0', 'bench'));
  const sids = Array.from({ length: n }, (_, i) => sidOf(i));
  gc(); gc();
  const before = process.memoryUsage().heapUsed;
  const at = Date.now();
  for (let i = 0; i < n; i++) {
    analytics.touch({ channel: 'bench', sessionKey: sids[i], keySource: 'sid', viewerKey: viewerKeys[i], mode: 'live',
      rendition: 'source', protocol: 'h1', player: 'browser', atMs: at });
  }
  gc(); gc();
  const bytes = process.memoryUsage().heapUsed - before;
  if (analytics.sessions.size !== n) throw new Error(`expected ${n} sessions, have ${analytics.sessions.size}`);
  return { bytes, perSessionBytes: Math.round(bytes / n) };
}

async function main(): Promise<void> {
  const fork = (on: boolean) => forkChild('fake-origin.js', ['--server', 'uws', '--analytics', String(on)], opts.pin ? { taskset: SERVER_CPU } : {});
  const origins: Record<'off' | 'on', IpcChild> = { off: await fork(false), on: await fork(true) };
  type Cell = { part: number[]; playlist: number[]; wakeMs: number[]; errors: number };
  const cells: Record<'off' | 'on', Cell> = { off: { part: [], playlist: [], wakeMs: [], errors: 0 }, on: { part: [], playlist: [], wakeMs: [], errors: 0 } };
  try {
    for (const mode of ['off', 'on'] as const) {
      const base = `http://127.0.0.1:${origins[mode].ready.ports.http}`;
      const p = await origins[mode].call<{ msn: number; idx: number }>('publish');
      await autocannon(`${base}/live/bench/source/${p.msn}.${p.idx}.m4s`, 2); // warm-up
    }
    for (let r = 0; r < opts.rounds; r++) {
      // Alternate which goes first, so drift within a round hits both alike.
      for (const mode of (r % 2 === 0 ? ['off', 'on'] : ['on', 'off']) as ('off' | 'on')[]) {
        const origin = origins[mode], base = `http://127.0.0.1:${origin.ready.ports.http}`, c = cells[mode];
        const p = await origin.call<{ msn: number; idx: number }>('publish');
        const part = await autocannon(`${base}/live/bench/source/${p.msn}.${p.idx}.m4s`, opts.duration);
        const playlist = await autocannon(`${base}/live/bench/source.m3u8?sid=${sidOf(0)}`, opts.duration);
        c.part.push(part.rps); c.playlist.push(playlist.rps); c.errors += part.non2xx + playlist.non2xx;
        for (let w = 0; w < opts.wakes; w++) {
          c.wakeMs.push(...await wakeOnce(origin, (i) => `${base}/live/bench/source.m3u8?sid=${sidOf(i)}`, opts.held));
          await sleep(200 + Math.random() * 300);
        }
        console.log(`round ${r + 1} analytics ${mode}: part ${round(part.rps, 0)} req/s, playlist ${round(playlist.rps, 0)} req/s`);
      }
    }
  } finally {
    await Promise.all([origins.off.close(), origins.on.close()]);
  }
  const summary = (c: Cell) => ({
    partRps: round(median(c.part), 0), partRuns: c.part.map((x) => round(x, 0)),
    playlistRps: round(median(c.playlist), 0), playlistRuns: c.playlist.map((x) => round(x, 0)),
    wakeP50ms: round(pct(c.wakeMs, 50)), wakeP99ms: round(pct(c.wakeMs, 99)), wakeMaxMs: round(pct(c.wakeMs, 100)), wakeSamples: c.wakeMs.length,
    errors: c.errors,
  });
  const off = summary(cells.off), on = summary(cells.on);
  const costs = { without: [] as ReturnType<typeof handleCost>[], with: [] as ReturnType<typeof handleCost>[] };
  for (let i = 0; i < 5; i++) { costs.without.push(handleCost(false)); costs.with.push(handleCost(true)); }
  const ns = (xs: ReturnType<typeof handleCost>[], k: 'partNs' | 'playlistNs') => round(median(xs.map((x) => x[k])), 0);
  const memory = memoryPerSessions(opts.sessions);
  const result = {
    params: opts,
    analyticsOff: off,
    analyticsOn: on,
    difference: {
      partRpsPct: round((on.partRps / off.partRps - 1) * 100, 1),
      playlistRpsPct: round((on.playlistRps / off.playlistRps - 1) * 100, 1),
      wakeP50Ms: round(on.wakeP50ms - off.wakeP50ms), wakeP99Ms: round(on.wakeP99ms - off.wakeP99ms),
    },
    handleNs: { part: { without: ns(costs.without, 'partNs'), with: ns(costs.with, 'partNs') },
      sidPlaylist: { without: ns(costs.without, 'playlistNs'), with: ns(costs.with, 'playlistNs') } },
    memory: { sessions: opts.sessions, heapBytes: memory.bytes, perSessionBytes: memory.perSessionBytes },
  };
  report('analytics', result);
  console.log(JSON.stringify(result, null, 2));
}

await main();
