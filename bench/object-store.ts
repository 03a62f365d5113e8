/**
 * Scenario 12 (issue 19): the archive on an S3-compatible object store.
 *
 *   node dist/bench/object-store.js [--channels 1,4] [--warmup 15] [--window 60] [--sampleSec 10]
 *                                   [--playlistSpaced 5] [--playlistRuns 10] [--moves 3] [--moveSettle 16]
 *                                   [--skip upload,catchup,move]
 *
 * (≈ 3.5 min with the defaults.)
 * Needs what the integration tests need: Ceph's RADOS Gateway (scripts/s3/start-rgw.sh, as root,
 * through test/helpers/object-store.ts) and PostgreSQL's binaries (test/helpers/postgres.ts).
 * Everything on 127.0.0.1; the store's daemons run on the same two cores as the origins.
 *
 * 1. Upload cost. One source file (1280x720 30 fps, libx264 veryfast ~2.5 Mb/s, a keyframe
 *    every 2 s, AAC 96k; 10 s, looped) published with `ffmpeg -re -stream_loop -1 -c copy`,
 *    so the publishers cost next to no CPU. For each N in --channels, two origin processes
 *    (`node dist/src/main.js`, low latency mode: 2 s segments, archive on, thumbnails off, the
 *    rest default), one with `objectStore` (its own bucket, localRetentionMinutes 60, the
 *    default uploadConcurrency 4) and one without, each fed N copies of the file. All the
 *    origins run at the same time, so each on/off pair shares the same neighbours. After
 *    --warmup s, --window s measured: the origin's CPU from /proc/<pid>/stat (utime + stime,
 *    whole window and --sampleSec samples), its VmRSS, and from its /metrics (scraped at the
 *    window's start and end only) the object store's requests by operation and bytes up/down,
 *    the bytes the archive wrote, the segments completed and the bytes ingested; the size of the
 *    hour's segment index (each new line uploads it whole again, so what it costs grows through
 *    the hour: extrapolated to a full hour from its bytes per line). Also the store's own CPU
 *    (radosgw, ceph-osd, ceph-mon, found from the gateway's port) over the window.
 * 2. Catchup. The publishers stop; once the largest "on" origin (A) has nothing left to upload,
 *    a fresh origin process B starts with an empty data dir on A's bucket. The catchup range of
 *    A's first channel (from its first whole second + 2 s to its stop − 2 s) is fetched, one
 *    request at a time over one keep-alive connection (node:http, no gzip): the playlist, the
 *    init, then every segment in order, twice in a row, from (a) the "off" origin of the same N
 *    (its own archive of the same file, no store at all), (b) A (local disk, store configured),
 *    (c) B (nothing on its disk: pass 1 with B's read cache cold, 1.5 s after its start so that
 *    the listings it made while starting are stale; pass 2 warm). Then the playlist alone, 5
 *    times 1.2 s apart (an origin with a store lists the bucket again once its 1-s listing cache
 *    has run out) and 10 times back to back. Time to first byte = request sent → response
 *    headers; total = → last body byte. B's answers are compared byte for byte with A's. Each
 *    store-configured origin's requests to the store are read from its /metrics around each step.
 * 3. Moving a channel between origins. Two origin processes on one PostgreSQL and one bucket
 *    (cluster.originUrl, cluster.leaseSec 3, objectStore, as test/e2e/multi-origin.test.ts sets
 *    them; no proxy, no browser), a channel made through A's API (default mode: ultra-low),
 *    published live by ffmpeg (640x360 30 fps, a keyframe a second, as that test). Then
 *    --moves times: the owner is killed with SIGKILL, its encoder with it, and at once a new
 *    encoder publishes to the survivor; the survivor's media playlist is polled (each request
 *    held as long as the origin holds it, then every 50 ms) until it lists a part and then a
 *    complete segment newer than the last the dead owner listed. The killed origin is then
 *    restarted on its disk and ports and becomes the next survivor, --moveSettle s later (16:
 *    past the default 15-s reconnect window). Each move also records whether the survivor,
 *    just before the kill, answered the owner's playlist (relayed) or an older one of its own
 *    (its lag in segments), and whether its first own segment took an MSN the dead owner had
 *    already listed (msnReused; such moves are left out of the time statistics).
 *    BENCH_DEBUG=1 prints the playlists around each move.
 *
 * Prints a RESULT line (appended to bench/results/object-store.jsonl) and a summary.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { LOG_CHUNK_BYTES } from '../src/store/object/log-copies.js';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, get as httpGet } from 'node:http';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { startObjectStore, type ObjectStoreServer } from '../test/helpers/object-store.js';
import { freePorts, spawnOrigin, type OriginProcess as SpawnedOrigin } from '../test/helpers/origin-process.js';
import { startPostgres, type PostgresServer } from '../test/helpers/postgres.js';
import { runFfmpeg, startPublisher as startLivePublisher } from '../test/helpers/ffmpeg.js';
import {
  CLK_TCK, flags, machine, max, median, pct, procSample, report, round, sleep, startOriginProcess, stopProcess, tmpDir, waitFor200,
  type OriginProcess,
} from './common.js';

const opts = flags({ channels: '1,4', warmup: 15, window: 60, sampleSec: 10, playlistSpaced: 5, playlistRuns: 10, moves: 3, moveSettle: 16, skip: '' });
const skip = new Set(opts.skip.split(',').filter(Boolean));
const ADMIN = 'bench-object-store-admin-token-0123456789ab';
const SECRET = 'bench-object-store-server-secret-0123456789';
const load = () => loadavg().map((x) => round(x, 2));

// ------------------------------------------------------------------ helpers

const ffmpeg = (args: string[]): Promise<void> => runFfmpeg(['-hide_banner', '-loglevel', 'error', '-nostdin', ...args]);

/** 10 s of 1280x720 30 fps H.264 (~2.5 Mb/s, keyframe every 2 s) + AAC, to loop. */
async function makeSource(dir: string): Promise<string> {
  const file = join(dir, 'src-720p.flv');
  await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '10',
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '60', '-keyint_min', '60', '-sc_threshold', '0',
    '-b:v', '2.5M', '-maxrate', '2.5M', '-bufsize', '5M', '-c:a', 'aac', '-b:a', '96k', '-y', file]);
  return file;
}

