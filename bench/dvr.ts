/**
 * Issue 4 point 8: DVR window, archive and catchup.
 *
 *   node dist/bench/dvr.js [--window 60,3600,21600] [--partBytes 75000] [--marginSec 120]
 *                          [--duration 10] [--connections 50] [--rateHz 5] [--catchupHours 24]
 *                          [--catchup true] [--profile DIR]
 *
 * Per window size, a fresh child process (this file with --role origin, so RSS is comparable)
 * runs src/origin.ts on 127.0.0.1 (uWS, temp dataDir, archive on, dvr.windowSec = the window)
 * with test/helpers/manual-pipeline.ts in place of libav: ultra-low, 2 s segments of ten 0.2 s
 * parts. The child feeds window + margin of media as fast as the archive writer takes it (paced
 * so its bounded queue never drops a segment), waits until every complete segment is 'stored',
 * then keeps feeding at real rate (5 parts/s) while the parent loads it with autocannon:
 *   full      GET source.m3u8                                   (accept-encoding: gzip)
 *   delta     GET source.m3u8?_HLS_skip=YES                     (accept-encoding: gzip)
 *   blocking  GET source.m3u8?_HLS_msn=M&_HLS_part=P&_HLS_skip=YES for the next part
 *             (no gzip: the preload hint of each answer names the next part to ask for)
 * plus RSS and heap after gc (--expose-gc), the render cost of one playlist after a new part
 * (handler called in-process), and the archive on disk versus the media bytes fed.
 *
 * Catchup: a child fills an archive with catchupHours of 2 s segments through the real writer
 * (one 2 s part per segment: the archive indexes segments, so this is 10× fewer writes than
 * 0.2 s parts for the same segments.log), then a fresh child serves that dataDir and the parent
 * times GET /live/demo/archive/<from>-<to>.m3u8 over the whole range: the first (cold) request
 * and the median of --catchupRuns more; the child also times the handler alone and the event
 * loop's longest stall meanwhile (what every live request on the origin waits).
 *
 * --profile DIR writes a V8 CPU profile (node:inspector, same .cpuprofile as node --cpu-prof)
 * of the origin child for each load phase: DIR/dvr-<window>-<load>.cpuprofile.
 * Times are performance.timeOrigin + performance.now() in each process.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { configSchema } from '../src/config/schema.js';
import { Origin } from '../src/origin.js';
import { silentLogger } from '../src/log.js';
import type { LiveWindow } from '../src/store/live-window.js';
import { TRACKS, request } from '../test/helpers/fake-channel.js';
import { manualPipeline } from '../test/helpers/manual-pipeline.js';
import { flags, forkChild, machine, median, pct, report, round, sleep, type IpcChild } from './common.js';

const opts = flags({
  role: 'main', window: '60,3600,21600', partBytes: 75000, marginSec: 120, duration: 10, warmup: 2,
  connections: 50, rateHz: 5, renderRuns: 20, catchup: true, catchupHours: 24, catchupPartBytes: 2000,
  catchupRuns: 10, server: 'uws', profile: '',
  // Child only. maxPendingSegments bounds the closed segments not yet on disk during the fast fill:
  // kept under the shortest window so no segment leaves the playlist with its bytes still in RAM.
  windowSec: 60, partMs: 200, perSegment: 10, dataDir: '', maxPendingSegments: 8,
});

/** child.call without the message id. */
async function ask<T = Record<string, any>>(child: IpcChild, cmd: string, a: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
  const { id: _id, error, ...r } = await child.call<Record<string, any>>(cmd, a, timeoutMs);
  if (error) throw new Error(`${cmd}: ${error}`);
  return r as T;
}

const CHANNEL = 'demo';
const now = () => performance.timeOrigin + performance.now();
const MiB = 2 ** 20;

// ------------------------------------------------------------------ origin child

