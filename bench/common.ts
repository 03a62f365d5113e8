/**
 * What every benchmark shares: flags, statistics, machine facts, the origin as a separate
 * process, /proc sampling and the result line. Benchmarks only talk to 127.0.0.1.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { statSync as fsStatSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { burnedClockFilter } from '../test/helpers/burned-clock.js';

/** Repository root (dist/bench/x.js ▶ ../..). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MAIN_JS = join(ROOT, 'dist', 'src', 'main.js');

/** --name value / --name=value flags over defaults; numbers stay numbers. */
export function flags<T extends Record<string, string | number | boolean>>(defaults: T, argv = process.argv.slice(2)): T {
  const out: Record<string, string | number | boolean> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (!(name in defaults)) throw new Error(`unknown flag --${name}; known: ${Object.keys(defaults).map((k) => `--${k}`).join(' ')}`);
    let v: string;
    if (eq >= 0) v = a.slice(eq + 1);
    else if (typeof defaults[name] === 'boolean' && (argv[i + 1] === undefined || argv[i + 1].startsWith('--'))) v = 'true';
    else v = argv[++i];
    const d = defaults[name];
    out[name] = typeof d === 'number' ? Number(v) : typeof d === 'boolean' ? v === 'true' : v;
  }
  return out as T;
}

export function sorted(xs: number[]): number[] {
  return Float64Array.from(xs).sort() as unknown as number[];
}
/** Nearest-rank percentile (p in 0..100). */
export function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
export function median(xs: number[]): number {
  const s = sorted(xs);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
export function max(xs: number[]): number {
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  return xs.length ? m : NaN;
}
/**
 * Percentile-bootstrap interval of `stat` over `xs` (default 95 %): `resamples` resamples with
 * replacement (of numbers, or of pairs to keep them together) drawn by a seeded generator
 * (mulberry32), so the same samples always give the same interval.
 */
export function bootstrapInterval<T>(xs: T[], stat: (s: T[]) => number, o: { level?: number; resamples?: number; seed?: number } = {}): [number, number] {
  const level = o.level ?? 0.95, resamples = o.resamples ?? 2000;
  if (xs.length === 0) return [NaN, NaN];
  let seed = o.seed ?? 1;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const stats = Array.from({ length: resamples }, () => stat(xs.map(() => xs[Math.floor(random() * xs.length)])));
  return [pct(stats, ((1 - level) / 2) * 100), pct(stats, ((1 + level) / 2) * 100)];
}
export const round = (x: number, d = 2): number => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);

/** Least-squares slope of y over x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n, my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) { num += (xs[i] - mx) * (ys[i] - my); den += (xs[i] - mx) ** 2; }
  return num / den;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const memKb = Number(/MemTotal:\s*(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  return { nproc: cpus().length, cpu: model, memGiB: round(memKb / 1024 / 1024, 1), node: process.version, kernel: release() };
}

/** Prints the machine-readable line (prefixed, one line) and appends it to bench/results/<name>.jsonl. */
export function report(name: string, result: Record<string, unknown>): void {
  let commit = 'unknown';
  try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { /* not a checkout */ }
  // HEAD may have moved since dist/ was built: record when the measured build was made too.
  let distBuiltAt = 'unknown';
  try { distBuiltAt = fsStatSync(MAIN_JS).mtime.toISOString(); } catch { /* not built */ }
  const line = JSON.stringify({ bench: name, date: new Date().toISOString(), commit, distBuiltAt, machine: machine(), ...result });
  process.stdout.write(`RESULT ${line}\n`);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, `${name}.jsonl`), `${line}\n`);
}

/** Runs a command to its end and collects its output; a timeout kills it (code null). */
export async function runCommand(cmd: string, args: string[], timeoutMs = 0): Promise<{ code: number | null; out: string; err: string }> {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  p.stdout!.on('data', (d) => { out += d; });
  p.stderr!.on('data', (d) => { err += d; });
  const t = timeoutMs > 0 ? setTimeout(() => p.kill('SIGKILL'), timeoutMs) : undefined;
  const [code] = await once(p, 'exit');
  clearTimeout(t);
  return { code: code as number | null, out, err };
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

export function tmpDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `sigma-bench-${prefix}-`));
}

export interface OriginProcess {
  proc: ChildProcess;
  pid: number;
  http: string;
  ports: { rtmp?: number; http?: number; http2?: number; h2c?: number; api?: number };
  stop(): Promise<void>;
}

