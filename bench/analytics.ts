/**
 * Scenario 10: what viewer analytics (issue 17) cost the serving path.
 *
 * Socket level: one fake origin (bench/fake-origin.ts: src/origin.ts with a fake pipeline,
 * analytics enabled, uWS) pinned to CPU 0, autocannon pinned to CPU 1 and running without a
 * break, one workload at a time, while this process switches the origin's delivery between
 * counting viewers and not (an IPC command) every --slice seconds, off-on-on-off-…. Both
 * conditions thus run in the same process, heap, JIT state and TCP connections, and whatever a
 * neighbour does to the machine hits them alike: each adjacent off/on pair of slices gives an
 * on/off ratio. At each switch the origin reports, at the same instant of its own event loop,
 * the replies it has served and its CPU time (user + system: what /proc/<pid>/stat counts, but
 * in µs, where /proc rounds to 10-ms ticks: 5 % of a 0.2-s slice). Per workload:
 *   - server CPU time per request per condition, and on/off: the ratio of the totals and the
 *     median of the paired ratios, each with a bootstrap 95 % interval (pairs resampled);
 *   - requests per second (served / the server's own clock) the same way;
 *   workloads: the newest part (no sid: at the live edge analytics cost one comparison), the
 *   media playlist with a sid (every request updates its session: the worst case), and an
 *   LL-HLS player at the live edge (each connection asks for the sid playlist and the part in turn).
 * Blocking-reload wake time: N held `_HLS_msn/_HLS_part` requests, each with its own sid
 * (N sessions), then the part is published; each response's arrival minus the publication.
 * Wakes alternate off-on-on-off in the same origin: pooled percentiles per condition, and the
 * on − off differences of adjacent wakes' medians.
 * In this process: OriginHandler.handle() of a part and of a sid playlist with and without
 * analytics (no sockets), and the heap per 10 000 concurrent sessions (after a full GC, 10 000
 * sid sessions, each with its client's fallback key, its unique-viewer entry and link).
 *
 *   node dist/bench/analytics.js [--pairs 150] [--slice 0.2] [--connections 50] [--held 200] [--wakes 20] [--pin true]
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { OriginHandler } from '../src/delivery/handler.js';
import { silentLogger } from '../src/log.js';
import { ViewerAnalytics } from '../src/analytics/viewer-analytics.js';
import { FallbackKeys } from '../src/analytics/session-key.js';
import { fakeChannel, request } from '../test/helpers/fake-channel.js';
import { bootstrapInterval, flags, forkChild, median, pct, report, round, sleep, type IpcChild } from './common.js';
import { autocannon, SERVER_CPU, wakeOnce } from './same-run.js';

const opts = flags({ pairs: 150, slice: 0.2, connections: 50, held: 200, wakes: 20, pin: true, handleIterations: 300_000, sessions: 10_000 });
/** A sid as the multivariant playlist mints them: 27 base64url characters (sidOf() scans each). */
const sidOf = (i: number) => `bench${String(i).padStart(22, '0')}`;

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

type Urls = { part: string; sidPlaylist: string };
/** What each autocannon connection asks for, in turn. */
const WORKLOADS = {
  part: (u: Urls) => [u.part],
  sidPlaylist: (u: Urls) => [u.sidPlaylist],
  // An LL-HLS player at the live edge: one (sid) playlist reload per part.
  player: (u: Urls) => [u.sidPlaylist, u.part],
};
type Workload = keyof typeof WORKLOADS;
/** What the origin reports at a switch: replies served, its CPU time (µs), its performance.now(). */
type Mark = { served: number; cpuUs: number; at: number };
type Slice = { on: boolean; served: number; cpuUs: number; seconds: number };

/** Off-on-on-off-…: slice i's condition, so that a drift hits both alike and pairs (2k, 2k+1) hold one of each. */
const abba = (i: number) => i % 4 === 1 || i % 4 === 2;

/** Switches the origin's delivery to counting viewers or not; where it was at the switch. */
async function countViewers(origin: IpcChild, on: boolean): Promise<Mark> {
  const r = await origin.call<Mark & { analytics?: boolean; error?: string }>('analytics', { on });
  if (r.analytics !== on) throw new Error(`fake-origin analytics: ${r.error ?? JSON.stringify(r)}`);
  return r;
}