/** Files and bytes under dir: apparent size (st_size) and allocated blocks (what du counts). */
function diskUsage(dir: string): { files: number; apparentBytes: number; allocatedBytes: number } {
  const out = { files: 0, apparentBytes: 0, allocatedBytes: 0 };
  let entries: string[];
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries) {
    const p = join(dir, name);
    const st = lstatSync(p);
    out.allocatedBytes += st.blocks * 512;
    if (st.isDirectory()) {
      const sub = diskUsage(p);
      out.files += sub.files; out.apparentBytes += sub.apparentBytes; out.allocatedBytes += sub.allocatedBytes;
    } else {
      out.files++; out.apparentBytes += st.size;
    }
  }
  return out;
}

/** /proc/self/io: wchar = bytes handed to write(2), write_bytes = bytes sent to the block layer. */
function procIo(): { wchar: number; writeBytes: number } {
  const t = readFileSync('/proc/self/io', 'utf8');
  return { wchar: Number(/wchar:\s*(\d+)/.exec(t)![1]), writeBytes: Number(/write_bytes:\s*(\d+)/.exec(t)![1]) };
}

function memory() {
  const g = (globalThis as { gc?: () => void }).gc;
  g?.(); g?.();
  const m = process.memoryUsage();
  return { gc: g !== undefined, rssMiB: round(m.rss / MiB), heapUsedMiB: round(m.heapUsed / MiB), heapTotalMiB: round(m.heapTotal / MiB),
    externalMiB: round(m.external / MiB), arrayBuffersMiB: round(m.arrayBuffers / MiB) };
}

/** Complete segments at the live edge whose bytes the archive has not stored yet (still in RAM). */
function pendingSegments(w: LiveWindow): number {
  let n = 0;
  for (let i = w.segments.length - 1; i >= 0; i--) {
    const s = w.segments[i];
    if (s.archive === 'stored') break;
    if (s.complete && s.archive === 'pending') n++;
  }
  return n;
}

