/**
 * Scenario 6: the ABR ladder's cost, beside the ffmpeg command line doing the same work.
 *
 *   node dist/bench/transcode.js [--seconds 60] [--runs 3] [--channels 1] [--ladder 720p/480p/360p]
 *                                [--preset veryfast] [--live 60] [--instructions 0 [--cacheSim]]
 *
 * 1. A 1920x1080 30 fps source file (H.264 with 2 B-frames and a keyframe every 2 s, as OBS
 *    sends it, 6 Mb/s, plus AAC) is made once with ffmpeg.
 * 2. Throughput, --runs pairs, each pair back to back: (a) ours: bench/transcode-ours.ts in a
 *    node process of its own writes the whole file into --channels CmafPipelines at once, as
 *    fast as they go (the source remuxed + every rung decoded once, scaled, x264-encoded and
 *    muxed to CMAF), CPU = that process's user+sys over the work; (b) --channels ffmpeg
 *    processes side by side with the same ladder and settings: one decode (1 thread), split,
 *    bicubic scale per rung, libx264 with the same preset, 1 thread, no B-frames, the same bit
 *    rate and VBV, keyframes where the source has them, audio copied, plus the source remuxed,
 *    all to fragmented MP4 with a fragment every part target (200 ms), as ours: the same
 *    output; CPU = their rusage (read from the shells that waited for them). Real-time factor
 *    = media seconds of one channel / wall seconds; CPU is reported per media second of all
 *    channels, and as the ratio ours / ffmpeg of each pair. (With --channels 2 both sides keep
 *    both cores busy; with 1, ffmpeg's CLI runs on one core and ours on two.)
 * 3. --instructions S: the same work on an S-second clip under callgrind, both sides, minus
 *    each side's fixed start-up: instruction counts do not move with the VM's neighbours.
 *    --cacheSim adds callgrind's simulated L1 data and last-level (this machine's L3) misses.
 * 4. Live, --live seconds: the origin process (`node dist/src/main.js`) with one channel on
 *    the ladder, fed the same file in real time over RTMP (`ffmpeg -re -c copy`, so the
 *    publisher costs nothing), no viewers: CPU % of one core and RSS of the origin, and
 *    whether any rung dropped frames (the origin logs ERR_TRANSCODE_BEHIND).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { flags, median, procSample, report, round, sleep, startOriginProcess, tmpDir, waitFor200, CLK_TCK, ROOT, runCommand } from './common.js';
import { loadMp4 } from '../test/unit/addon/fixtures.js';
import type { LadderOptions } from '../src/addon/cmaf-pipeline.js';
import type { OursResult } from './transcode-ours.js';
import { fitLadder, resolveLadder } from '../src/media/transcode/ladder.js';
import type { VideoTrackInfo } from '../src/media/types.js';

const opts = flags({ seconds: 60, runs: 3, channels: 1, ladder: '720p/480p/360p', preset: 'veryfast', live: 60, instructions: 0, cacheSim: false, keep: false });

/** Parts of the ultra-low mode: both sides write a fragment per part. */
const PART_TARGET_MS = 200;

function makeSource(dir: string, seconds: number): string {
  const file = join(dir, `source-1080p30-${seconds}s.mp4`);
  if (existsSync(file)) return file;
  // Temporal noise over the test pattern: the encoders work as on camera footage, not on a still.
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(seconds), '-vf', 'noise=alls=12:allf=t',
    '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '2', '-g', '60', '-keyint_min', '60', '-sc_threshold', '0',
    '-b:v', '6M', '-maxrate', '6M', '-bufsize', '12M', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '128k', '-ar', '48000', '-ac', '2', file]);
  return file;
}

interface Run { wallMs: number; cpuMs: number }

const OURS_JS = join(ROOT, 'dist', 'bench', 'transcode-ours.js');

/** The process's last `RESULT {...}` line, parsed. */
function resultLine<T>(stdout: string, what: string): T {
  const line = stdout.split('\n').reverse().find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`${what} printed no result: ${stdout.slice(-500)}`);
  return JSON.parse(line.slice(7)) as T;
}

/** Ours: the file through `channels` pipelines at once, in a node process of its own (bench/transcode-ours.ts). */
async function runOurs(file: string, channels: number): Promise<OursResult> {
  const { stdout } = await run('node', [OURS_JS, '--file', file, '--channels', String(channels), '--ladder', opts.ladder, '--preset', opts.preset,
    '--partTargetMs', String(PART_TARGET_MS)]);
  return resultLine<OursResult>(stdout, 'transcode-ours');
}

