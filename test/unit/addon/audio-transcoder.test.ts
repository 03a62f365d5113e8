/**
 * The native Opus→AAC transcoder with real Opus from ffmpeg (libopus, Ogg, 20-ms packets, pts
 * counted as RTP would): the AAC it gives is checked the way a player would hear it (the frames
 * wrapped as ADTS and decoded back by ffmpeg: length, level, pitch), and its timeline through
 * loss, jumps, repeats and garbage; then options, close and the door.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runFfmpeg } from '../../helpers/ffmpeg.js';
import { readOggOpus, type OpusPacket } from '../../helpers/ogg-opus.js';
import { parseAsc, toAdts } from '../../helpers/adts.js';
import { OpusToAac, type AudioTranscodeError, type OpusToAacOptions, type OpusToAacStats } from '../../../src/addon/audio-transcoder.js';

const execFileP = promisify(execFile);
const RATE = 48000;
const SECONDS = 3;

let dir: string;
let mono: OpusPacket[];
let stereo: OpusPacket[];
t.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sigma-opus-'));
  const opus = async (name: string, source: string, channels: number) => {
    const path = join(dir, name);
    await runFfmpeg(['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'lavfi', '-i', source, '-t', String(SECONDS),
      '-ac', String(channels), '-c:a', 'libopus', '-b:a', '64k', '-frame_duration', '20', '-f', 'ogg', '-y', path]);
    return readOggOpus(path);
  };
  // lavfi's sine is at 1/8 of full scale; the stereo source has 440 Hz left, 880 Hz right.
  mono = await opus('mono.opus', `sine=frequency=440:sample_rate=${RATE}`, 1);
  stereo = await opus('stereo.opus', `aevalsrc=0.25*sin(440*2*PI*t)|0.25*sin(880*2*PI*t):s=${RATE}`, 2);
});
t.teardown(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

interface Run {
  config?: { asc: Buffer; sampleRate: number; channels: number };
  configBeforeFrames: boolean;
  frames: Array<{ data: Buffer; pts: number }>;
  errors: AudioTranscodeError[];
  accepted: boolean[];
  done: boolean;
  stats: OpusToAacStats;
}

/** Pushes every packet at once, closes, and collects the events. */
async function run(opts: OpusToAacOptions, inputs: Array<{ data: Buffer; pts: number }>): Promise<Run> {
  const r: Run = { configBeforeFrames: false, frames: [], errors: [], accepted: [], done: false, stats: undefined! };
  const tr = new OpusToAac(opts, (ev) => {
    if (ev.kind === 'config') { r.config = ev; r.configBeforeFrames = r.frames.length === 0; }
    else if (ev.kind === 'frame') r.frames.push(ev);
    else if (ev.kind === 'error') r.errors.push(ev.error);
    else r.done = true;
  });
  for (const p of inputs) r.accepted.push(tr.push(p.data, p.pts));
  await tr.close();
  r.stats = tr.stats();
  return r;
}

/** The frames decoded back by ffmpeg from ADTS: one Float32Array per channel. */
async function decode(r: Run, name: string): Promise<Float32Array[]> {
  const path = join(dir, `${name}.aac`);
  writeFileSync(path, toAdts(r.config!.asc, r.frames.map((f) => f.data)));
  const { stdout } = await execFileP('ffmpeg', ['-v', 'error', '-nostdin', '-f', 'aac', '-i', path, '-f', 'f32le', '-'],
    { encoding: 'buffer', maxBuffer: 64 << 20 });
  const all = new Float32Array(stdout.buffer, stdout.byteOffset, stdout.length / 4);
  const n = r.config!.channels;
  return Array.from({ length: n }, (_, c) => all.filter((_, i) => i % n === c));
}

/** RMS over samples [from, to). */
function rms(x: Float32Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / Math.max(1, to - from));
}

/** Pitch by upward zero crossings over samples [from, to), Hz. */
function pitch(x: Float32Array, from: number, to: number): number {
  let n = 0;
  for (let i = from + 1; i < to; i++) if (x[i - 1] < 0 && x[i] >= 0) n++;
  return (n * RATE) / (to - from);
}

/** Indices i where frames[i].pts is not frames[i-1].pts + 1024. */
const breaks = (r: Run) => r.frames.flatMap((f, i) => (i > 0 && f.pts !== r.frames[i - 1].pts + 1024 ? [i] : []));
const expectedFrames = (packets: OpusPacket[]) => Math.ceil(packets.reduce((s, p) => s + p.samples, 0) / 1024);