/**
 * `node dist/src/main.js --config <tmp file>`: the production entry point in its own process.
 * Ports are picked free beforehand (the config's 0 would work but main.js only logs them).
 */
export async function startOriginProcess(config: Record<string, unknown>, opts: { taskset?: string; nodeArgs?: string[] } = {}): Promise<OriginProcess> {
  const dir = tmpDir('origin');
  const ports = { rtmp: await freePort(), http: await freePort(), http2: await freePort(), h2c: await freePort(), api: await freePort() };
  const full = {
    srt: { enabled: false }, rtmp: { host: '127.0.0.1', port: ports.rtmp },
    http: { host: '127.0.0.1', port: ports.http },
    http2: { host: '127.0.0.1', port: ports.http2, cleartextPort: ports.h2c },
    // On, as in production, but on a free port so that two origins can run side by side.
    api: { host: '127.0.0.1', port: ports.api },
    dataDir: join(dir, 'data'),
    log: { level: 'warn' },
    ...config,
  } as Record<string, any>;
  // Merge nested server sections given by the caller over the port defaults.
  for (const k of ['rtmp', 'http', 'http2', 'api']) if (config[k]) full[k] = { host: '127.0.0.1', port: (ports as any)[k], ...(k === 'http2' ? { cleartextPort: ports.h2c } : {}), ...(config[k] as object) };
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(full, null, 2));
  const cmd = opts.taskset ? 'taskset' : process.execPath;
  const nodeArgs = [...(opts.nodeArgs ?? []), MAIN_JS, '--config', file];
  const args = opts.taskset ? ['-c', opts.taskset, process.execPath, ...nodeArgs] : nodeArgs;
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  let err = '';
  proc.stderr!.on('data', (d) => { err += d; if (err.length > 20000) err = err.slice(-10000); });
  proc.stdout!.on('data', () => undefined);
  const http = `http://127.0.0.1:${ports.http}`;
  const end = Date.now() + 15000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`origin exited ${proc.exitCode}: ${err}`);
    try { if ((await fetch(`${http}/healthz`)).ok) break; } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`origin did not come up: ${err}`);
    await sleep(100);
  }
  // With taskset, the pid we want is node's: taskset execs it, so it is the same pid.
  return {
    proc, pid: proc.pid!, http, ports,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 12000);
      await once(proc, 'exit');
      clearTimeout(t);
    },
  };
}

/**
 * ffmpeg arguments for a live 720p30 H.264 + AAC test pattern published over RTMP; with
 * burnedClock, the wall clock burned into each frame (test/helpers/burned-clock.ts).
 */
/** What a bench publisher sends; the defaults are 1280x720 30 fps + AAC 48 kHz, CBR, x264 zerolatency. */
export interface PublisherOptions {
  gop: number; bitrate?: string; width?: number; height?: number; fps?: number; cbr?: boolean; burnedClock?: boolean;
  /** B-frames (OBS's x264 default is 2); without: tune zerolatency. */
  bframes?: number;
  /** Keyframes at these times (s, repeating with -stream_loop-free live sources: given as an expression). */
  forceKeyFrames?: string;
  sampleRate?: number;
  /** Leave out the audio or the video track. */
  audio?: boolean;
  video?: boolean;
  /** The container: FLV for RTMP (default), MPEG-TS for SRT. */
  format?: 'flv' | 'mpegts';
}