function copyPublisher(file: string, url: string): ChildProcess {
  return spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', file, '-c', 'copy', '-f', 'flv', url],
    { stdio: ['ignore', 'ignore', 'ignore'] });
}

/** Prometheus text ▶ samples (name, labels, value). */
type Sample = { name: string; labels: Record<string, string>; value: number };
async function scrape(apiPort: number): Promise<Sample[]> {
  const text = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text();
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}
const sum = (s: Sample[], name: string, where: Record<string, string> = {}) =>
  s.filter((x) => x.name === name && Object.entries(where).every(([k, v]) => x.labels[k] === v)).reduce((a, x) => a + x.value, 0);

/** The store's daemons (radosgw, ceph-osd, ceph-mon): the gateway from its port, the others from the pid files next to its config. */
function storePids(endpoint: string): number[] {
  try {
    const port = new URL(endpoint).port;
    const ss = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
    const rgw = Number(/pid=(\d+)/.exec(ss)?.[1]);
    const args = readFileSync(`/proc/${rgw}/cmdline`, 'utf8').split('\0');
    const conf = args.find((a) => a.endsWith('/ceph.conf'))!;
    const dir = conf.slice(0, -'/ceph.conf'.length);
    const pids = execFileSync('sh', ['-c', `cat ${dir}/pids/*.pid`], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);
    return [...new Set([rgw, ...pids])].filter((p) => Number.isInteger(p) && p > 0);
  } catch {
    return [];
  }
}
function ticksOf(pids: number[]): number {
  let t = 0;
  for (const p of pids) { try { t += procSample(p).ticks; } catch { /* gone */ } }
  return t;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
interface Timed { status: number; ttfbMs: number; totalMs: number; bytes: number; body: Buffer }
function timedGet(url: string): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = httpGet(url, { agent }, (res) => {
      const head = performance.now();
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, ttfbMs: head - t0, totalMs: performance.now() - t0, bytes: body.length, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`${url}: no answer in 30 s`)));
  });
}

/** startOriginProcess writes its config into a temp dir of its own (our dataDirs are elsewhere): removed after the stop. */
async function stopOrigin(o: OriginProcess): Promise<void> {
  await o.stop();
  const file = o.proc.spawnargs[o.proc.spawnargs.indexOf('--config') + 1];
  if (file) rmSync(dirname(file), { recursive: true, force: true });
}

/** The hour indexes (segments.log) of one channel's archive: lines and bytes, i.e. what each whole-log upload carries. */
function hourIndexes(dataDir: string, channel: string): { files: number; lines: number; bytes: number } {
  const root = join(dataDir, 'archive', channel);
  const out = { files: 0, lines: 0, bytes: 0 };
  for (const f of readdirSync(root, { recursive: true }) as string[]) {
    if (!f.endsWith('/segments.log')) continue;
    const text = readFileSync(join(root, f), 'utf8');
    out.files++; out.bytes += Buffer.byteLength(text); out.lines += text.split('\n').filter(Boolean).length;
  }
  return out;
}

const dist = (xs: number[]) => ({ p50: round(median(xs), 2), p90: round(pct(xs, 90), 2), max: round(max(xs), 2), n: xs.length });