t.test('mono Opus becomes stereo AAC-LC at 48 kHz: ASC, frame count, continuous pts, and ffmpeg decodes a 440 Hz tone of 3 s', async (t) => {
  t.ok(mono.length >= SECONDS * 50 && mono.every((p) => p.samples === 960), `${mono.length} packets of 20 ms from libopus`);
  const r = await run({ inputChannels: 1 }, mono);
  t.ok(r.accepted.every(Boolean), 'every packet accepted');
  t.same(r.errors, [], 'no errors');
  t.ok(r.done, "'done' delivered");
  t.ok(r.config && r.configBeforeFrames, "'config' came once, before the first frame");
  t.same([r.config?.sampleRate, r.config?.channels], [RATE, 2], 'config: 48 kHz, 2 channels (the default)');
  const asc = parseAsc(r.config!.asc);
  t.same([asc.objectType, asc.sampleRate, asc.channelConfig], [2, RATE, 2], `ASC ${r.config!.asc.toString('hex')}: AAC-LC, 48 kHz, stereo`);
  const want = (SECONDS * RATE) / 1024;
  t.ok(Math.abs(r.frames.length - want) <= 2, `${r.frames.length} frames for ${SECONDS} s (≈ ${want.toFixed(1)})`);
  t.equal(r.frames.length, expectedFrames(mono), 'exactly the input samples, the last frame padded');
  t.equal(r.frames[0].pts, 0, 'the first frame has the first packet\'s pts');
  t.same(breaks(r), [], 'pts strictly increasing by 1024');
  t.ok(r.frames.every((f) => f.data.length > 0 && !(f.data[0] === 0xff && (f.data[1] & 0xf0) === 0xf0)), 'raw AAC frames (no ADTS)');
  t.same(r.stats, { queued: 0, packetsIn: mono.length, framesOut: r.frames.length, decodeErrors: 0, dropped: 0, silenceSamples: 0 }, 'stats');

  const [left, right] = await decode(r, 'mono');
  t.ok(Math.abs(left.length / RATE - SECONDS) < 0.1, `decodes to ${(left.length / RATE).toFixed(3)} s`);
  const a = RATE / 2, b = 5 * RATE / 2;
  // 1/8 full scale: RMS 0.088; swresample's default upmix (-3 dB) would give 0.0625.
  for (const [name, ch] of [['left', left], ['right', right]] as const) {
    t.ok(Math.abs(rms(ch, a, b) - 0.0884) < 0.01, `${name}: RMS ${rms(ch, a, b).toFixed(4)} (the mono level, upmixed at unity)`);
    t.ok(Math.abs(pitch(ch, a, b) - 440) < 3, `${name}: ${pitch(ch, a, b).toFixed(1)} Hz`);
  }
});

t.test('200 ms of lost packets: silence fills the gap, pts stay continuous', async (t) => {
  const input = mono.filter((_, i) => i < 50 || i >= 60);
  const r = await run({ inputChannels: 1 }, input);
  t.same(breaks(r), [], 'pts strictly increasing by 1024 across the gap');
  t.equal(r.stats.silenceSamples, 9600, 'silenceSamples = 10 packets of 960');
  t.equal(r.frames.length, expectedFrames(mono), 'as many frames as without the loss');
  const [left] = await decode(r, 'gap');
  const gapFrom = mono[50].pts, gapTo = mono[60].pts;
  // The AAC transform overlaps a frame on each side; the middle of the gap is digital silence.
  t.ok(rms(left, gapFrom + 1100, gapTo - 1100) < 0.002, `the gap is silent (RMS ${rms(left, gapFrom + 1100, gapTo - 1100).toFixed(5)})`);
  t.ok(rms(left, gapTo + 2048, gapTo + 2048 + RATE / 2) > 0.07, 'the tone is back after it');
});

t.test('a jump of 5 s or back by 1 s restarts the timeline; a repeated packet is trimmed, not appended', async (t) => {
  const shifted = (by: number) => mono.map((p, i) => (i < 100 ? p : { ...p, pts: p.pts + by }));
  for (const [what, by] of [['ahead 5 s', 5 * RATE], ['back 1 s', -RATE]] as const) {
    const r = await run({ inputChannels: 1 }, shifted(by));
    const b = breaks(r);
    t.equal(b.length, 1, `${what}: one discontinuity`);
    t.equal(r.frames[b[0]]?.pts, mono[100].pts + by, `${what}: the new timeline starts at the new pts`);
    t.equal(r.frames[b[0] - 1]?.pts, Math.floor((mono[100].pts - 1) / 1024) * 1024, `${what}: the old one ends with its partial frame, padded`);
    t.equal(r.stats.silenceSamples, 0, `${what}: no gap filled`);
    t.same(breaks({ ...r, frames: r.frames.slice(b[0]) }), [], `${what}: continuous after it`);
  }
  const repeated = [...mono.slice(0, 42), mono[40], ...mono.slice(42)];
  const r = await run({ inputChannels: 1 }, repeated);
  t.same(breaks(r), [], 'repeat: continuous');
  t.equal(r.frames.length, expectedFrames(mono), 'repeat: its samples are already on the timeline');
});