/** A command that must succeed: its output, or an error with the end of its stderr. */
async function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await runCommand(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} … failed (${r.code}): ${r.err.slice(-1000)}`);
  return { stdout: r.out, stderr: r.err };
}

function ffmpegArgs(file: string, ladder: LadderOptions, outDir: string): string[] {
  const n = ladder.rungs.length;
  const split = `[0:v]split=${n}${ladder.rungs.map((_, i) => `[s${i}]`).join('')}`;
  const scales = ladder.rungs.map((r, i) => {
    const fps = r.maxFrameRate ? `fps=${r.maxFrameRate},` : '';
    return `[s${i}]${fps}scale=${r.width}:${r.height}:flags=bicubic[v${i}]`;
  });
  const args = ['-hide_banner', '-loglevel', 'error', '-y', '-threads', '1', '-i', file,
    '-filter_complex_threads', '1', '-filter_complex', [split, ...scales].join(';')];
  // A fragment per part as our CMAF parts (frag_duration in µs), starting at every keyframe.
  const frag = ['-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof', '-frag_duration', String(PART_TARGET_MS * 1000)];
  ladder.rungs.forEach((r, i) => {
    args.push('-map', `[v${i}]`, '-map', '0:a', '-c:v', 'libx264', '-preset', ladder.preset ?? 'veryfast',
      ...(ladder.tune ? ['-tune', ladder.tune] : []), '-threads', '1', '-profile:v', r.profile ?? 'high', '-bf', '0',
      '-b:v', String(r.videoBitrate), '-maxrate', String(Math.round(r.videoBitrate * 1.1)), '-bufsize', String(Math.round(r.videoBitrate * 1.5)),
      '-force_key_frames', 'expr:gte(t,n_forced*2)', '-sc_threshold', '0', '-x264-params', 'keyint=infinite:open-gop=0',
      '-c:a', 'copy', ...frag, join(outDir, `${r.name}.mp4`));
  });
  args.push('-map', '0:v', '-map', '0:a', '-c', 'copy', ...frag, join(outDir, 'source.mp4'));
  return args;
}

/** One ffmpeg under a shell that reports its children's rusage (cutime + cstime) after waiting for it. */
async function runOneFfmpeg(file: string, ladder: LadderOptions, outDir: string): Promise<Run> {
  const t0 = performance.now();
  mkdirSync(outDir, { recursive: true });
  const { stdout } = await run('bash', ['-c', 'ffmpeg "$@" || exit 1; cat /proc/$$/stat', 'bash', ...ffmpegArgs(file, ladder, outDir)]);
  const f = stdout.slice(stdout.lastIndexOf(')') + 2).trim().split(' ');
  // Fields 16 and 17 (cutime, cstime) are f[13], f[14] counted from field 3.
  return { wallMs: performance.now() - t0, cpuMs: ((Number(f[13]) + Number(f[14])) / CLK_TCK) * 1000 };
}

/** `channels` ffmpeg processes side by side (ffmpeg's way of transcoding N channels): CPU summed, wall until the last ends. */
async function runFfmpeg(file: string, ladder: LadderOptions, outDir: string, channels: number): Promise<Run> {
  const t0 = performance.now();
  const runs = await Promise.all(Array.from({ length: channels }, (_, i) => runOneFfmpeg(file, ladder, join(outDir, `ch${i}`))));
  return { wallMs: performance.now() - t0, cpuMs: runs.reduce((a, r) => a + r.cpuMs, 0) };
}

/** What callgrind counts for a command, all its threads: instructions (Ir) and, with --cacheSim, simulated cache misses. */
interface Counts { Ir: number; D1mr?: number; D1mw?: number; DLmr?: number; DLmw?: number }

/**
 * The simulated last-level cache is this machine's L3 as the kernel reports it (callgrind's own
 * guess here is a 256 MiB direct-mapped cache, whose conflict misses say more about addresses
 * than about the code).
 */
function l3Spec(): string {
  const dir = '/sys/devices/system/cpu/cpu0/cache/index3';
  const size = readFileSync(join(dir, 'size'), 'utf8').trim(); // e.g. "32768K"
  const bytes = Number(size.replace(/[KM]$/, '')) * (size.endsWith('M') ? 2 ** 20 : size.endsWith('K') ? 1024 : 1);
  const ways = readFileSync(join(dir, 'ways_of_associativity'), 'utf8').trim();
  const line = readFileSync(join(dir, 'coherency_line_size'), 'utf8').trim();
  return `${bytes},${ways},${line}`;
}

/** Instructions a command retires, all its threads, as callgrind counts them (the same for the same work, whatever the machine is doing). */
async function callgrindCounts(cmd: string, args: string[]): Promise<Counts> {
  const sim = opts.cacheSim ? ['--cache-sim=yes', `--LL=${l3Spec()}`] : [];
  const { stderr } = await run('valgrind', ['--tool=callgrind', ...sim, '--callgrind-out-file=/dev/null', cmd, ...args]);
  const events = /Events\s*: ([\w ]+)\n/.exec(stderr)?.[1].trim().split(/\s+/);
  const values = /Collected : ([\d ]+)\n/.exec(stderr)?.[1].trim().split(/\s+/).map(Number);
  if (!events || !values) throw new Error(`no counts from callgrind: ${stderr.slice(-500)}`);
  return Object.fromEntries(events.map((e, i) => [e, values[i]])) as unknown as Counts;
}

/**
 * The ladder's work in instructions, both sides, on a clip of `seconds`: timing on this VM
 * varies by ±8-25 % from run to run, the instruction count by nothing. Each side's fixed cost
 * is taken off: for ours node's start and the mp4box demux (`--dry`), which the timed runs
 * leave out of their clock too; for ffmpeg its start (`-version`: loading and linking the libav
 * libraries). What remains on both sides is decode, scale, encode, mux and, on ours, the JS
 * that feeds the pipelines and receives their parts.
 */
async function instructionCounts(file: string, ladder: LadderOptions, outDir: string): Promise<Record<string, unknown>> {
  mkdirSync(outDir, { recursive: true });
  const oursArgs = [OURS_JS, '--file', file, '--ladder', opts.ladder, '--preset', opts.preset, '--partTargetMs', String(PART_TARGET_MS)];
  // Both at once: callgrind runs each on one core and counts the same either way.
  const [oursTotal, ffTotal] = await Promise.all([callgrindCounts('node', oursArgs), callgrindCounts('ffmpeg', ffmpegArgs(file, ladder, outDir))]);
  const [oursFixed, ffFixed] = await Promise.all([callgrindCounts('node', [...oursArgs, '--dry']), callgrindCounts('ffmpeg', ['-hide_banner', '-version'])]);
  const work = (total: Counts, fixed: Counts, k: keyof Counts) => (total[k] ?? NaN) - (fixed[k] ?? NaN);
  const ours = work(oursTotal, oursFixed, 'Ir'), ffmpeg = work(ffTotal, ffFixed, 'Ir');
  const misses = (level: 'D1' | 'DL') => {
    const o = work(oursTotal, oursFixed, `${level}mr`) + work(oursTotal, oursFixed, `${level}mw`);
    const f = work(ffTotal, ffFixed, `${level}mr`) + work(ffTotal, ffFixed, `${level}mw`);
    return { oursMillions: round(o / 1e6, 2), ffmpegMillions: round(f / 1e6, 2), ratioOursToFfmpeg: round(o / f, 3) };
  };
  return {
    seconds: opts.instructions,
    oursGiga: round(ours / 1e9, 3), ffmpegGiga: round(ffmpeg / 1e9, 3), ratioOursToFfmpeg: round(ours / ffmpeg, 4),
    totalsGiga: { ours: round(oursTotal.Ir / 1e9, 3), oursFixed: round(oursFixed.Ir / 1e9, 3), ffmpeg: round(ffTotal.Ir / 1e9, 3), ffmpegFixed: round(ffFixed.Ir / 1e9, 3) },
    cacheMisses: opts.cacheSim ? { l3: l3Spec(), d1: misses('D1'), lastLevel: misses('DL') } : undefined,
  };
}

async function live(file: string): Promise<Record<string, unknown>> {
  const origin = await startOriginProcess({
    http2: { enabled: false },
    log: { level: 'info' },
    transcode: { preset: opts.preset },
    channels: [{ id: 'tc', streamKey: 'bench-transcode-key', latencyMode: 'ultra-low', transcode: { rungs: opts.ladder.split('/') } }],
  });
  let logs = '';
  origin.proc.stdout!.on('data', (d) => { logs += d; if (logs.length > 1e6) logs = logs.slice(-5e5); });
  const pub = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', file,
    '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${origin.ports.rtmp}/live/bench-transcode-key`], { stdio: 'ignore' });
  const published = performance.now();
  try {
    await waitFor200(`${origin.http}/live/tc/index.m3u8`, 30000, 'the ladder');
    await sleep(10_000);
    const a = procSample(origin.pid);
    const rss: number[] = [];
    const end = performance.now() + opts.live * 1000;
    while (performance.now() < end) {
      await sleep(5000);
      rss.push(procSample(origin.pid).rssBytes);
    }
    const b = procSample(origin.pid);
    const mv = await (await fetch(`${origin.http}/live/tc/index.m3u8`)).text();
    return {
      cpuPctOfCore: round(((b.ticks - a.ticks) / CLK_TCK) / ((b.t - a.t) / 1000) * 100, 1),
      rssMiB: { median: round(median(rss) / 2 ** 20, 1), last: round(rss[rss.length - 1] / 2 ** 20, 1) },
      behindReports: (logs.match(/ERR_TRANSCODE_BEHIND/g) ?? []).length,
      // The newest "N frames dropped so far" per rung (reports are rate-limited, the count is cumulative).
      droppedPerRung: Object.fromEntries([...logs.matchAll(/rung '([\w-]+)' encoder behind real time: (\d+) frames/g)].map((m) => [m[1], Number(m[2])])),
      framesPublished: Math.round(((performance.now() - published) / 1000) * 30),
      variants: (mv.match(/#EXT-X-STREAM-INF/g) ?? []).length,
    };
  } finally {
    pub.kill('SIGKILL');
    await origin.stop();
  }
}

async function main(): Promise<void> {
  const dir = tmpDir('transcode');
  try {
    const file = makeSource(dir, opts.seconds);
    const spec = resolveLadder(opts.ladder)!;
    const source = loadMp4(file).tracks.find((t): t is VideoTrackInfo => t.kind === 'video')!;
    const ladder: LadderOptions = { rungs: fitLadder(spec, { ...source, frameRate: 30 }), preset: opts.preset, encoderThreads: 1, decoderThreads: 1 };
    const ours: Run[] = [], theirs: Run[] = [];
    let encoded: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      const r = await runOurs(file, opts.channels);
      ours.push(r);
      encoded = r.encodedPerRung;
      theirs.push(await runFfmpeg(file, ladder, join(dir, `ff${i}`), opts.channels));
      rmSync(join(dir, `ff${i}`), { recursive: true, force: true });
      process.stdout.write(`run ${i + 1}: ours ${round(r.wallMs / 1000)} s wall ${round(r.cpuMs / 1000)} s cpu; ffmpeg ${round(theirs[i].wallMs / 1000)} s wall ${round(theirs[i].cpuMs / 1000)} s cpu; ratio ${round(r.cpuMs / theirs[i].cpuMs, 3)}\n`);
    }
    const mediaSeconds = opts.seconds * opts.channels;
    const sum = (rs: Run[]) => ({
      realTimeFactor: round(opts.seconds / (median(rs.map((r) => r.wallMs)) / 1000)),
      cpuSecPerMediaSec: round(median(rs.map((r) => r.cpuMs)) / 1000 / mediaSeconds, 3),
      runs: rs.map((r) => ({ wallS: round(r.wallMs / 1000), cpuS: round(r.cpuMs / 1000) })),
    });
    // Each pair ran back to back, so its ratio is the least disturbed by the VM's slow drifts.
    const pairRatios = ours.map((r, i) => round(r.cpuMs / theirs[i].cpuMs, 3));
    // --runs 0 measures the live case alone.
    const o = opts.runs > 0 ? sum(ours) : undefined, f = opts.runs > 0 ? sum(theirs) : undefined;
    let counted: Record<string, unknown> | undefined;
    if (opts.instructions > 0) {
      const clip = makeSource(dir, opts.instructions);
      counted = await instructionCounts(clip, ladder, join(dir, 'callgrind'));
    }
    report('transcode', {
      source: '1920x1080 30 fps, 6 Mb/s, 2 B-frames, keyframe every 2 s', seconds: opts.seconds, channels: opts.channels, preset: opts.preset,
      cpuAffinity: affinity(),
      rungs: ladder.rungs.map((r) => `${r.name} ${r.width}x${r.height} ${r.videoBitrate / 1000}k`),
      ours: o && { ...o, framesEncodedPerRung: encoded }, ffmpeg: f,
      cpuRatioOursToFfmpeg: o && f ? round(o.cpuSecPerMediaSec / f.cpuSecPerMediaSec, 3) : undefined,
      pairRatios: opts.runs > 0 ? { median: round(median(pairRatios), 3), oursNotMore: pairRatios.filter((x) => x <= 1).length, of: pairRatios.length, each: pairRatios } : undefined,
      instructions: counted,
      live: opts.live > 0 ? await live(file) : undefined,
    });
  } finally {
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** The CPUs this process may run on (taskset is inherited by both sides). */
function affinity(): string {
  return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 'unknown';
}

main().catch((e) => { console.error(e); process.exit(1); });