async function originChild(): Promise<void> {
  // The parent removes the dataDir once this process is gone (GBs: longer than close() may take).
  const dataDir = opts.dataDir || mkdtempSync(join(tmpdir(), 'sigma-bench-dvr-'));
  const config = configSchema.parse({
    srt: { enabled: false }, rtmp: { enabled: false, port: 0 },
    http: { host: '127.0.0.1', port: 0, server: opts.server },
    http2: { enabled: false },
    api: { enabled: false }, // the media path only; several of these run side by side
    dataDir,
    dvr: { windowSec: opts.windowSec },
    log: { level: 'silent' },
    channels: [{ id: CHANNEL, streamKey: 'bench-dvr-key', latencyMode: 'ultra-low' }],
  });
  const pipe = manualPipeline({ partMs: opts.partMs, perSegment: opts.perSegment });
  const origin = new Origin(config, silentLogger(), pipe.factory);
  const ports = await origin.start();
  const channel = origin.channels.get(CHANNEL)!;
  const window = () => channel.rendition()!.window;
  let pub: ReturnType<typeof channel.startPublication> | undefined;
  let fedParts = 0, fedBytes = 0;
  const pubTimes = new Map<string, number>();
  let live: NodeJS.Timeout | undefined;
  let fillIo = { wchar: 0, writeBytes: 0 };
  let profiler: Session | undefined;

  const emit = (bytes: number) => {
    const t = now();
    const { msn, index } = pipe.part(bytes);
    fedParts++; fedBytes += bytes;
    return { msn, index, t };
  };

  /** Publishes and feeds mediaSec of parts as fast as the archive takes them. */
  async function fill(mediaSec: number) {
    const parts = Math.ceil((mediaSec * 1000) / opts.partMs / opts.perSegment) * opts.perSegment;
    pub = channel.startPublication('bench');
    pub.setTracks(TRACKS);
    // PROGRAM-DATE-TIME = wall clock at the first access unit − its dts + the part's start: a first
    // dts of the whole fill's duration puts the filled media in the past, ending about now.
    pub.write({ trackId: 1, dts: parts * opts.partMs, pts: parts * opts.partMs, keyframe: true, data: Buffer.alloc(0) });
    pipe.init(Buffer.alloc(800, 1));
    fillIo = procIo();
    const t0 = performance.now();
    let waitedMs = 0, nextLog = t0 + 10000;
    for (let i = 1; i <= parts; i++) {
      emit(opts.partBytes);
      if (i % opts.perSegment !== 0) continue;
      await yieldLoop(); // let the archive writer's completions run
      if (pendingSegments(window()) > opts.maxPendingSegments) {
        const w0 = performance.now();
        while (pendingSegments(window()) > opts.maxPendingSegments / 2) await sleep(1);
        waitedMs += performance.now() - w0;
      }
      if (performance.now() > nextLog) {
        nextLog += 10000;
        process.stderr.write(`[dvr] window ${opts.windowSec}s: fed ${i}/${parts} parts (${round((i / parts) * 100, 1)} %)\n`);
      }
    }
    const wallMs = performance.now() - t0;
    return { parts, bytes: fedBytes, mediaSec: (parts * opts.partMs) / 1000, wallSec: round(wallMs / 1000, 1),
      partsPerSec: round(parts / (wallMs / 1000), 0), pacedWaitSec: round(waitedMs / 1000, 1) };
  }

  /** Waits until every complete segment of the window is stored in the archive. */
  async function flush() {
    const t0 = performance.now();
    for (;;) {
      const w = window();
      if (!w.segments.some((s) => s.complete && s.archive === 'pending')) break;
      await sleep(20);
    }
    const w = window();
    const listed = w.segments.filter((s) => s.complete);
    const last = w.segments[w.segments.length - 1];
    return {
      waitedMs: round(performance.now() - t0, 0),
      listedSegments: listed.length, listedMediaSec: listed.reduce((a, s) => a + s.durationMs, 0) / 1000,
      notArchived: w.segments.filter((s) => s.archive === 'none').length,
      partsInRam: w.segments.reduce((a, s) => a + s.parts.length, 0),
      bytesInRam: w.segments.reduce((a, s) => a + s.parts.reduce((b, p) => b + p.data.length, 0), 0),
      firstMsn: w.segments[0]?.msn, lastMsn: last?.msn,
      firstPdtMs: w.segments[0]?.programDateTimeMs, lastEndPdtMs: listed.length ? listed[listed.length - 1].programDateTimeMs + listed[listed.length - 1].durationMs : undefined,
    };
  }

  /** Median time of the handler alone for `path` right after a new part (a cache miss: render + gzip). */
  async function renderCost(path: string, runs: number) {
    const times: number[] = [];
    let bytes = 0, gzipBytes = 0;
    for (let i = -5; i < runs; i++) { // 5 warm-up renders (JIT), then the measured ones
      emit(opts.partBytes);
      const t0 = performance.now();
      const r = await origin.handler.handle(request(path, { headers: { 'accept-encoding': 'gzip' } }));
      if (i >= 0) times.push(performance.now() - t0);
      gzipBytes = (r.body as Buffer).length;
      const plain = await origin.handler.handle(request(path));
      bytes = (plain.body as Buffer).length;
    }
    return { medianMs: round(median(times), 3), maxMs: round(Math.max(...times), 3), runs, bytes, gzipBytes };
  }

  process.on('message', async (m: { id: number; cmd: string; [k: string]: any }) => {
    let reply: Record<string, unknown>;
    try {
      switch (m.cmd) {
        case 'fill': reply = await fill(m.mediaSec); break;
        case 'flush': reply = await flush(); break;
        case 'mem': reply = memory(); break;
        case 'cpu': reply = { ...process.cpuUsage() }; break;
        case 'disk': { // after flush: what the fill wrote (write(2) bytes and block-layer bytes since it began)
          const io = procIo();
          reply = { ...diskUsage(join(dataDir, 'archive', CHANNEL)), fedParts, fedBytes, wcharBytes: io.wchar - fillIo.wchar, writeBytes: io.writeBytes - fillIo.writeBytes };
          break;
        }
        case 'render': reply = await renderCost(m.path, m.runs); break;
        case 'handle': {
          // The handler alone, in-process (no HTTP): generation time of one response.
          // The event loop's longest stall meanwhile is how long every other request (the live edge) waited.
          const times: number[] = [];
          let bytes = 0;
          const stall = monitorEventLoopDelay({ resolution: 5 });
          stall.enable();
          for (let i = 0; i < m.runs; i++) {
            const t0 = performance.now();
            const r = await origin.handler.handle(request(m.path));
            times.push(performance.now() - t0);
            bytes = (r.body as Buffer).length;
          }
          stall.disable();
          reply = { times: times.map((t) => round(t, 3)), bytes, eventLoopDelayMs: { p50: round(stall.percentile(50) / 1e6), max: round(stall.max / 1e6) } };
          break;
        }
        case 'live-start':
          pubTimes.clear();
          live = setInterval(() => {
            const p = emit(opts.partBytes);
            pubTimes.set(`${p.msn}.${p.index}`, p.t);
          }, 1000 / m.rateHz);
          reply = {};
          break;
        case 'live-stop': clearInterval(live); reply = { parts: pubTimes.size }; break;
        case 'pubtimes': reply = { pubTimes: [...pubTimes] }; break;
        case 'finish': await pub?.finish('bench done'); reply = {}; break;
        case 'profile-start':
          profiler = new Session();
          profiler.connect();
          await profiler.post('Profiler.enable');
          await profiler.post('Profiler.start');
          reply = {};
          break;
        case 'profile-stop': {
          const { profile } = await profiler!.post('Profiler.stop');
          profiler!.disconnect();
          writeFileSync(m.file, JSON.stringify(profile));
          reply = { file: m.file };
          break;
        }
        case 'close':
          clearInterval(live);
          await origin.close();
          process.exit(0);
          return;
        default: reply = { error: `unknown ${m.cmd}` };
      }
    } catch (e) {
      reply = { error: String((e as Error).stack ?? e) };
    }
    process.send!({ id: m.id, ...reply });
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ ready: true, port: ports.http, dataDir, pid: process.pid });
}

