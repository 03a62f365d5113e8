import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { burnedClockFilter } from './burned-clock.js';

export interface TestSourceOptions {
  width?: number;
  height?: number;
  fps?: number;
  /** Keyframe interval in frames. */
  gop?: number;
  videoBitrate?: string;
  /** Include an AAC audio track (sine). */
  audio?: boolean;
  /** AAC sample rate; default 48000 (OBS's default is 48 kHz, many phones and older setups send 44.1 kHz). */
  sampleRate?: number;
  /** Seconds of media; omit for endless (live publishing). */
  durationSec?: number;
  /** B-frames between references (OBS's x264 default is 2); 0 or absent: none (tune zerolatency). */
  bframes?: number;
  /** Read the source at its frame rate (-re), as a live encoder gets frames; default true. */
  realtime?: boolean;
  /** Burn the wall clock into each frame as a machine-readable strip (helpers/burned-clock.ts). */
  burnedClock?: boolean;
  /** A further video filter (after the burned clock), e.g. a black box over some seconds. */
  videoFilter?: string;
  /** Further encoder options, e.g. -force_key_frames. */
  encoderArgs?: string[];
}

/** ffmpeg arguments for an H.264 (+AAC) test pattern, as a broadcaster's encoder would send it. */
export function testSourceArgs(o: TestSourceOptions = {}): string[] {
  const w = o.width ?? 640, h = o.height ?? 360, fps = o.fps ?? 30, gop = o.gop ?? fps;
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
  if (o.realtime !== false) args.push('-re');
  args.push('-f', 'lavfi', '-i', `testsrc2=size=${w}x${h}:rate=${fps}`);
  const sampleRate = o.sampleRate ?? 48000;
  if (o.audio !== false) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${sampleRate}`);
  if (o.durationSec !== undefined) args.push('-t', String(o.durationSec));
  const filters = [o.burnedClock ? burnedClockFilter({ width: w, fps }) : null, o.videoFilter ?? null].filter((f) => f !== null);
  if (filters.length > 0) args.push('-vf', filters.join(','));
  args.push('-c:v', 'libx264', '-preset', 'veryfast', ...(o.bframes ? ['-bf', String(o.bframes)] : ['-tune', 'zerolatency']), '-pix_fmt', 'yuv420p',
    '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0', '-b:v', o.videoBitrate ?? '800k', ...(o.encoderArgs ?? []));
  if (o.audio !== false) args.push('-c:a', 'aac', '-b:a', '96k', '-ar', String(sampleRate), '-ac', '2');
  return args;
}

/** Writes a test file (format from the extension, e.g. .mp4 or .flv) and resolves when ffmpeg exits 0. */
export async function makeTestFile(path: string, o: TestSourceOptions & { durationSec: number }): Promise<void> {
  await runFfmpeg([...testSourceArgs({ ...o, realtime: false }), '-y', path]);
}

/** Runs ffmpeg to completion; rejects with its stderr when it exits non-zero. */
export async function runFfmpeg(args: string[]): Promise<void> {
  const p = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (d) => { err += d; });
  const [code] = await once(p, 'exit');
  if (code !== 0) throw new Error(`ffmpeg exited ${code}: ${err}`);
}

/** Starts ffmpeg publishing a live test pattern to an RTMP URL. Kill it with stopPublisher. */
export function startPublisher(url: string, o: TestSourceOptions & { format?: 'flv' | 'mpegts' } = {}): ChildProcess & { stderrText: () => string } {
  const args = [...testSourceArgs(o), '-f', o.format ?? 'flv', url];
  const p = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] }) as ChildProcess & { stderrText: () => string };
  let err = '';
  p.stderr!.on('data', (d) => { err += d; });
  p.stderrText = () => err;
  return p;
}

/**
 * ffmpeg publishing over SRT (MPEG-TS, caller mode) as OBS does: the streamid names the key,
 * `latencyMs` is the caller's SRTO_LATENCY, `passphrase` encrypts. Kill it with stopPublisher.
 */
export function startSrtPublisher(o: { port: number; host?: string; streamId: string; latencyMs?: number; passphrase?: string } & TestSourceOptions):
  ChildProcess & { stderrText: () => string } {
  const q = [`streamid=${encodeURIComponent(o.streamId)}`, `latency=${(o.latencyMs ?? 120) * 1000}`];
  if (o.passphrase) q.push(`passphrase=${encodeURIComponent(o.passphrase)}`, 'pbkeylen=16');
  return startPublisher(`srt://${o.host ?? '127.0.0.1'}:${o.port}?${q.join('&')}`, { ...o, format: 'mpegts' });
}

/** One encoder, two RTMP outputs; a failing output is dropped without stopping the other. */
export function startTeePublisher(urls: string[], o: TestSourceOptions = {}): ChildProcess {
  const outputs = urls.map((u) => `[f=flv:onfail=ignore]${u}`).join('|');
  // The tee muxer does not ask encoders for global headers as flv alone does: without them
  // there is no avcC / AudioSpecificConfig to send.
  const args = [...testSourceArgs(o), '-flags:v', '+global_header', '-flags:a', '+global_header', '-map', '0:v', '-map', '1:a', '-f', 'tee', outputs];
  return spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Stops a publisher and waits for it to exit; resolves with its exit code (null when killed). */
export async function stopPublisher(p: ChildProcess): Promise<number | null> {
  if (p.exitCode !== null || p.signalCode !== null) return p.exitCode;
  p.kill('SIGINT');
  const timer = setTimeout(() => p.kill('SIGKILL'), 3000);
  const [code] = await once(p, 'exit');
  clearTimeout(timer);
  return code as number | null;
}