async function until<T>(fn: () => Promise<T | false | undefined | null>, timeoutMs: number, what: string, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ------------------------------------------------------------------ 1. upload cost

interface Setup {
  n: number; store: boolean; origin: OriginProcess; apiPort: number; ids: string[]; bucket?: string; dataDir: string;
  pubs: ChildProcess[]; firstSecond?: number;
}

async function startSetup(store: ObjectStoreServer, n: number, on: boolean): Promise<Setup> {
  const tag = `${on ? 'on' : 'off'}${n}`;
  const ids = Array.from({ length: n }, (_, i) => `os-${tag}-${i + 1}`);
  const bucket = on ? await store.createBucket(`bench-upload-${tag}`) : undefined;
  const [apiPort] = await freePorts(1);
  const dataDir = join(tmpDir(`os-${tag}`), 'data');
  const origin = await startOriginProcess({
    dataDir, http2: { enabled: false }, thumbnails: { enabled: false },
    api: { host: '127.0.0.1', port: apiPort },
    analytics: { originId: `bench-${tag}` },
    ...(on ? { objectStore: { bucket, endpoint: store.endpoint, region: store.region, localRetentionMinutes: 60 } } : {}),
    channels: ids.map((id) => ({ id, streamKey: `bench-key-${id}`, latencyMode: 'low' })),
  });
  return { n, store: on, origin, apiPort, ids, bucket, dataDir, pubs: [] };
}

interface Snap { proc: ReturnType<typeof procSample>; metrics: Sample[] }
async function snap(s: Setup): Promise<Snap> {
  return { proc: procSample(s.origin.pid), metrics: await scrape(s.apiPort) };
}

function uploadRow(s: Setup, a: Snap, b: Snap, samples: number[], rss: number[]) {
  const sec = (b.proc.t - a.proc.t) / 1000;
  const perChMin = (x: number) => (x / s.n) * (60 / sec);
  const d = (name: string, where: Record<string, string> = {}) => sum(b.metrics, name, where) - sum(a.metrics, name, where);
  const ops = Object.fromEntries(['put', 'get', 'list', 'delete'].map((op) => [op, d('sigma_object_store_requests_total', { op })]));
  const bytesUp = d('sigma_object_store_bytes_total', { direction: 'up' }), bytesDown = d('sigma_object_store_bytes_total', { direction: 'down' });
  const archived = d('sigma_archive_written_bytes_total'), ingested = d('sigma_ingest_received_bytes_total');
  const segments = d('sigma_channel_segments_total');
  return {
    channels: s.n, objectStore: s.store, seconds: round(sec, 1),
    cpuPctOfOneCore: round(((b.proc.ticks - a.proc.ticks) / CLK_TCK / sec) * 100, 2),
    cpuSamplesPct: { median: round(median(samples), 2), min: round(Math.min(...samples), 2), max: round(max(samples), 2), all: samples.map((x) => round(x, 2)) },
    rssMiBMedian: round(median(rss), 1),
    perChannelPerMinute: {
      puts: round(perChMin(ops.put), 1), gets: round(perChMin(ops.get), 2), lists: round(perChMin(ops.list), 2), deletes: round(perChMin(ops.delete), 2),
      bytesUp: Math.round(perChMin(bytesUp)), bytesDown: Math.round(perChMin(bytesDown)),
      archiveWrittenBytes: Math.round(perChMin(archived)), ingestedBytes: Math.round(perChMin(ingested)), segments: round(perChMin(segments), 2),
    },
    putsPerSegment: s.store && segments > 0 ? round(ops.put / segments, 3) : null,
    bytesUpBeyondMedia: s.store ? Math.round(perChMin(bytesUp - archived)) : null,
    errors: d('sigma_object_store_errors_total'),
    uploadsWaitingAtEnd: sum(b.metrics, 'sigma_object_store_uploads_waiting'),
    bytesUpPerArchivedByte: archived > 0 && s.store ? round(bytesUp / archived, 4) : null,
    bytesUpPerIngestedByte: ingested > 0 && s.store ? round(bytesUp / ingested, 4) : null,
  };
}

/** `setups` is the caller's, so that it stops every origin and publisher whatever happens here. */
async function uploadCost(store: ObjectStoreServer, file: string, setups: Setup[]) {
  const ns = opts.channels.split(',').map(Number);
  for (const n of ns) for (const on of [true, false]) setups.push(await startSetup(store, n, on));
  const publishedAt = Date.now();
  for (const s of setups) s.pubs = s.ids.map((id) => copyPublisher(file, `rtmp://127.0.0.1:${s.origin.ports.rtmp}/live/bench-key-${id}`));
  await Promise.all(setups.flatMap((s) => s.ids.map((id) => waitFor200(`${s.origin.http}/live/${id}/source.m3u8`, 30_000, `${id} live`))));
  process.stderr.write(`[object-store] ${setups.length} origins, ${setups.reduce((a, s) => a + s.n, 0)} channels live; warm-up ${opts.warmup} s\n`);
  await sleep(opts.warmup * 1000);
  const pids = storePids(store.endpoint);
  const loadStart = load();
  const first = await Promise.all(setups.map(snap));
  const storeTicks0 = ticksOf(pids), t0 = performance.now();
  const samples = setups.map(() => [] as number[]), rss = setups.map(() => [] as number[]);
  let prev = first.map((x) => x.proc);
  for (let i = 1; i * opts.sampleSec <= opts.window; i++) {
    await sleep(Math.max(0, t0 + i * opts.sampleSec * 1000 - performance.now()));
    const now = setups.map((s) => procSample(s.origin.pid));
    now.forEach((p, k) => {
      samples[k].push(((p.ticks - prev[k].ticks) / CLK_TCK / ((p.t - prev[k].t) / 1000)) * 100);
      rss[k].push(p.rssBytes / 2 ** 20);
    });
    prev = now;
  }
  const last = await Promise.all(setups.map(snap));
  const storeCpuPct = pids.length ? round(((ticksOf(pids) - storeTicks0) / CLK_TCK / ((performance.now() - t0) / 1000)) * 100, 2) : null;
  const loadEnd = load();
  if (setups.some((s) => s.pubs.some((p) => p.exitCode !== null))) throw new Error('a publisher exited during the measurement');
  const rows = setups.map((s, k) => uploadRow(s, first[k], last[k], samples[k], rss[k]));
  // Each new line of an hour's index re-sends the index's last 8-KiB chunk (src/store/object/log-copies.ts):
  // on average half a chunk, the same all through the hour. Measured: what went up beyond the archive.
  const on = setups.find((s) => s.store)!;
  const index = hourIndexes(on.dataDir, on.ids[0]);
  const perLine = index.bytes / index.lines, segmentsPerHour = 3600 / 2;
  const onRow = rows.find((r) => r.objectStore)!.perChannelPerMinute;
  const mediaPerHour = onRow.archiveWrittenBytes * 60;
  const indexBytesPerHour = segmentsPerHour * (LOG_CHUNK_BYTES / 2 + perLine);
  const hourIndex = { ...index, bytesPerLine: round(perLine, 1), chunkBytes: LOG_CHUNK_BYTES,
    uploadedPerChannelHour: Math.round(indexBytesPerHour), ofMediaPerHour: round(indexBytesPerHour / mediaPerHour, 4),
    measuredBeyondArchivePerMinute: Math.round(onRow.bytesUp - onRow.archiveWrittenBytes) };
  for (const r of rows) process.stderr.write(`[object-store] ${r.channels} ch, store ${r.objectStore ? 'on ' : 'off'}: CPU ${r.cpuPctOfOneCore} % of a core, per channel-minute ${JSON.stringify(r.perChannelPerMinute)}\n`);
  const ratios = ns.map((n) => {
    const on = rows.find((r) => r.channels === n && r.objectStore)!, off = rows.find((r) => r.channels === n && !r.objectStore)!;
    return { channels: n, cpuOnOff: round(on.cpuPctOfOneCore / off.cpuPctOfOneCore, 3), cpuSamplesMedianOnOff: round(on.cpuSamplesPct.median / off.cpuSamplesPct.median, 3),
      cpuPointsPerChannel: round((on.cpuPctOfOneCore - off.cpuPctOfOneCore) / n, 2) };
  });
  // Stop publishing: the sessions end, the last segment and the indexes go up.
  const stoppedAt = Date.now();
  await Promise.all(setups.flatMap((s) => s.pubs.map((p) => stopProcess(p))));
  return { setups, rows, ratios, hourIndex, storeCpuPct, storePids: pids.length, loadavg: { start: loadStart, end: loadEnd }, publishedAt, stoppedAt };
}

// ------------------------------------------------------------------ 2. catchup

async function catchupPass(base: string, path: string) {
  const playlist = await timedGet(base + path);
  if (playlist.status !== 200) throw new Error(`${base}${path}: ${playlist.status} ${playlist.body.toString().slice(0, 200)}`);
  const text = playlist.body.toString();
  const url = base + path;
  const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(text)?.[1];
  const segments = text.split('\n').filter((l) => l && !l.startsWith('#')).map((u) => new URL(u, url).href);
  const init = map ? await timedGet(new URL(map, url).href) : undefined;
  const seg: Timed[] = [];
  for (const u of segments) {
    const r = await timedGet(u);
    if (r.status !== 200) throw new Error(`${u}: ${r.status}`);
    seg.push(r);
  }
  return {
    playlist: { ttfbMs: round(playlist.ttfbMs, 2), totalMs: round(playlist.totalMs, 2), bytes: playlist.bytes },
    init: init && { status: init.status, ttfbMs: round(init.ttfbMs, 2), totalMs: round(init.totalMs, 2), bytes: init.bytes },
    segments: seg.length, segmentBytes: { median: median(seg.map((x) => x.bytes)), total: seg.reduce((a, x) => a + x.bytes, 0) },
    segmentTtfbMs: dist(seg.map((x) => x.ttfbMs)), segmentTotalMs: dist(seg.map((x) => x.totalMs)),
    wholeMs: round(playlist.totalMs + (init?.totalMs ?? 0) + seg.reduce((a, x) => a + x.totalMs, 0), 1),
    bodies: seg.map((x) => x.body),
  };
}

async function catchup(store: ObjectStoreServer, up: Awaited<ReturnType<typeof uploadCost>>) {
  const nMax = Math.max(...up.setups.map((s) => s.n));
  const a = up.setups.find((s) => s.n === nMax && s.store)!, off = up.setups.find((s) => s.n === nMax && !s.store)!;
  // Nothing left to upload on A (the sessions' last segments and indexes).
  const idleAt = await until(async () => {
    const m = await scrape(a.apiPort);
    return sum(m, 'sigma_object_store_uploads_waiting') === 0 && Date.now() - up.stoppedAt > 3000 && Date.now();
  }, 60_000, 'A\'s uploads to finish', 250);
  const from = Math.floor(up.publishedAt / 1000) + 3, to = Math.floor(up.stoppedAt / 1000) - 2;
  const range = `${from}-${to}`;
  const dataDirB = join(tmpDir('os-b'), 'data');
  const [apiB] = await freePorts(1);
  const b = await startOriginProcess({
    dataDir: dataDirB, http2: { enabled: false }, thumbnails: { enabled: false }, api: { host: '127.0.0.1', port: apiB },
    analytics: { originId: 'bench-b' },
    objectStore: { bucket: a.bucket, endpoint: store.endpoint, region: store.region, localRetentionMinutes: 60 },
    channels: a.ids.map((id) => ({ id, streamKey: `bench-key-${id}`, latencyMode: 'low' })),
  });
  try {
    const startup = await scrape(apiB); // what B asked of the store while it started (before any request)
    const startupStoreRequests = Object.fromEntries(['put', 'get', 'list'].map((op) => [op, sum(startup, 'sigma_object_store_requests_total', { op })]));
    const idA = a.ids[0], idOff = off.ids[0];
    const servers = [
      { name: 'diskNoStore', what: 'origin without objectStore, its own archive on its disk', base: off.origin.http, path: `/live/${idOff}/archive/${range}.m3u8` },
      { name: 'diskWithStore', what: 'origin A: the archive on its disk, objectStore configured', base: a.origin.http, path: `/live/${idA}/archive/${range}.m3u8` },
      { name: 'store', what: 'origin B: empty disk, A\'s bucket', base: `http://127.0.0.1:${b.ports.http}`, path: `/live/${idA}/archive/${range}.m3u8` },
    ];
    const out: Record<string, any> = {};
    let aBodies: Buffer[] | undefined;
    for (const s of servers) {
      await timedGet(`${s.base}/healthz`); // the keep-alive connection, not the origin's archive path
      // B read its channels' indexes from the store as it started; a viewer coming later than the
      // 1-s life of its listing cache finds them stale.
      if (s.name === 'store') await sleep(1500);
      const api = s.name === 'store' ? apiB : s.name === 'diskWithStore' ? a.apiPort : undefined;
      const m0 = api ? await scrape(api) : undefined;
      const p1 = await catchupPass(s.base, s.path);
      const m1 = api ? await scrape(api) : undefined;
      const p2 = await catchupPass(s.base, s.path);
      const m2 = api ? await scrape(api) : undefined;
      // The playlist alone: 1.2 s apart (an origin with a store lists it again once its 1-s
      // listing cache has run out: other origins' copies of the index), then back to back.
      const spaced: Timed[] = [], again: Timed[] = [];
      for (let i = 0; i < opts.playlistSpaced; i++) { await sleep(1200); spaced.push(await timedGet(s.base + s.path)); }
      const m3 = api ? await scrape(api) : undefined;
      for (let i = 0; i < opts.playlistRuns; i++) again.push(await timedGet(s.base + s.path));
      const ops = (x: Sample[], y: Sample[]) => Object.fromEntries([
        ...['put', 'get', 'list'].map((op) => [op, sum(y, 'sigma_object_store_requests_total', { op }) - sum(x, 'sigma_object_store_requests_total', { op })]),
        ['bytesDown', sum(y, 'sigma_object_store_bytes_total', { direction: 'down' }) - sum(x, 'sigma_object_store_bytes_total', { direction: 'down' })],
        ['cacheHits', sum(y, 'sigma_object_store_read_cache_total', { result: 'hit' }) - sum(x, 'sigma_object_store_read_cache_total', { result: 'hit' })],
      ]);
      if (s.name === 'diskWithStore') aBodies = p1.bodies;
      const sameBytes = s.name === 'store' && aBodies ? p1.bodies.length === aBodies.length && p1.bodies.every((x, i) => x.equals(aBodies![i])) : undefined;
      const strip = ({ bodies: _b, ...r }: Awaited<ReturnType<typeof catchupPass>>) => r;
      out[s.name] = { what: s.what, path: s.path, pass1: strip(p1), pass2: strip(p2),
        playlistSpaced: { ttfbMs: dist(spaced.map((x) => x.ttfbMs)), totalMs: dist(spaced.map((x) => x.totalMs)) },
        playlistRepeated: { ttfbMs: dist(again.map((x) => x.ttfbMs)), totalMs: dist(again.map((x) => x.totalMs)) },
        ...(m0 ? { storeRequests: { pass1: ops(m0, m1!), pass2: ops(m1!, m2!), playlistSpaced: ops(m2!, m3!) } } : {}), ...(sameBytes !== undefined ? { sameBytesAsA: sameBytes } : {}) };
      process.stderr.write(`[object-store] catchup ${s.name}: playlist ${p1.playlist.totalMs} / ${p2.playlist.totalMs} ms, ${p1.segments} segments, ` +
        `segment total p50 ${p1.segmentTotalMs.p50} / ${p2.segmentTotalMs.p50} ms (pass 1 / 2); playlist 1.2 s apart p50 ${round(median(spaced.map((x) => x.totalMs)), 2)} ms, ` +
        `back to back p50 ${round(median(again.map((x) => x.totalMs)), 2)} ms` +
        `${out[s.name].storeRequests ? `; store requests ${JSON.stringify(out[s.name].storeRequests)}` : ''}\n`);
    }
    // The store itself, asked from this process with the SDK (no origin): what B's requests cost at the source.
    const hours = await store.client.send(new ListObjectsV2Command({ Bucket: a.bucket, Prefix: `archive/${idA}/source/`, Delimiter: '/' }));
    const hourDir = (hours.CommonPrefixes ?? []).map((x) => x.Prefix!).find((x) => /\/\d{10}\/$/.test(x))!;
    const inHour = await store.client.send(new ListObjectsV2Command({ Bucket: a.bucket, Prefix: hourDir, Delimiter: '/' }));
    const segKey = (inHour.Contents ?? []).map((x) => x.Key!).find((k) => k.endsWith('.m4s'))!;
    const timeIt = async (fn: () => Promise<unknown>) => { const xs: number[] = []; for (let i = 0; i < 5; i++) { const t = performance.now(); await fn(); xs.push(performance.now() - t); } return dist(xs); };
    const storeDirect = {
      listHourMs: await timeIt(() => store.client.send(new ListObjectsV2Command({ Bucket: a.bucket, Prefix: hourDir, Delimiter: '/' }))),
      headSegmentMs: await timeIt(() => store.client.send(new HeadObjectCommand({ Bucket: a.bucket, Key: segKey }))),
      getSegmentMs: await timeIt(async () => (await store.client.send(new GetObjectCommand({ Bucket: a.bucket, Key: segKey }))).Body!.transformToByteArray()),
      objectsInHour: inHour.KeyCount,
    };
    const r = (x: number, y: number) => round(x / y, 2);
    const disk = out.diskWithStore, st = out.store;
    const ratios = {
      playlistSpacedP50: { storeOverDisk: r(st.playlistSpaced.totalMs.p50, disk.playlistSpaced.totalMs.p50), storeOverNoStore: r(st.playlistSpaced.totalMs.p50, out.diskNoStore.playlistSpaced.totalMs.p50) },
      storeColdOverDisk: { playlistTotal: r(st.pass1.playlist.totalMs, disk.pass1.playlist.totalMs), segmentTtfbP50: r(st.pass1.segmentTtfbMs.p50, disk.pass1.segmentTtfbMs.p50),
        segmentTotalP50: r(st.pass1.segmentTotalMs.p50, disk.pass1.segmentTotalMs.p50), segmentTotalP90: r(st.pass1.segmentTotalMs.p90, disk.pass1.segmentTotalMs.p90) },
      storeWarmOverDisk: { playlistTotal: r(st.pass2.playlist.totalMs, disk.pass2.playlist.totalMs), segmentTtfbP50: r(st.pass2.segmentTtfbMs.p50, disk.pass2.segmentTtfbMs.p50),
        segmentTotalP50: r(st.pass2.segmentTotalMs.p50, disk.pass2.segmentTotalMs.p50), segmentTotalP90: r(st.pass2.segmentTotalMs.p90, disk.pass2.segmentTotalMs.p90) },
    };
    return { range, rangeSec: to - from, storeRequestsAtBStart: startupStoreRequests, storeDirect, uploadsIdleMsAfterStop: idleAt - up.stoppedAt, servers: out, ratios, loadavgEnd: load() };
  } finally {
    await stopOrigin(b);
    rmSync(join(dataDirB, '..'), { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ 3. moving a channel

/**
 * A media playlist as the move sees it: complete segments (MSN, whether parts were listed for it:
 * only the live edge's own segments have parts, segments restored from the archive have none),
 * whether any part is listed, and where discontinuities are.
 */
interface Listing { segments: { msn: number; ownParts: boolean; discontinuity: boolean }[]; parts: number; lastComplete: number }
function listing(text: string): Listing {
  let msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? -1);
  const segments: Listing['segments'] = [];
  let parts = 0, partsHere = false, disc = false;
  for (const line of text.split('\n')) {
    if (line === '#EXT-X-DISCONTINUITY') disc = true;
    else if (line.startsWith('#EXT-X-PART:')) { parts++; partsHere = true; }
    else if (line && !line.startsWith('#')) { segments.push({ msn, ownParts: partsHere, discontinuity: disc }); msn++; partsHere = false; disc = false; }
  }
  return { segments, parts, lastComplete: segments.at(-1)?.msn ?? -1 };
}

async function moves(store: ObjectStoreServer, pg: PostgresServer) {
  const url = await pg.createDatabase('sigma_bench_move');
  const bucket = await store.createBucket('bench-move');
  const [httpA, httpB, apiA, apiB, rtmpA, rtmpB] = await freePorts(6);
  const dirs = { a: join(tmpDir('os-move-a'), 'data'), b: join(tmpDir('os-move-b'), 'data') };
  // As test/e2e/multi-origin.test.ts: spawnOrigin (the ports must stay the same across a restart).
  const files = { a: join(dirs.a, '..', 'config.json'), b: join(dirs.b, '..', 'config.json') };
  for (const name of ['a', 'b'] as const) {
    const http = name === 'a' ? httpA : httpB;
    writeFileSync(files[name], JSON.stringify({
      dataDir: dirs[name], channels: [], secret: SECRET, database: { url }, log: { level: 'warn' },
      objectStore: { bucket, endpoint: store.endpoint, region: store.region, localRetentionMinutes: 0 },
      srt: { enabled: false }, rtmp: { host: '127.0.0.1', port: name === 'a' ? rtmpA : rtmpB }, http: { host: '127.0.0.1', port: http }, http2: { enabled: false },
      api: { host: '127.0.0.1', port: name === 'a' ? apiA : apiB, adminToken: ADMIN }, analytics: { originId: `bench-move-${name}` },
      cluster: { originUrl: `http://127.0.0.1:${http}`, leaseSec: 3 },
    }));
  }
  const launch = async (name: 'a' | 'b') => {
    const p = spawnOrigin(files[name]);
    await p.ready;
    return p;
  };
  const procs: Record<'a' | 'b', SpawnedOrigin | undefined> = { a: undefined, b: undefined };
  [procs.a, procs.b] = await Promise.all([launch('a'), launch('b')]);
  let publisher: ChildProcess | undefined;
  try {
    const created = await fetch(`http://127.0.0.1:${apiA}/v1/channels`, {
      method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'move', name: 'Move', autoStart: true }),
    });
    if (created.status !== 201) throw new Error(`creating the channel: ${created.status} ${await created.text()}`);
    const key = ((await created.json()) as { streamKey: { secret: string } }).streamKey.secret;
    const source = { fps: 30, gop: 30, width: 640, height: 360 };
    const rtmpOf = (n: 'a' | 'b') => `rtmp://127.0.0.1:${n === 'a' ? rtmpA : rtmpB}/live/${key}`;
    const playlistOf = (n: 'a' | 'b') => `http://127.0.0.1:${n === 'a' ? httpA : httpB}/live/move/source.m3u8`;
    publisher = startLivePublisher(rtmpOf('a'), source);
    let owner: 'a' | 'b' = 'a';
    await until(async () => listing(await (await fetch(playlistOf(owner))).text()).segments.length >= 3, 30_000, 'three segments on A', 200);
    const rows: Record<string, unknown>[] = [];
    for (let m = 0; m < opts.moves; m++) {
      const survivor: 'a' | 'b' = owner === 'a' ? 'b' : 'a';
      // What the survivor answers for the channel just before the kill (it should relay the owner).
      const asked = await fetch(playlistOf(survivor), { signal: AbortSignal.timeout(5000) }).then(async (r) => ({ status: r.status, text: await r.text() }), () => ({ status: 0, text: '' }));
      const survivorBefore = listing(asked.text);
      if (asked.status !== 200 && process.env.BENCH_DEBUG) {
        const liveOn = await Promise.all([apiA, apiB].map(async (port) => (await fetch(`http://127.0.0.1:${port}/v1/channels/move`, { headers: { authorization: `Bearer ${ADMIN}` } })).text()));
        process.stderr.write(`--- ${survivor} answered ${asked.status}: ${asked.text.slice(0, 300)}\nA: ${/"liveOn":[^}]*}?/.exec(liveOn[0])?.[0]}\nB: ${/"liveOn":[^}]*}?/.exec(liveOn[1])?.[0]}\nowner's log: ${procs[owner]!.logs().map((l) => `${l.msg} ${l.channel ?? ''} ${l.origin ?? ''}`).join(' | ')}\n`);
      }
      const beforeText = await (await fetch(playlistOf(owner))).text();
      const before = listing(beforeText);
      const t0 = performance.now();
      procs[owner]!.proc.kill('SIGKILL');
      publisher.kill('SIGKILL');
      publisher = startLivePublisher(rtmpOf(survivor), source);
      // Only the survivor's own live edge lists parts (A is dead, segments restored from the
      // archive have none): its first part, then its first complete segment with parts.
      let firstAnswerMs: number | undefined, newPartMs: number | undefined, newSegmentMs: number | undefined, after: Listing | undefined, lastText = '', firstText = '';
      const end = t0 + 30_000;
      while (performance.now() < end && newSegmentMs === undefined) {
        try {
          const r = await fetch(playlistOf(survivor), { signal: AbortSignal.timeout(15_000) });
          const text = await r.text();
          const at = performance.now() - t0;
          if (r.status === 200) {
            if (firstAnswerMs === undefined) { firstAnswerMs = at; firstText = text; }
            after = listing(text);
            lastText = text;
            if (after.parts > 0) newPartMs ??= at;
            if (after.segments.some((x) => x.ownParts)) newSegmentMs = at;
          }
        } catch { /* a held request cut or timed out: ask again */ }
        if (newSegmentMs === undefined) await sleep(50);
      }
      const own = after?.segments.find((x) => x.ownParts);
      const restored = after?.segments.filter((x) => !x.ownParts && x.msn <= before.lastComplete) ?? [];
      const row = {
        move: m + 1, from: owner, to: survivor, killToFirst200Ms: firstAnswerMs && round(firstAnswerMs, 0),
        killToNewPartListedMs: newPartMs && round(newPartMs, 0), killToNewSegmentListedMs: newSegmentMs && round(newSegmentMs, 0),
        ownerLastComplete: before.lastComplete, survivorFirstOwnMsn: own?.msn ?? null,
        // An MSN the dead owner had already listed, given again to other media by the survivor.
        msnReused: own ? own.msn <= before.lastComplete : null,
        // Segments the survivor's answer was behind the owner's just before the kill (0 when it relays the owner; ±1 a race).
        survivorStatusBeforeKill: asked.status,
        survivorLagBeforeKill: asked.status === 200 ? before.lastComplete - survivorBefore.lastComplete : null,
        discontinuityAtMove: after ? after.segments.some((x) => x.discontinuity && x.msn > before.lastComplete - 1 && x.msn <= (own?.msn ?? Infinity)) : null,
        // The segments the dead owner had listed, restored by the survivor from the store.
        ownersLastRestored: restored.some((x) => x.msn === before.lastComplete), restoredListed: restored.length,
      };
      rows.push(row);
      if (process.env.BENCH_DEBUG) process.stderr.write(`--- before (owner ${owner}):\n${beforeText.split('\n').slice(-14).join('\n')}\n--- first answer of ${survivor}:\n${firstText.split('\n').slice(-14).join('\n')}\n--- last:\n${lastText.split('\n').slice(-24).join('\n')}\n`);
      process.stderr.write(`[object-store] move ${m + 1} ${owner}→${survivor}: ${JSON.stringify(row)}\n`);
      if (newSegmentMs === undefined) throw new Error(`move ${m + 1}: no new segment on ${survivor} within 30 s`);
      // The killed origin comes back on its disk and ports: the next move goes to it.
      await procs[owner]!.stop('SIGKILL');
      procs[owner] = await launch(owner);
      owner = survivor;
      // Longer than the reconnect window (15 s) by default: see --moveSettle in the header.
      if (m < opts.moves - 1) await sleep(opts.moveSettle * 1000);
    }
    const clean = rows.filter((r) => r.msnReused === false);
    return { mode: 'channel default (ultra-low)', publisher: '640x360 30 fps, keyframe every 1 s, libx264 veryfast zerolatency 800k (live, test/helpers/ffmpeg.ts)',
      moveSettleSec: opts.moveSettle, moves: rows, msnReusedMoves: rows.length - clean.length,
      killToNewPartListedMs: dist(clean.map((r) => r.killToNewPartListedMs as number)), killToNewSegmentListedMs: dist(clean.map((r) => r.killToNewSegmentListedMs as number)) };
  } finally {
    if (publisher) await stopProcess(publisher, 'SIGKILL');
    for (const p of Object.values(procs)) await p?.stop('SIGTERM');
    for (const d of Object.values(dirs)) rmSync(join(d, '..'), { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const t0 = performance.now();
  const loadAtStart = load();
  const dir = tmpDir('object-store');
  const [store, pg, file] = await Promise.all([startObjectStore(), skip.has('move') ? undefined : startPostgres(), makeSource(dir)]);
  Object.assign(process.env, store.env); // the origins' credentials, from the environment
  const result: Record<string, unknown> = {};
  const setups: Setup[] = [];
  try {
    if (!skip.has('upload') || !skip.has('catchup')) {
      try {
        const up = await uploadCost(store, file, setups);
        result.upload = { rows: up.rows, ratios: up.ratios, hourIndex: up.hourIndex, storeCpuPct: up.storeCpuPct, storeDaemons: up.storePids, loadavg: up.loadavg };
        if (!skip.has('catchup')) result.catchup = await catchup(store, up);
      } finally {
        await Promise.all(setups.flatMap((s) => s.pubs.map((p) => stopProcess(p))));
        await Promise.all(setups.map((s) => stopOrigin(s.origin)));
        for (const s of setups) rmSync(join(s.dataDir, '..'), { recursive: true, force: true });
      }
    }
    if (pg) result.move = await moves(store, pg);
  } finally {
    agent.destroy();
    await Promise.all([store.stop(), pg?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
  const wallSec = round((performance.now() - t0) / 1000, 0);
  report('object-store', {
    params: { ...opts, source: '1280x720 30 fps libx264 veryfast 2.5 Mb/s (maxrate 2.5M, bufsize 5M), keyframe every 2 s, AAC 96k; 10 s looped with -c copy',
      store: 'Ceph RGW (memstore OSD) via scripts/s3/start-rgw.sh on the same machine', cpu: '/proc/<pid>/stat utime+stime of each origin process' },
    loadavg: { start: loadAtStart, end: load() }, wallSec, ...result,
  });

  const m = machine();
  process.stdout.write(`object-store [${m.cpu}, ${m.nproc} cores], load ${loadAtStart.join(' ')} → ${load().join(' ')}, ${wallSec} s\n`);
  const u = result.upload as { rows: ReturnType<typeof uploadRow>[]; ratios: { channels: number; cpuOnOff: number; cpuPointsPerChannel: number }[]; storeCpuPct: number | null;
    hourIndex: Awaited<ReturnType<typeof uploadCost>>['hourIndex'] } | undefined;
  if (u) {
    for (const r of u.rows) {
      const p = r.perChannelPerMinute;
      process.stdout.write(`  upload ${r.channels} ch, store ${r.objectStore ? 'on ' : 'off'}: CPU ${r.cpuPctOfOneCore} % of a core (10-s samples median ${r.cpuSamplesPct.median}, ${r.cpuSamplesPct.min}–${r.cpuSamplesPct.max}), RSS ${r.rssMiBMedian} MiB` +
        (r.objectStore ? `; per channel-minute ${p.puts} PUT, ${p.gets} GET, ${p.lists} LIST, ${round(p.bytesUp / 1e6, 2)} MB up for ${round(p.archiveWrittenBytes / 1e6, 2)} MB archived (×${r.bytesUpPerArchivedByte}), ${round(p.ingestedBytes / 1e6, 2)} MB ingested; errors ${r.errors}` : '') + '\n');
    }
    for (const r of u.ratios) process.stdout.write(`  upload ${r.channels} ch: CPU on/off ×${r.cpuOnOff} (${r.cpuPointsPerChannel} points of a core per channel); store daemons ${u.storeCpuPct} % of a core\n`);
    const h = u.hourIndex;
    process.stdout.write(`  hour index: ${h.bytesPerLine} B a line, its last ${h.chunkBytes}-B chunk re-sent at each segment: ≈ ${round(h.uploadedPerChannelHour / 1e6, 1)} MB ` +
      `per channel-hour (${round(h.ofMediaPerHour * 100, 2)} % of the media, the same all hour); measured: ${round(h.measuredBeyondArchivePerMinute / 1e3, 1)} KB a minute beyond the archive (${h.lines} lines)\n`);
  }
  const c = result.catchup as Record<string, any> | undefined;
  if (c) {
    for (const [name, s] of Object.entries(c.servers) as [string, any][]) {
      for (const pass of ['pass1', 'pass2']) {
        const p = s[pass];
        process.stdout.write(`  catchup ${name.padEnd(13)} ${pass}: playlist ttfb ${p.playlist.ttfbMs} total ${p.playlist.totalMs} ms; ${p.segments} segments ttfb p50/p90 ${p.segmentTtfbMs.p50}/${p.segmentTtfbMs.p90}, ` +
          `total p50/p90 ${p.segmentTotalMs.p50}/${p.segmentTotalMs.p90} ms (median ${p.segmentBytes.median} B); whole range ${p.wholeMs} ms\n`);
      }
    }
    for (const [name, s] of Object.entries(c.servers) as [string, any][]) {
      process.stdout.write(`  catchup ${name.padEnd(13)} playlist alone: 1.2 s apart p50 ${s.playlistSpaced.totalMs.p50} max ${s.playlistSpaced.totalMs.max} ms; back to back p50 ${s.playlistRepeated.totalMs.p50} ms\n`);
    }
    process.stdout.write(`  catchup: ${c.rangeSec} s range; B asked the store at start ${JSON.stringify(c.storeRequestsAtBStart)}; store requests per pass: A ${JSON.stringify(c.servers.diskWithStore.storeRequests)}, B ${JSON.stringify(c.servers.store.storeRequests)}; B's bytes = A's: ${c.servers.store.sameBytesAsA}\n`);
    const d = c.storeDirect;
    process.stdout.write(`  the store asked directly (SDK, p50 of 5): LIST of an hour (${d.objectsInHour} objects) ${d.listHourMs.p50} ms, HEAD of a segment ${d.headSegmentMs.p50} ms, GET of it ${d.getSegmentMs.p50} ms\n`);
    process.stdout.write(`  catchup store/disk: cold ${JSON.stringify(c.ratios.storeColdOverDisk)}, warm ${JSON.stringify(c.ratios.storeWarmOverDisk)}\n`);
  }
  const mv = result.move as Record<string, any> | undefined;
  if (mv) process.stdout.write(`  move (${mv.moves.length}, ${mv.moveSettleSec} s after the killed origin is back): SIGKILL → new part listed on the survivor p50 ${mv.killToNewPartListedMs.p50} ms (max ${mv.killToNewPartListedMs.max}), ` +
    `→ new segment listed p50 ${mv.killToNewSegmentListedMs.p50} ms (max ${mv.killToNewSegmentListedMs.max}) over ${mv.killToNewSegmentListedMs.n} moves; ` +
    `MSNs reused in ${mv.msnReusedMoves}; before each kill the survivor answered ${mv.moves.map((r: any) => `${r.survivorStatusBeforeKill} (${r.survivorLagBeforeKill ?? '–'} segments behind)`).join(', ')}\n`);
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`object-store failed: ${e.stack ?? e}\n`); process.exit(1); });