// ------------------------------------------------------------------ load (parent)

// autocannon ships no types; what is used of it:
interface AcResult {
  latency: { p50: number; p99: number; max: number };
  requests: { average: number; total: number };
  '2xx': number; non2xx: number; errors: number; timeouts: number; throughput: { total: number };
}
const autocannon = createRequire(import.meta.url)('autocannon') as (o: Record<string, unknown>) => Promise<AcResult>;

function summary(r: AcResult, seconds: number) {
  const responses = r['2xx'] + r.non2xx;
  return { p50ms: r.latency.p50, p99ms: r.latency.p99, maxMs: r.latency.max, rps: round(responses / seconds, 1),
    ok: r['2xx'], errors: r.errors + r.timeouts + r.non2xx, bytesPerResponse: responses ? Math.round(r.throughput.total / responses) : undefined };
}

async function load(base: string, path: string, seconds: number, gzip: boolean) {
  const r = await autocannon({ url: base + path, connections: opts.connections, duration: seconds,
    headers: gzip ? { 'accept-encoding': 'gzip' } : {} });
  return summary(r, seconds);
}

const HINT = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="source\/(\d+)\.(\d+)\.m4s"/;
const after = (a: [number, number], b: [number, number]) => a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);

/**
 * Blocking reloads: every connection asks for the newest hinted part, as a player at the live
 * edge does. Wake latency = arrival of the answer − publication of the part it waited for,
 * counted for requests sent before that part was published.
 */
