/**
 * CPU cost of thumbnails per channel: the origin process's CPU for one remux channel with
 * thumbnails and previews on (defaults: a thumbnail every 10 s, a preview tile every 2 s) and
 * off, for 720p30 and 1080p30 sources, alternating off/on runs so machine noise hits both.
 *
 *   node dist/bench/thumbnails.js [--duration 60] [--runs 3] [--settle 10] [--gop 60] [--sizes 1280x720,1920x1080]
 *
 * The source is made once per size with ffmpeg (testsrc2, libx264 veryfast, CBR 3 / 6 Mb/s,
 * keyframe every --gop frames) and published with `-re -stream_loop -1 -c copy`, so the
 * publisher costs next to no CPU. The origin is `node dist/src/main.js` in its own process;
 * CPU is the delta of utime+stime from /proc/<pid>/stat as % of one core, and the
 * thumbnailer's own thread ("sigma-thumbs") is read from /proc/<pid>/task.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { CLK_TCK, flags, machine, median, procSample, report, round, sleep, startOriginProcess, stopProcess, threadTicks, tmpDir, waitFor200 } from './common.js';

const opts = flags({ duration: 60, runs: 3, settle: 10, gop: 60, sizes: '1280x720,1920x1080' });

const BITRATE: Record<string, string> = { '1280x720': '3M', '1920x1080': '6M' };

async function ffmpeg(args: string[]): Promise<void> {
  const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => { err += d; });
  const [code] = await once(p, 'exit');
  if (code !== 0) throw new Error(`ffmpeg exited ${code}: ${err}`);
}

/** 60 s of 30 fps H.264 + AAC at the size's bitrate, as a file to loop. */
async function makeSource(dir: string, size: string): Promise<string> {
  const file = join(dir, `src-${size}.flv`);
  const br = BITRATE[size] ?? '4M';
  await ffmpeg(['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '60',
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', String(opts.gop), '-keyint_min', String(opts.gop), '-sc_threshold', '0',
    '-b:v', br, '-maxrate', br, '-bufsize', br, '-c:a', 'aac', '-b:a', '96k', '-y', file]);
  return file;
}

interface Run { size: string; thumbnails: boolean; cpuPct: number; thumbThreadPct: number; rssMiB: number }

async function measure(file: string, size: string, thumbnails: boolean): Promise<Run> {
  const origin = await startOriginProcess({
    http2: { enabled: false },
    thumbnails: { enabled: thumbnails },
    channels: [{ id: 'th', streamKey: 'bench-thumbnails-key', latencyMode: 'ultra-low' }],
  });
  const pub = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', file, '-c', 'copy', '-f', 'flv',
    `rtmp://127.0.0.1:${origin.ports.rtmp}/live/bench-thumbnails-key`], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    await waitFor200(`${origin.http}/live/th/source.m3u8`, 30000, 'the stream');
    if (thumbnails) await waitFor200(`${origin.http}/live/th/thumbnail.jpg`, 30000, 'the first thumbnail');
    await sleep(opts.settle * 1000);
    const a = procSample(origin.pid), ta = threadTicks(origin.pid);
    await sleep(opts.duration * 1000);
    if (pub.exitCode !== null) throw new Error('publisher exited early');
    const b = procSample(origin.pid), tb = threadTicks(origin.pid);
    const wall = (b.t - a.t) / 1000;
    const thumbTicks = (tb.get('sigma-thumbs') ?? 0) - (ta.get('sigma-thumbs') ?? 0);
    const run: Run = {
      size, thumbnails, cpuPct: round(((b.ticks - a.ticks) / CLK_TCK / wall) * 100, 2),
      thumbThreadPct: round((thumbTicks / CLK_TCK / wall) * 100, 2), rssMiB: round(b.rssBytes / 2 ** 20, 1),
    };
    process.stderr.write(`[thumbnails] ${size} thumbnails ${thumbnails ? 'on ' : 'off'}: origin ${run.cpuPct}% of a core, thumbnailer thread ${run.thumbThreadPct}%, RSS ${run.rssMiB} MiB\n`);
    return run;
  } finally {
    await stopProcess(pub);
    await origin.stop();
  }
}

async function main(): Promise<void> {
  const dir = tmpDir('thumbnails');
  const runs: Run[] = [];
  for (const size of opts.sizes.split(',')) {
    const file = await makeSource(dir, size);
    for (let i = 0; i < opts.runs; i++) {
      for (const on of [false, true]) {
        runs.push(await measure(file, size, on));
        await sleep(2000);
      }
    }
  }
  const summary = opts.sizes.split(',').map((size) => {
    const of = (on: boolean) => runs.filter((r) => r.size === size && r.thumbnails === on);
    const off = median(of(false).map((r) => r.cpuPct)), on = median(of(true).map((r) => r.cpuPct));
    return {
      size, cpuPctOff: round(off, 2), cpuPctOn: round(on, 2), costPct: round(on - off, 2),
      thumbThreadPct: round(median(of(true).map((r) => r.thumbThreadPct)), 2),
      rssMiBOff: round(median(of(false).map((r) => r.rssMiB)), 1), rssMiBOn: round(median(of(true).map((r) => r.rssMiB)), 1),
    };
  });
  report('thumbnails', { params: { ...opts }, summary, runs });
  for (const s of summary) {
    process.stdout.write(`thumbnails ${s.size}: origin CPU off ${s.cpuPctOff}% → on ${s.cpuPctOn}% of a core (cost ${s.costPct}%; ` +
      `thumbnailer thread ${s.thumbThreadPct}%), RSS ${s.rssMiBOff} → ${s.rssMiBOn} MiB; medians of ${opts.runs} × ${opts.duration} s [${machine().cpu}]\n`);
  }
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`thumbnails failed: ${e.stack ?? e}\n`); process.exit(1); });