export function publisherArgs(url: string, o: PublisherOptions): string[] {
  const w = o.width ?? 1280, h = o.height ?? 720, fps = o.fps ?? 30, br = o.bitrate ?? '3M', rate = o.sampleRate ?? 48000;
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re'];
  if (o.video !== false) args.push('-f', 'lavfi', '-i', `testsrc2=size=${w}x${h}:rate=${fps}`);
  if (o.audio !== false) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${rate}`);
  if (o.video !== false) {
    if (o.burnedClock) args.push('-vf', burnedClockFilter({ width: w, fps }));
    args.push('-c:v', 'libx264', '-preset', 'veryfast', ...(o.bframes ? ['-bf', String(o.bframes)] : ['-tune', 'zerolatency']), '-pix_fmt', 'yuv420p',
      '-g', String(o.gop), '-keyint_min', String(o.forceKeyFrames ? 10 : o.gop), '-sc_threshold', '0', '-b:v', br);
    if (o.forceKeyFrames) args.push('-force_key_frames', o.forceKeyFrames);
    if (o.cbr !== false) {
      const n = parseFloat(br);
      const unit = br.replace(/[\d.]/g, '');
      args.push('-maxrate', br, '-bufsize', `${n * 2}${unit}`);
    }
  }
  if (o.audio !== false) args.push('-c:a', 'aac', '-b:a', '96k', '-ar', String(rate), '-ac', '2');
  args.push('-f', o.format ?? 'flv', url);
  return args;
}

export function startPublisher(url: string, o: PublisherOptions): ChildProcess & { stderrText: () => string } {
  const p = spawn('ffmpeg', publisherArgs(url, o), { stdio: ['ignore', 'ignore', 'pipe'] }) as ChildProcess & { stderrText: () => string };
  let err = '';
  p.stderr!.on('data', (d) => { err += d; });
  p.stderrText = () => err;
  return p;
}

export async function stopProcess(p: ChildProcess, signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.kill(signal);
  const t = setTimeout(() => p.kill('SIGKILL'), 5000);
  await once(p, 'exit');
  clearTimeout(t);
}

/** utime + stime in clock ticks (100 Hz on Linux) and RSS in bytes, from /proc. */
export function procSample(pid: number): { ticks: number; rssBytes: number; t: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s*(\d+)/.exec(status)?.[1] ?? NaN);
  return { ticks, rssBytes: rssKb * 1024, t: performance.now() };
}
export const CLK_TCK = 100;

/** Waits until url answers 200 (e.g. the stream's playlist once the first segment exists). */
export async function waitFor200(url: string, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(10000) });
      await r.arrayBuffer();
      if (r.status === 200) return;
    } catch { /* retry */ }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** A forked bench child spoken to with {id, cmd, ...} messages, each answered by {id, ...}. */
export interface IpcChild {
  proc: ChildProcess;
  ready: Record<string, any>;
  call<T = Record<string, any>>(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export async function forkChild(script: string, args: string[], opts: { taskset?: string; nodeArgs?: string[] } = {}): Promise<IpcChild> {
  const path = join(ROOT, 'dist', 'bench', script);
  // taskset pins by wrapping the node binary; fork keeps the IPC channel.
  const proc = opts.taskset
    ? fork(path, args, { execPath: 'taskset', execArgv: ['-c', opts.taskset, process.execPath, ...(opts.nodeArgs ?? [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    : fork(path, args, { execArgv: opts.nodeArgs ?? [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, (m: any) => void>();
  let nextId = 1;
  let readyResolve: (m: any) => void;
  const readyP = new Promise<any>((r) => { readyResolve = r; });
  proc.on('message', (m: any) => {
    if (m.ready) return readyResolve(m);
    const cb = pending.get(m.id);
    pending.delete(m.id);
    cb?.(m);
  });
  const exited = once(proc, 'exit').then(([code]) => { throw new Error(`${script} exited ${code}`); });
  const ready = await Promise.race([readyP, exited]);
  return {
    proc, ready,
    call(cmd, a = {}, timeoutMs = 60000) {
      const id = nextId++;
      return new Promise((res, rej) => {
        const t = setTimeout(() => { pending.delete(id); rej(new Error(`${script}: ${cmd} timed out`)); }, timeoutMs);
        pending.set(id, (m) => { clearTimeout(t); res(m); });
        proc.send({ id, cmd, ...a });
      });
    },
    async close() {
      if (proc.exitCode !== null) return;
      try { proc.send({ id: 0, cmd: 'close' }); } catch { /* gone */ }
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await once(proc, 'exit').catch(() => undefined);
      clearTimeout(t);
    },
  };
}

/** CPU ticks per thread name (/proc/<pid>/task/<tid>/stat), to see where a process spends its CPU. */
export function threadTicks(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      // The main thread is the one whose tid is the pid; native threads that never set a name share 'node'.
      const name = tid === String(pid) ? `${comm} (main)` : comm;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + Number(f[11]) + Number(f[12]));
    } catch { /* thread gone */ }
  }
  return out;
}

/** Resolves once the media playlist lists `segments` segments (90 s at most): viewers join a stream live for a while. */
export async function untilListed(playlistUrl: string, segments: number): Promise<void> {
  const end = Date.now() + 90_000;
  while (((await (await fetch(playlistUrl)).text()).match(/#EXTINF:/g)?.length ?? 0) < segments) {
    if (Date.now() > end) throw new Error(`${playlistUrl} did not list ${segments} segments within 90 s`);
    await sleep(500);
  }
}