async function blockingLoad(base: string, seconds: number, child: IpcChild) {
  let next: [number, number] | undefined;
  const answers: { asked: string; sentAt: number; arrival: number }[] = [];
  const r = await autocannon({
    url: base, connections: opts.connections, duration: seconds,
    requests: [{
      method: 'GET',
      setupRequest: (req: Record<string, unknown>, ctx: Record<string, unknown>) => {
        ctx.asked = next ? `${next[0]}.${next[1]}` : undefined;
        ctx.sentAt = now();
        const q = next ? `_HLS_msn=${next[0]}&_HLS_part=${next[1]}&_HLS_skip=YES` : '_HLS_skip=YES';
        return { ...req, path: `/live/${CHANNEL}/source.m3u8?${q}` };
      },
      onResponse: (status: number, body: string, ctx: Record<string, unknown>) => {
        const arrival = now();
        if (status === 200 && ctx.asked) answers.push({ asked: ctx.asked as string, sentAt: ctx.sentAt as number, arrival });
        const h = HINT.exec(body);
        if (h) {
          const hint: [number, number] = [Number(h[1]), Number(h[2])];
          if (!next || after(hint, next)) next = hint;
        }
      },
    }],
  });
  const pubTimes = new Map((await ask<{ pubTimes: [string, number][] }>(child, 'pubtimes')).pubTimes);
  const wake: number[] = [];
  let notBlocked = 0;
  for (const a of answers) {
    const p = pubTimes.get(a.asked);
    if (p !== undefined && a.sentAt < p) wake.push(a.arrival - p); else notBlocked++;
  }
  return { ...summary(r, seconds), wakeMs: { p50: round(pct(wake, 50)), p99: round(pct(wake, 99)), max: round(Math.max(...wake)), n: wake.length }, notBlocked };
}

async function headSize(url: string, gzip: boolean): Promise<number> {
  const r = await fetch(url, { headers: { 'accept-encoding': gzip ? 'gzip' : 'identity' } });
  const len = Number(r.headers.get('content-length'));
  await r.arrayBuffer();
  return len;
}

const cpuMs = (a: { user: number; system: number }, b: { user: number; system: number }) => round((b.user + b.system - a.user - a.system) / 1000, 0);

async function runWindow(windowSec: number): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const child = await forkChild('dvr.js', ['--role', 'origin', '--windowSec', String(windowSec), '--partBytes', String(opts.partBytes), '--server', opts.server],
    { nodeArgs: ['--expose-gc'] });
  const base = `http://127.0.0.1:${child.ready.port}`;
  const playlist = `/live/${CHANNEL}/source.m3u8`;
  try {
    const fill = await ask(child, 'fill', { mediaSec: windowSec + opts.marginSec }, 3600_000);
    process.stderr.write(`[dvr] window ${windowSec}s: filled ${fill.parts} parts (${round(fill.bytes / 1e9, 2)} GB) in ${fill.wallSec} s\n`);
    const flushed = await ask(child, 'flush', {}, 600_000);
    // The fill leaves GBs of dirty page cache; its writeback would compete with the loads for the two cores.
    const s0 = performance.now();
    execFileSync('sync');
    const syncSec = round((performance.now() - s0) / 1000, 1);
    const memFilled = await ask(child, 'mem');
    const disk = await ask(child, 'disk');
    const render = { full: await ask(child, 'render', { path: playlist, runs: opts.renderRuns }),
      delta: await ask(child, 'render', { path: `${playlist}?_HLS_skip=YES`, runs: opts.renderRuns }) };
    await ask(child, 'live-start', { rateHz: opts.rateHz });
    await sleep(1000);
    const sizes = { fullBytes: await headSize(base + playlist, false), fullGzipBytes: await headSize(base + playlist, true),
      deltaBytes: await headSize(`${base}${playlist}?_HLS_skip=YES`, false), deltaGzipBytes: await headSize(`${base}${playlist}?_HLS_skip=YES`, true) };
    await load(base, playlist, opts.warmup, true);
    const phase = async <T>(name: string, run: () => Promise<T>): Promise<T & { originCpuMs: number }> => {
      if (opts.profile) await ask(child, 'profile-start');
      const c0 = await ask<{ user: number; system: number }>(child, 'cpu');
      const r = await run();
      const c1 = await ask<{ user: number; system: number }>(child, 'cpu');
      if (opts.profile) await ask(child, 'profile-stop', { file: join(opts.profile, `dvr-${windowSec}-${name}.cpuprofile`) });
      process.stderr.write(`[dvr] window ${windowSec}s ${name}: ${JSON.stringify(r)}\n`);
      return { ...r, originCpuMs: cpuMs(c0, c1) };
    };
    const full = await phase('full', () => load(base, playlist, opts.duration, true));
    const delta = await phase('delta', () => load(base, `${playlist}?_HLS_skip=YES`, opts.duration, true));
    const blocking = await phase('blocking', () => blockingLoad(base, opts.duration, child));
    const memAfterLoad = await ask(child, 'mem');
    await ask(child, 'live-stop');
    const mediaHours = fill.mediaSec / 3600;
    return {
      kind: 'window', windowSec, partBytes: opts.partBytes, fill, flushed, syncSec, memFilled, memAfterLoad, sizes, render,
      full, delta, blocking,
      disk: { ...disk, overheadRatio: round(disk.allocatedBytes / disk.fedBytes, 5), apparentOverheadRatio: round(disk.apparentBytes / disk.fedBytes, 5),
        allocatedBytesPerChannelHour: Math.round((disk.allocatedBytes * fill.bytes) / disk.fedBytes / mediaHours),
        mediaBytesPerChannelHour: Math.round(fill.bytes / mediaHours), wcharPerMediaByte: round(disk.wcharBytes / disk.fedBytes, 5) },
      wallSec: round((performance.now() - t0) / 1000, 1),
    };
  } finally {
    await child.close();
    rmSync(child.ready.dataDir, { recursive: true, force: true });
  }
}