/** Waits until the origin serves requests (autocannon has started). */
async function untilServed(origin: IpcChild): Promise<void> {
  const start = await countViewers(origin, false);
  for (let i = 0; (await countViewers(origin, false)).served === start.served; i++) {
    if (i > 200) throw new Error('autocannon did not start in 10 s');
    await sleep(50);
  }
}

/**
 * `workload` under autocannon without a break while the origin switches every opts.slice s:
 * a few unrecorded pairs while the load settles, then opts.pairs recorded ones.
 */
async function sliceWorkload(origin: IpcChild, workload: Workload): Promise<{ slices: Slice[]; clientErrors: number }> {
  const base = `http://127.0.0.1:${origin.ready.ports.http}`;
  // A new part: the one asked for is at the live edge (the wakes and other workloads publish too).
  const p = await origin.call<{ msn: number; idx: number }>('publish');
  const urls = WORKLOADS[workload]({ part: `${base}/live/bench/source/${p.msn}.${p.idx}.m4s`, sidPlaylist: `${base}/live/bench/source.m3u8?sid=${sidOf(0)}` });
  const warmPairs = Math.ceil(1 / (2 * opts.slice)), slices = 2 * (warmPairs + opts.pairs);
  // autocannon's start (a node process) and the switches' own time are not known ahead: the
  // margin covers them, and what is left of it is waited out.
  const load = autocannon(urls, Math.ceil(slices * (opts.slice + 0.01) + 4), opts);
  let loadEnded = false;
  void load.then(() => { loadEnded = true; }, () => { loadEnded = true; });
  await untilServed(origin);
  const recorded: Slice[] = [];
  let from = await countViewers(origin, abba(0));
  for (let i = 0; i < slices; i++) {
    await sleep(opts.slice * 1000);
    const to = await countViewers(origin, abba(i + 1));
    if (i >= 2 * warmPairs) recorded.push({ on: abba(i), served: to.served - from.served, cpuUs: to.cpuUs - from.cpuUs, seconds: (to.at - from.at) / 1e3 });
    from = to;
  }
  if (loadEnded) throw new Error(`${workload}: the load ended before the last slice (autocannon started late?)`);
  return { slices: recorded, clientErrors: (await load).non2xx };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const cpuPerRequest = (s: Slice[]) => sum(s.map((x) => x.cpuUs)) / sum(s.map((x) => x.served));
const rps = (s: Slice[]) => sum(s.map((x) => x.served)) / sum(s.map((x) => x.seconds));
type Pair = { off: Slice; on: Slice };

/** Runs (2k, 2k + 1) of an off-on-on-off sequence as {off, on} pairs. */
function pairsOf<T extends { on: boolean }>(xs: T[]): { off: T; on: T }[] {
  const pairs: { off: T; on: T }[] = [];
  for (let i = 0; i + 1 < xs.length; i += 2) pairs.push(xs[i].on ? { off: xs[i + 1], on: xs[i] } : { off: xs[i], on: xs[i + 1] });
  return pairs;
}

/** on/off of `f`: over the totals and as the median of the pairs' ratios, each with its bootstrap 95 % interval. */
function onOff(pairs: Pair[], f: (s: Slice[]) => number) {
  const ofTotals = (ps: Pair[]) => f(ps.map((p) => p.on)) / f(ps.map((p) => p.off));
  // A slice the starved client sent (next to) nothing in says nothing of a ratio.
  const ratios = pairs.filter((p) => p.on.served >= 50 && p.off.served >= 50).map((p) => f([p.on]) / f([p.off]));
  const r3 = (xs: number[]) => xs.map((x) => round(x, 3));
  return {
    ofTotals: round(ofTotals(pairs), 3), ofTotalsCi95: r3(bootstrapInterval(pairs, ofTotals)),
    pairedMedian: round(median(ratios), 3), pairedMedianCi95: r3(bootstrapInterval(ratios, median)), pairsUsed: ratios.length,
  };
}

/** Per condition (totals) and on/off, from the recorded slices of one workload. */
function summarize(slices: Slice[], clientErrors: number) {
  const pairs = pairsOf(slices);
  const condition = (s: Slice[]) => ({
    requests: sum(s.map((x) => x.served)), seconds: round(sum(s.map((x) => x.seconds)), 1), rps: round(rps(s), 0),
    cpuUsPerRequest: round(cpuPerRequest(s), 3),
    // The share of its core the server had: well below 1, autocannon (or a neighbour on CPU 0) set the pace.
    serverBusy: round(sum(s.map((x) => x.cpuUs)) / 1e6 / sum(s.map((x) => x.seconds)), 2),
  });
  return { off: condition(pairs.map((p) => p.off)), on: condition(pairs.map((p) => p.on)),
    cpuPerRequest: onOff(pairs, cpuPerRequest), rps: onOff(pairs, rps), pairs: pairs.length, clientErrors };
}

/**
 * opts.wakes wakes of each condition, alternated off-on-on-off; per wake, ms from the publication
 * to each response. Four unrecorded wakes first: the first wakes after the throughput load are
 * 2-5 × slower (the wake path's first runs, the client's new connections) whatever the condition.
 */
async function wakes(origin: IpcChild): Promise<{ on: boolean; ms: number[] }[]> {
  const base = `http://127.0.0.1:${origin.ready.ports.http}`;
  const out: { on: boolean; ms: number[] }[] = [], warm = 4;
  for (let w = 0; w < warm + 2 * opts.wakes; w++) {
    const on = abba(w);
    await countViewers(origin, on);
    const ms = await wakeOnce(origin, (i) => `${base}/live/bench/source.m3u8?sid=${sidOf(i)}`, opts.held);
    if (w >= warm) out.push({ on, ms });
    await sleep(200 + Math.random() * 300);
  }
  return out;
}

/**
 * Pooled percentiles per condition, and on − off of each adjacent pair of wakes' medians (the
 * median of those differences and its bootstrap 95 % interval): pooled tails swing with whatever
 * a neighbour did during one wake.
 */
function summarizeWakes(ws: { on: boolean; ms: number[] }[]) {
  const pooled = (on: boolean) => {
    const ms = ws.filter((w) => w.on === on).flatMap((w) => w.ms);
    return { p50ms: round(pct(ms, 50)), p99ms: round(pct(ms, 99)), maxMs: round(pct(ms, 100)), samples: ms.length };
  };
  const diffs = pairsOf(ws).map((p) => median(p.on.ms) - median(p.off.ms));
  return { off: pooled(false), on: pooled(true),
    p50DiffMs: { pairedMedian: round(median(diffs)), ci95: bootstrapInterval(diffs, median).map((x) => round(x)) } };
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').trim();

async function main(): Promise<void> {
  const loadStart = loadavg();
  const origin = await forkChild('fake-origin.js', ['--server', 'uws', '--analytics', 'true'], opts.pin ? { taskset: SERVER_CPU } : {});
  const slices: Record<string, ReturnType<typeof summarize>> = {};
  let wakeRuns: { on: boolean; ms: number[] }[];
  try {
    for (const w of Object.keys(WORKLOADS) as Workload[]) {
      const r = await sliceWorkload(origin, w);
      slices[w] = summarize(r.slices, r.clientErrors);
      const c = slices[w].cpuPerRequest;
      console.log(`${w}: µs of server CPU per request off ${slices[w].off.cpuUsPerRequest}, on ${slices[w].on.cpuUsPerRequest}: ×${c.ofTotals} [${c.ofTotalsCi95.join(', ')}]`);
    }
    wakeRuns = await wakes(origin);
  } finally {
    await origin.close();
  }
  const costs = { without: [] as ReturnType<typeof handleCost>[], with: [] as ReturnType<typeof handleCost>[] };
  for (let i = 0; i < 5; i++) { costs.without.push(handleCost(false)); costs.with.push(handleCost(true)); }
  const ns = (xs: ReturnType<typeof handleCost>[], k: 'partNs' | 'playlistNs') => round(median(xs.map((x) => x[k])), 0);
  const memory = memoryPerSessions(opts.sessions);
  const result = {
    params: opts,
    loadavg: { start: loadStart, end: loadavg() },
    slices,
    wake: summarizeWakes(wakeRuns),
    handleNs: { part: { without: ns(costs.without, 'partNs'), with: ns(costs.with, 'partNs') },
      sidPlaylist: { without: ns(costs.without, 'playlistNs'), with: ns(costs.with, 'playlistNs') } },
    memory: { sessions: opts.sessions, heapBytes: memory.bytes, perSessionBytes: memory.perSessionBytes },
  };
  report('analytics', result);
  console.log(JSON.stringify(result, null, 2));
}

await main();
