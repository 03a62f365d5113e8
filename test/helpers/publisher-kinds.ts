/**
 * The kinds of publisher an origin meets (frame rates, GOPs, B-frames, audio or video only,
 * 44.1 kHz audio, keyframes at irregular times), each pre-encoded once into a short file and
 * then published in a loop with stream copy, so a test can run many publishers for the cost
 * of remuxing: `ffmpeg -re -stream_loop -1 -i FILE -c copy -f flv URL`.
 *
 * Files last 16 s: a whole number of AAC frames at 48 kHz (750) and of video frames at 15, 30
 * and 60 fps, so the loop is seamless (ffmpeg offsets each pass by the file's duration) and
 * nothing the origin sees at a loop point is an artefact of the rig (44.1 kHz: see aac()).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFfmpeg } from './ffmpeg.js';

/** One kind of publisher: how to encode its file. */
export interface PublisherKind {
  /** Usable as a channel id. */
  id: string;
  what: string;
  /** ffmpeg arguments from the inputs to the codecs (output file appended). */
  args: string[];
}

const LOOP_SEC = 16;

function video(size: string, fps: number): string[] {
  return ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${fps}`];
}

function audio(rate: number): string[] {
  return ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${rate}`];
}

/** x264 as a broadcaster's encoder sends it: fixed GOP, no scene-cut keyframes, no B-frames unless asked. */
function x264(gop: number, bitrate: string, extra: string[] = []): string[] {
  return ['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', String(gop), '-keyint_min', String(gop),
    '-sc_threshold', '0', '-b:v', bitrate, ...(extra.includes('-bf') ? [] : ['-tune', 'zerolatency']), ...extra];
}

/**
 * AAC cut to a whole number of frames (1024 samples) within the loop: at 44.1 kHz 16 s is not
 * one, and ffmpeg would offset each pass by the audio's longer end, so every 16 s the video
 * would jump 22 ms, a glitch of the rig that no encoder makes. Cut short, the video sets the
 * offset and the audio gets a 2-ms gap, as small as RTMP's own millisecond jitter.
 */
function aac(rate: number): string[] {
  const samples = Math.floor((rate * LOOP_SEC) / 1024) * 1024;
  return ['-af', `atrim=end_sample=${samples}`, '-c:a', 'aac', '-b:a', '96k', '-ar', String(rate), '-ac', '2'];
}

/**
 * Keyframes at irregular times, as scene-cut detection with a variable interval gives them
 * (intervals of 0.5 to 3 s within x264's -g 90 at 30 fps); forced, so every run is the same.
 */
const IRREGULAR_KEYFRAMES = [0, 0.7, 2.3, 2.9, 4.6, 7.6, 8.1, 9.0, 11.5, 12.1, 14.9];

/** The source of an ABR ladder channel: small, so the rungs' encoders stay cheap. */
export const LADDER_SOURCE: PublisherKind = {
  id: 'ladder-source', what: '640x360 30 fps, 1 s GOP, AAC 48 kHz', args: [...video('640x360', 30), ...audio(48000), ...x264(30, '600k'), ...aac(48000)],
};

/** The kinds every latency mode is tested with (issue 15). */
export const PUBLISHER_KINDS: readonly PublisherKind[] = [
  { id: 'v720p30-gop1s', what: '1280x720 30 fps, 1 s GOP, AAC 48 kHz', args: [...video('1280x720', 30), ...audio(48000), ...x264(30, '1000k'), ...aac(48000)] },
  { id: 'v1080p30-gop2s', what: '1920x1080 30 fps, 2 s GOP, AAC 48 kHz', args: [...video('1920x1080', 30), ...audio(48000), ...x264(60, '1500k'), ...aac(48000)] },
  { id: 'v720p60-bframes', what: '1280x720 60 fps, 1 s GOP, 2 B-frames, AAC 48 kHz', args: [...video('1280x720', 60), ...audio(48000), ...x264(60, '1200k', ['-bf', '2']), ...aac(48000)] },
  { id: 'audio-only', what: 'AAC 48 kHz, no video', args: [...audio(48000), ...aac(48000)] },
  { id: 'video-only', what: '640x360 30 fps, 1 s GOP, no audio', args: [...video('640x360', 30), ...x264(30, '500k')] },
  { id: 'aac-44k1', what: '640x360 30 fps, 1 s GOP, AAC 44.1 kHz', args: [...video('640x360', 30), ...audio(44100), ...x264(30, '500k'), ...aac(44100)] },
  { id: 'v15fps', what: '640x360 15 fps, 1 s GOP, AAC 48 kHz', args: [...video('640x360', 15), ...audio(48000), ...x264(15, '400k'), ...aac(48000)] },
  {
    id: 'irregular-gop', what: `640x360 30 fps, keyframes at ${IRREGULAR_KEYFRAMES.join(', ')} s of each 16 s (-g 90 -keyint_min 10), AAC 48 kHz`,
    args: [...video('640x360', 30), ...audio(48000),
      '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', '90', '-keyint_min', '10',
      '-sc_threshold', '0', '-force_key_frames', IRREGULAR_KEYFRAMES.join(','), '-b:v', '500k', ...aac(48000)],
  },
];

/** Where encoded files are kept between runs: the same arguments give the same file, so it is made once per machine. */
export const KIND_CACHE_DIR = join(tmpdir(), 'sigma-publisher-kinds');

/**
 * The kind's 16-s file, encoded into `dir` unless a file from the same arguments is already
 * there (named by their hash); resolves with its path.
 */
export async function encodeKind(kind: PublisherKind, dir = KIND_CACHE_DIR): Promise<string> {
  const args = [...kind.args, '-t', String(LOOP_SEC)];
  const file = join(dir, `${kind.id}-${createHash('sha256').update(args.join('\0')).digest('hex').slice(0, 12)}.mp4`);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  const partial = `${file}.${process.pid}.partial.mp4`;
  await runFfmpeg(['-hide_banner', '-loglevel', 'error', '-nostdin', ...args, '-y', partial]);
  renameSync(partial, file);
  return file;
}

/** Encodes every kind (see encodeKind), `parallel` ffmpeg processes at a time; resolves with id → file. */
export async function encodeKinds(kinds: readonly PublisherKind[], dir = KIND_CACHE_DIR, parallel = 2): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const queue = [...kinds];
  await Promise.all(Array.from({ length: parallel }, async () => {
    for (let k = queue.shift(); k; k = queue.shift()) files.set(k.id, await encodeKind(k, dir));
  }));
  return files;
}

/** Publishes a file in an endless loop at its own pace with stream copy. Stop it with stopPublisher (ffmpeg.ts). */
export function startLoopPublisher(file: string, url: string): ChildProcess {
  return spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', file, '-c', 'copy', '-f', 'flv', url],
    { stdio: ['ignore', 'ignore', 'ignore'] });
}