async function timedGet(url: string): Promise<{ ms: number; status: number; bytes: number; text: string }> {
  const t0 = performance.now();
  const r = await fetch(url); // accept-encoding: gzip, deflate (undici's default, as a browser)
  const text = await r.text();
  return { ms: performance.now() - t0, status: r.status, bytes: Buffer.byteLength(text), text };
}

async function runCatchup(): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'sigma-bench-dvr-catchup-'));
  try {
    // Fill: 2 s segments of one 2 s part each, through the real archive writer.
    const filler = await forkChild('dvr.js', ['--role', 'origin', '--windowSec', '60', '--partMs', '2000', '--perSegment', '1',
      '--partBytes', String(opts.catchupPartBytes), '--dataDir', dataDir, '--server', opts.server]);
    let fill: Record<string, any>, flushed: Record<string, any>;
    try {
      fill = await ask(filler, 'fill', { mediaSec: opts.catchupHours * 3600 + opts.marginSec }, 3600_000);
      flushed = await ask(filler, 'flush', {}, 600_000);
      await ask(filler, 'finish', {}, 600_000);
    } finally {
      await filler.close();
    }
    process.stderr.write(`[dvr] catchup: archived ${fill.parts} segments in ${fill.wallSec} s\n`);
    // Serve: a fresh process over that dataDir (restart), nothing published.
    const server = await forkChild('dvr.js', ['--role', 'origin', '--windowSec', '60', '--dataDir', dataDir, '--server', opts.server]);
    try {
      const base = `http://127.0.0.1:${server.ready.port}`;
      // The whole-second range inside the filled media, catchupHours long.
      const to = Math.floor(flushed.lastEndPdtMs / 1000) - 10;
      const from = to - opts.catchupHours * 3600;
      const path = `/live/${CHANNEL}/archive/${from}-${to}.m3u8`;
      await (await fetch(`${base}/healthz`)).text(); // warm the client, not the origin
      const cold = await timedGet(base + path);
      if (cold.status !== 200) throw new Error(`catchup ${path}: ${cold.status} ${cold.text.slice(0, 200)}`);
      const warm: number[] = [];
      for (let i = 0; i < opts.catchupRuns; i++) warm.push((await timedGet(base + path)).ms);
      const handler = await ask<{ times: number[]; bytes: number; eventLoopDelayMs: { p50: number; max: number } }>(server, 'handle', { path, runs: opts.catchupRuns });
      if (opts.profile) { // extra runs under the profiler (it slows them: not the ones timed)
        await ask(server, 'profile-start');
        await ask(server, 'handle', { path, runs: opts.catchupRuns });
        await ask(server, 'profile-stop', { file: join(opts.profile, `dvr-catchup-${opts.catchupHours}h-handler.cpuprofile`) });
      }
      const segments = cold.text.split('\n').filter((l) => l.startsWith('#EXTINF:')).length;
      return {
        kind: 'catchup', hours: opts.catchupHours, path, fillMethod: 'real ArchiveWriter, one 2 s part per 2 s segment',
        fill, archivedSegments: segments, discontinuities: cold.text.split('\n').filter((l) => l === '#EXT-X-DISCONTINUITY').length,
        playlistType: /#EXT-X-PLAYLIST-TYPE:(\w+)/.exec(cold.text)?.[1],
        bytes: cold.bytes, gzipBytes: await headSize(base + path, true),
        httpMs: { cold: round(cold.ms), median: round(median(warm)), max: round(Math.max(...warm)), runs: warm },
        handlerMs: { median: round(median(handler.times)), runs: handler.times }, handlerEventLoopDelayMs: handler.eventLoopDelayMs,
        disk: diskUsage(join(dataDir, 'archive', CHANNEL)),
        wallSec: round((performance.now() - t0) / 1000, 1),
      };
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (opts.profile) mkdirSync(opts.profile, { recursive: true });
  const t0 = performance.now();
  const windows = opts.window.split(',').filter(Boolean).map(Number);
  const params = { ...opts, role: undefined, windowSec: undefined, dataDir: undefined, partMs: 200, perSegment: 10 };
  const rows: Record<string, any>[] = [];
  const settle = async () => { execFileSync('sync'); await sleep(3000); }; // the last child's rm and writeback
  for (const w of windows) {
    const r = await runWindow(w);
    report('dvr', { params, ...r });
    rows.push(r);
    await settle();
  }
  const catchup = opts.catchup ? await runCatchup() : undefined;
  if (catchup) report('dvr', { params, ...catchup });

  const f = (x: { p50ms: number; p99ms: number }) => `${x.p50ms}/${x.p99ms}`;
  process.stdout.write(`dvr [${machine().cpu}, ${machine().nproc} cores], ms p50/p99 while feeding ${opts.rateHz} parts/s:\n`);
  for (const r of rows) {
    process.stdout.write(`  window ${String(r.windowSec).padStart(5)} s: full ${f(r.full)} (render ${r.render.full.medianMs} ms, ${r.sizes.fullBytes} B, gzip ${r.sizes.fullGzipBytes} B)` +
      `  delta ${f(r.delta)} (render ${r.render.delta.medianMs} ms, ${r.sizes.deltaBytes} B)  blocking ${f(r.blocking)} wake ${r.blocking.wakeMs.p50}/${r.blocking.wakeMs.p99}` +
      `  RSS ${r.memFilled.rssMiB} MiB heap ${r.memFilled.heapUsedMiB} MiB  disk/media ${r.disk.overheadRatio}  (${r.wallSec} s)\n`);
  }
  if (catchup) {
    const c = catchup as Record<string, any>;
    process.stdout.write(`  catchup ${c.hours} h (${c.archivedSegments} segments, ${c.bytes} B, gzip ${c.gzipBytes} B): cold ${c.httpMs.cold} ms, median ${c.httpMs.median} ms, handler ${c.handlerMs.median} ms, event loop stalled up to ${c.handlerEventLoopDelayMs.max} ms\n`);
  }
  process.stdout.write(`  total ${round((performance.now() - t0) / 1000, 0)} s\n`);
}

if (opts.role === 'origin') originChild().catch((e) => { process.stderr.write(`dvr origin failed: ${e.stack ?? e}\n`); process.exit(1); });
else main().then(() => process.exit(0), (e) => { process.stderr.write(`dvr failed: ${e.stack ?? e}\n`); process.exit(1); });