t.test('undecodable packets: error events (rate-limited), counted, their span silent, the stream goes on', async (t) => {
  const bad = new Map([[30, Buffer.from([0xff, 0x00])], [31, Buffer.from([0x79, 1, 2, 3])], [70, Buffer.from([0xff, 0x00])]]);
  const r = await run({ inputChannels: 1 }, mono.map((p, i) => ({ data: bad.get(i) ?? p.data, pts: p.pts })));
  t.equal(r.stats.decodeErrors, 3, 'three packets refused');
  t.ok(r.errors.length >= 1 && r.errors.length <= 3, `${r.errors.length} error event(s)`);
  t.equal(r.errors[0]?.code, 'ERR_AUDIO_DECODE', `code, message: ${r.errors[0]?.message}`);
  t.equal(r.errors[0]?.pts, mono[30].pts, 'the packet\'s pts');
  t.equal(r.stats.silenceSamples, 3 * 960, 'their spans filled with silence');
  t.same(breaks(r), [], 'pts continuous');
  t.equal(r.frames.length, expectedFrames(mono), 'the stream goes on to the end');
});

t.test('stereo Opus stays stereo (440 Hz left, 880 Hz right); mono output from stereo input', async (t) => {
  const r = await run({ inputChannels: 2, outputChannels: 2, bitrate: 96000 }, stereo);
  t.same(r.errors, [], 'no errors');
  t.same(breaks(r), [], 'continuous');
  const [left, right] = await decode(r, 'stereo');
  const a = RATE / 2, b = 5 * RATE / 2;
  t.ok(Math.abs(pitch(left, a, b) - 440) < 3 && Math.abs(pitch(right, a, b) - 880) < 3,
    `left ${pitch(left, a, b).toFixed(1)} Hz, right ${pitch(right, a, b).toFixed(1)} Hz`);
  t.ok(rms(left, a, b) > 0.15 && rms(right, a, b) > 0.15, 'both at their level (0.177)');

  const m = await run({ inputChannels: 2, outputChannels: 1 }, stereo);
  t.same([m.config?.channels, parseAsc(m.config!.asc).channelConfig], [1, 1], 'outputChannels 1: a mono ASC');
  const [only] = await decode(m, 'downmix');
  // Half of each: two uncorrelated tones of RMS 0.177 give 0.125 (L = R would keep its level).
  t.ok(Math.abs(rms(only, a, b) - 0.125) < 0.01, `the mono downmix is (L + R) / 2 (RMS ${rms(only, a, b).toFixed(3)})`);
});

t.test('bad options: the constructor throws ERR_NATIVE_CONFIG naming the option', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ inputChannels: 3 }, /inputChannels out of range \(1\.\.2\)/],
    [{ outputChannels: 0 }, /outputChannels out of range \(1\.\.2\)/],
    [{ outputChannels: 1.5 }, /outputChannels must be an integer/],
    [{ bitrate: 1000 }, /bitrate out of range \(16000\.\.320000\)/],
    [{ bitrate: '128k' }, /bitrate must be a number/],
    [{ maxQueue: 0 }, /maxQueue out of range/],
    [null, /expected \(options, onEvent\)/],
  ];
  for (const [opts, message] of cases)
    t.throws(() => new OpusToAac(opts as OpusToAacOptions, () => undefined), { code: 'ERR_NATIVE_CONFIG', message }, JSON.stringify(opts));
});

t.test('the door and close', async (t) => {
  let done = 0;
  const tr = new OpusToAac({ maxQueue: 1 }, (ev) => { if (ev.kind === 'done') done++; });
  const refused = [
    tr.push(Buffer.alloc(0), 0), tr.push(mono[0].data, -960), tr.push(mono[0].data, 0.5), tr.push(mono[0].data, NaN),
    tr.push(Buffer.alloc(70_000, 1), 0), tr.push('x' as unknown as Buffer, 0),
  ];
  t.same(refused, [false, false, false, false, false, false], 'bad arguments refused');
  const accepted = mono.map((p) => tr.push(p.data, p.pts));
  t.ok(accepted.includes(false), `maxQueue 1: ${accepted.filter((a) => !a).length} of ${accepted.length} refused while the worker was busy`);
  const closing = tr.close();
  t.equal(tr.close(), closing, 'close() is idempotent');
  await closing;
  t.equal(done, 1, "'done' once");
  t.equal(tr.push(mono[0].data, 0), false, 'push after close: false');
  const s = tr.stats();
  t.equal(s.dropped, refused.length + accepted.filter((a) => !a).length + 1, 'every refusal counted as dropped');
  t.equal(s.packetsIn, accepted.filter(Boolean).length, 'packetsIn: the accepted ones');
});

t.test('a handler that throws gets the error back as ERR_AUDIO_HANDLER; the frames after it still come', async (t) => {
  const errors: AudioTranscodeError[] = [];
  let frames = 0;
  const tr = new OpusToAac({}, (ev) => {
    if (ev.kind === 'frame' && ++frames === 1) throw new Error('handler bug');
    if (ev.kind === 'error') errors.push(ev.error);
  });
  for (const p of mono) tr.push(p.data, p.pts);
  await tr.close();
  t.same(errors.map((e) => [e.code, e.message]), [['ERR_AUDIO_HANDLER', 'handler bug']], 'one ERR_AUDIO_HANDLER');
  t.equal(frames, expectedFrames(mono), 'every frame delivered');
  t.equal(tr.stats().framesOut, frames, 'framesOut');
});
