/**
 * The native slate encoder: a still picture (raw I420, a PNG, a JPEG, the built-in card) and
 * AAC silence become a loop of access units shaped as RTMP ingest delivers them. Checked as a
 * consumer would: avcC/ASC, keyframes, timestamps, the loop repeated three times through a real
 * CmafPipeline, and ffmpeg/ffprobe decoding the result back to the expected colours. Then the
 * refusals, each with its code.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { encodeSlate, type SlateClip, type SlateRequest } from '../../../src/addon/slate-encoder.js';
import { slateCard, slateCardLayout, SLATE_CARD_TEXT_Y } from '../../../src/media/slate/slate-card.js';
import { avcCodecString, aacCodecString } from '../../../src/media/codec-string.js';
import { runFfmpeg } from '../../helpers/ffmpeg.js';
import { parseCmaf, runPipeline } from './fixtures.js';
import type { AccessUnit, AudioTrackInfo, VideoTrackInfo } from '../../../src/media/types.js';

/** >1 when run under valgrind (scripts/valgrind-addon.sh): wall-clock bounds scale by it. */
const SLOW = Number(process.env.SIGMA_SLOW_FACTOR ?? 1) || 1;

let dir: string;
t.before(() => { dir = mkdtempSync(join(tmpdir(), 'sigma-slate-')); });
t.teardown(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

// ---- helpers --------------------------------------------------------------------------------

/** A flat I420 picture of one RGB colour (BT.601, limited range: what the SPS declares). */
function i420Of(width: number, height: number, [r, g, b]: [number, number, number]): Buffer {
  const y = Math.round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255);
  const u = Math.round(128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255);
  const v = Math.round(128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255);
  const buf = Buffer.alloc((width * height * 3) / 2);
  buf.fill(y, 0, width * height);
  buf.fill(u, width * height, (width * height * 5) / 4);
  buf.fill(v, (width * height * 5) / 4);
  return buf;
}

/** SPS and PPS of an avcC, checked field by field (ISO/IEC 14496-15 §5.3.3.1). */
function parseAvcC(c: Buffer): { sps: Buffer; pps: Buffer; profile: number; lengthSize: number } {
  if (c[0] !== 1) throw new Error('configurationVersion is not 1');
  const lengthSize = (c[4] & 3) + 1;
  if ((c[5] & 0x1f) !== 1) throw new Error('expected one SPS');
  const spsLen = c.readUInt16BE(6);
  const sps = c.subarray(8, 8 + spsLen);
  let off = 8 + spsLen;
  if (c[off] !== 1) throw new Error('expected one PPS');
  const ppsLen = c.readUInt16BE(off + 1);
  const pps = c.subarray(off + 3, off + 3 + ppsLen);
  off += 3 + ppsLen;
  if (off > c.length || (sps[0] & 0x1f) !== 7 || (pps[0] & 0x1f) !== 8) throw new Error('malformed avcC');
  return { sps, pps, profile: c[1], lengthSize };
}

/** NAL unit types of an AVCC access unit; throws when the 4-byte lengths do not tile it exactly. */
function nalTypes(au: Buffer): number[] {
  const types: number[] = [];
  for (let off = 0; off < au.length;) {
    if (off + 4 > au.length) throw new Error('truncated length');
    const len = au.readUInt32BE(off);
    if (len === 0 || off + 4 + len > au.length) throw new Error('bad NAL length');
    types.push(au[off + 4] & 0x1f);
    off += 4 + len;
  }
  return types;
}

/** The clip's video as an Annex B elementary stream (SPS/PPS first), for ffmpeg. */
function annexB(clip: SlateClip, units: AccessUnit[] = clip.units): Buffer {
  const video = clip.tracks.find((x): x is VideoTrackInfo => x.kind === 'video')!;
  const { sps, pps } = parseAvcC(video.codecConfig);
  const sc = Buffer.from([0, 0, 0, 1]);
  const out: Buffer[] = [sc, sps, sc, pps];
  for (const u of units.filter((x) => x.trackId === 0)) {
    for (let off = 0; off < u.data.length;) {
      const len = u.data.readUInt32BE(off);
      out.push(sc, u.data.subarray(off + 4, off + 4 + len));
      off += 4 + len;
    }
  }
  return Buffer.concat(out);
}

/** Runs ffmpeg/ffprobe and returns stdout. */
async function run(cmd: string, args: string[], input?: Buffer): Promise<Buffer> {
  const p = spawn(cmd, args, { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  p.stdout!.on('data', (d: Buffer) => out.push(d));
  p.stderr!.on('data', (d) => { err += d; });
  if (input) p.stdin!.end(input);
  const [code] = await once(p, 'exit');
  if (code !== 0) throw new Error(`${cmd} exited ${code}: ${err}`);
  return Buffer.concat(out);
}

/** Decodes video (a file, or Annex B bytes on stdin) to rgb24 frames of w x h. */
async function decodeRgb(input: string | Buffer, w: number, h: number, maxFrames?: number): Promise<Buffer[]> {
  const src = typeof input === 'string' ? ['-i', input] : ['-f', 'h264', '-i', '-'];
  const raw = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', ...src,
    ...(maxFrames ? ['-frames:v', String(maxFrames)] : []), '-vf', `scale=${w}:${h}:flags=area`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
  typeof input === 'string' ? undefined : input);
  const size = w * h * 3;
  const frames: Buffer[] = [];
  for (let off = 0; off + size <= raw.length; off += size) frames.push(raw.subarray(off, off + size));
  return frames;
}

const pixel = (f: Buffer, w: number, x: number, y: number): [number, number, number] => {
  const o = (y * w + x) * 3;
  return [f[o], f[o + 1], f[o + 2]];
};
const near = (a: [number, number, number], b: [number, number, number], tol = 16) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

/** The clip repeated `times`, repetition r offset by r × durationMs (what the switching side does). */
function loop(clip: SlateClip, times: number): AccessUnit[] {
  const out: AccessUnit[] = [];
  for (let r = 0; r < times; r++) {
    for (const u of clip.units) out.push({ ...u, dts: u.dts + r * clip.durationMs, pts: u.pts + r * clip.durationMs });
  }
  return out;
}

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

// ---- the clip -------------------------------------------------------------------------------

const RED: [number, number, number] = [200, 30, 40];
const BASE: SlateRequest = {
  video: { width: 640, height: 360, frameRate: 30, picture: i420Of(640, 360, RED), gopFrames: 30 },
  audio: { sampleRate: 48000, channels: 2 },
  durationMs: 2000,
};

t.test('an I420 picture and AAC silence become a repeatable loop shaped like RTMP ingest', async (t) => {
  const clip = await encodeSlate(BASE);
  const video = clip.tracks.find((x): x is VideoTrackInfo => x.kind === 'video')!;
  const audio = clip.tracks.find((x): x is AudioTrackInfo => x.kind === 'audio')!;
  t.same(clip.tracks.map((x) => [x.kind, x.id, x.codec, x.timescale]), [['video', 0, 'h264', 1000], ['audio', 1, 'aac', 1000]], 'video id 0 h264, audio id 1 aac, timescale 1000');
  t.same([video.width, video.height, video.frameRate], [640, 360, 30], 'video size and rate as asked');
  const avcC = parseAvcC(video.codecConfig);
  t.equal(avcC.lengthSize, 4, 'avcC: 4-byte NAL lengths');
  t.equal(avcC.profile, 77, 'main profile');
  t.match(avcCodecString(video.codecConfig), /^avc1\.4d/, 'codec string avc1.4d…');
  t.equal(aacCodecString(audio.codecConfig), 'mp4a.40.2', 'AAC-LC');
  t.equal(audio.codecConfig[0] & 0x07, 1, 'ASC sampling index 3 (48 kHz), high bit');
  t.equal(audio.codecConfig[1] >> 7, 1, 'ASC sampling index 3 (48 kHz), low bit');
  t.equal((audio.codecConfig[1] >> 3) & 0x0f, 2, 'ASC channel configuration 2');
  t.same([audio.sampleRate, audio.channels], [48000, 2], 'audio rate and channels as asked');

  const v = clip.units.filter((u) => u.trackId === 0);
  const a = clip.units.filter((u) => u.trackId === 1);
  // 30 fps and 48 kHz end together every 16 frames (533.3 ms): 2000 asked, 64 frames = 2133 ms made.
  t.equal(v.length, 64, '64 video frames');
  t.equal(clip.durationMs, 2133, 'durationMs 2133: the length nearest 2000 that fits whole video and AAC frames');
  t.equal(clip.durationMs, Math.round((v.length * 1000) / 30), 'durationMs is exactly the video length');
  t.equal(a.length, 100, '100 AAC frames (2133.3 ms)');
  t.ok(Math.abs(a.length - (clip.durationMs * 48000) / 1024 / 1000) < 0.5 / 21.33 + 1e-9, 'AAC frames fill the loop within 0.5 ms');
  t.same(clip.units[0].trackId, 0, 'the first unit is video');
  t.ok(clip.units[0].keyframe, 'the first unit is a keyframe');
  t.same(v.map((u, i) => u.keyframe ? i : -1).filter((i) => i >= 0), [0, 30, 60], 'keyframes every gopFrames (30)');
  t.ok(v.every((u, i) => u.dts === Math.round((i * 1000) / 30)), 'video dts = round(i × 1000/30)');
  t.ok(clip.units.every((u) => u.dts === u.pts), 'dts == pts everywhere');
  t.ok(a.every((u, i) => u.dts === Math.round((i * 1024 * 1000) / 48000)), 'audio dts = round(i × 1024/48 kHz) ms');
  t.ok(clip.units.every((u, i) => i === 0 || u.dts >= clip.units[i - 1].dts), 'units in dts order');
  t.ok(v.at(-1)!.dts < clip.durationMs && a.at(-1)!.dts < clip.durationMs, 'both tracks within [0, durationMs)');
  t.ok(v.every((u) => u.keyframe ? nalTypes(u.data).includes(5) : nalTypes(u.data).includes(1)), 'AVCC framing; keyframes hold an IDR slice, the rest non-IDR slices');
  t.ok(v.every((u) => !nalTypes(u.data).some((n) => n === 7 || n === 8)), 'no SPS/PPS in band (they are in the avcC)');
  const pSizes = v.filter((u) => !u.keyframe).map((u) => u.data.length);
  t.ok(Math.max(...pSizes) < 200, `P-frames are tiny (largest ${Math.max(...pSizes)} bytes); IDR ${v[0].data.length} bytes`);
  t.ok(a.every((u) => u.keyframe && u.data.length > 0 && !(u.data[0] === 0xff && (u.data[1] & 0xf0) === 0xf0)), 'audio: raw AAC frames (no ADTS), all keyframes');

  // Repeated: every gap of each track stays within 1 ms of its frame duration, boundaries included.
  const looped = loop(clip, 3);
  const gaps = (id: number) => looped.filter((u) => u.trackId === id).map((u, i, all) => (i === 0 ? NaN : u.dts - all[i - 1].dts)).slice(1);
  t.ok(gaps(0).every((g) => g === 33 || g === 34), 'looped video: every gap 33 or 34 ms');
  t.ok(gaps(1).every((g) => Math.abs(g - 1024000 / 48000) <= 1), 'looped audio: every gap within 1 ms of 21.33 ms');
});

t.test('the loop, repeated three times, goes through a real CmafPipeline and decodes to the picture', async (t) => {
  const clip = await encodeSlate(BASE);
  const aus = loop(clip, 3);
  const r = await runPipeline(clip.tracks, aus);
  t.same(r.errors, [], 'no pipeline error');
  t.equal(r.stats.dropped, 0, 'nothing dropped');
  t.equal(r.stats.written, aus.length, 'every AU written');
  t.ok(r.init, 'init segment');
  t.ok(r.parts.length >= 30, `${r.parts.length} parts`);
  t.ok(r.parts.slice(0, -1).every((p, i) => p.startMs + p.durationMs === r.parts[i + 1].startMs), 'parts tile the timeline');
  const end = r.parts.at(-1)!.startMs + r.parts.at(-1)!.durationMs;
  t.ok(Math.abs(end - 3 * clip.durationMs) <= 1, `the parts cover the three loops (end ${end} ms)`);
  // Keyframes at 0, 1000, 2000 ms of each 2133 ms loop: the first on or after each 2 s boundary
  // starts a segment.
  const segStarts = r.parts.filter((p) => p.segmentStart).map((p) => p.startMs);
  t.same(segStarts, [0, 2000, 4133, 6266], 'segments start at the first keyframe on or after each 2 s boundary');
  const parsed = parseCmaf(r.init!, r.parts.map((p) => p.data));
  t.same([...parsed.tracks.values()].map((x) => x.kind).sort(), ['soun', 'vide'], 'video and audio tracks');

  const file = join(dir, 'looped.mp4');
  writeFileSync(file, Buffer.concat([r.init!, ...r.parts.map((p) => p.data)]));
  const probe = JSON.parse((await run('ffprobe', ['-v', 'error', '-count_frames', '-show_entries',
    'stream=codec_type,codec_name,profile,width,height,nb_read_frames,sample_rate,channels', '-of', 'json', file])).toString()) as
    { streams: Array<{ codec_type: string; codec_name: string; profile?: string; width?: number; height?: number; nb_read_frames: string; sample_rate?: string; channels?: number }> };
  const pv = probe.streams.find((s) => s.codec_type === 'video')!;
  const pa = probe.streams.find((s) => s.codec_type === 'audio')!;
  t.same([pv.codec_name, pv.profile, pv.width, pv.height], ['h264', 'Main', 640, 360], 'ffprobe: h264 Main 640x360');
  t.equal(Number(pv.nb_read_frames), 3 * 64, 'ffprobe decodes every video frame of the three loops');
  t.same([pa.codec_name, pa.sample_rate, pa.channels], ['aac', '48000', 2], 'ffprobe: aac 48 kHz stereo');
  t.equal(Number(pa.nb_read_frames), 3 * 100, 'ffprobe decodes every audio frame');

  const frames = await decodeRgb(file, 16, 9);
  t.equal(frames.length, 192, 'ffmpeg decodes 192 frames');
  const wrong = frames.map((f, i) => (near(pixel(f, 16, 8, 4), RED) ? -1 : i)).filter((i) => i >= 0);
  t.same(wrong, [], `every frame shows the picture's colour (frame 0: ${pixel(frames[0], 16, 8, 4)}, want ≈ ${RED})`);
  // The silence decodes to silence.
  const pcm = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', file, '-map', '0:a', '-f', 's16le', '-']);
  let peak = 0;
  for (let i = 0; i + 1 < pcm.length; i += 2) peak = Math.max(peak, Math.abs(pcm.readInt16LE(i)));
  t.equal(peak, 0, `the audio decodes to digital silence (${pcm.length / 4} stereo samples)`);
});

t.test('a PNG is letterboxed (pillarbox) and a JPEG letterboxed, black bars, picture centred', async (t) => {
  const png = join(dir, 'blue-4x3.png');
  await runFfmpeg(['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'lavfi', '-i', 'color=c=blue:s=640x480', '-frames:v', '1', '-y', png]);
  const jpg = join(dir, 'green-wide.jpg');
  await runFfmpeg(['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'lavfi', '-i', 'color=c=0x00c000:s=1280x360', '-frames:v', '1', '-q:v', '2', '-y', jpg]);

  const fromPng = await encodeSlate({ video: { width: 1280, height: 720, frameRate: 25, imagePath: png, gopFrames: 50 }, durationMs: 1000 });
  t.equal(fromPng.tracks.length, 1, 'video only');
  t.equal(fromPng.durationMs, 1000, 'video only: 25 frames = 1000 ms exactly');
  t.equal(fromPng.units.length, 25, '25 frames');
  const [p] = await decodeRgb(annexB(fromPng), 1280, 720, 1);
  t.ok(near(pixel(p, 1280, 640, 360), [0, 0, 255], 24), `centre is blue (${pixel(p, 1280, 640, 360)})`);
  // 640x480 into 1280x720: 960x720 centred, 160 px bars left and right.
  t.ok(near(pixel(p, 1280, 100, 360), [0, 0, 0], 8) && near(pixel(p, 1280, 1180, 360), [0, 0, 0], 8), 'pillarbox bars are black');
  t.ok(near(pixel(p, 1280, 200, 50), [0, 0, 255], 24) && near(pixel(p, 1280, 1080, 670), [0, 0, 255], 24), 'the picture spans x 160..1120, full height');

  const fromJpg = await encodeSlate({ video: { width: 640, height: 360, frameRate: 30, imagePath: jpg, gopFrames: 30 }, durationMs: 500 });
  const [j] = await decodeRgb(annexB(fromJpg), 640, 360, 1);
  t.ok(near(pixel(j, 640, 320, 180), [0, 192, 0], 24), `centre is green (${pixel(j, 640, 320, 180)})`);
  // 1280x360 into 640x360: 640x180 centred, 90 px bars top and bottom.
  t.ok(near(pixel(j, 640, 320, 30), [0, 0, 0], 8) && near(pixel(j, 640, 320, 330), [0, 0, 0], 8), 'letterbox bars are black');
  t.ok(near(pixel(j, 640, 10, 100), [0, 192, 0], 24) && near(pixel(j, 640, 630, 260), [0, 192, 0], 24), 'the picture spans y 90..270, full width');
});

t.test('the built-in card encodes at 720p: white text in the centre, dark elsewhere; encode time', async (t) => {
  const started = performance.now();
  // The event loop keeps turning while the pool encodes.
  let maxLag = 0, last = performance.now();
  const ticker = setInterval(() => { const now = performance.now(); maxLag = Math.max(maxLag, now - last); last = now; }, 5);
  const clip = await encodeSlate({ video: { width: 1280, height: 720, frameRate: 30, picture: slateCard(1280, 720), gopFrames: 60 },
    audio: { sampleRate: 48000, channels: 2 }, durationMs: 2000 });
  const ms = performance.now() - started;
  clearInterval(ticker);
  t.comment(`1280x720 30 fps + AAC 48 kHz stereo, ${clip.durationMs} ms loop: encoded in ${ms.toFixed(0)} ms; IDR ${clip.units[0].data.length} bytes`);
  t.ok(ms < 5000 * SLOW, `encoded in ${ms.toFixed(0)} ms`);
  t.ok(maxLag < 200 * SLOW, `the event loop was never held (longest tick gap ${maxLag.toFixed(0)} ms)`);
  const [f] = await decodeRgb(annexB(clip), 1280, 720, 1);
  const lay = slateCardLayout(1280, 720);
  let white = 0;
  for (let y = lay.y; y < lay.y + lay.height; y++) for (let x = lay.x; x < lay.x + lay.width; x++) if (pixel(f, 1280, x, y)[0] > 200) white++;
  t.ok(white > lay.width * lay.height * 0.15, `text pixels in the text block (${white})`);
  t.ok(near(pixel(f, 1280, 20, 20), [19, 19, 19], 10) && near(pixel(f, 1280, 1260, 700), [19, 19, 19], 10), `dark background (${pixel(f, 1280, 20, 20)})`);
  t.equal(SLATE_CARD_TEXT_Y, 235, 'text is white (Y 235)');
});

t.test('audio-only and odd rate pairs', async (t) => {
  const ao = await encodeSlate({ audio: { sampleRate: 44100, channels: 1 }, durationMs: 2000 });
  t.same(ao.tracks.map((x) => x.kind), ['audio'], 'one audio track');
  t.ok(ao.units.every((u) => u.trackId === 1), 'audio units only');
  t.equal(ao.units.length, Math.round((2000 * 44100) / 1024 / 1000), '86 AAC frames ≈ durationMs × sampleRate / 1024 / 1000');
  t.equal(ao.durationMs, Math.round((86 * 1024 * 1000) / 44100), 'durationMs = 86 AAC frames, rounded (1997)');
  const r = await runPipeline(ao.tracks, loop(ao, 3));
  t.same(r.errors, [], 'audio-only loop through the pipeline: no error');
  t.equal(r.stats.dropped, 0, 'nothing dropped');
  t.ok(r.parts.length > 10, `${r.parts.length} parts`);

  // 29.97 fps with 44.1 kHz: the nearest length where both fit.
  const odd = await encodeSlate({ video: { width: 320, height: 180, frameRate: 29.97, picture: i420Of(320, 180, RED), gopFrames: 30 },
    audio: { sampleRate: 44100, channels: 2 }, durationMs: 2000 });
  const v = odd.units.filter((u) => u.trackId === 0), a = odd.units.filter((u) => u.trackId === 1);
  const audioMs = 1024000 / 44100;
  t.equal(odd.durationMs, Math.round((v.length * 1000) / 29.97), `durationMs ${odd.durationMs} = ${v.length} frames at 29.97`);
  t.ok(Math.abs(odd.durationMs - a.length * audioMs) <= 0.5, `${a.length} AAC frames end within 0.5 ms of it`);
  const looped = loop(odd, 3);
  const ag = looped.filter((u) => u.trackId === 1).map((u) => u.dts);
  t.ok(ag.slice(1).every((d, i) => Math.abs(d - ag[i] - audioMs) <= 1), 'looped: audio gaps within 1 ms of 23.2 ms');

  for (const channels of [6, 8]) {
    const s = await encodeSlate({ audio: { sampleRate: 48000, channels }, durationMs: 500 });
    const asc = s.tracks[0].codecConfig;
    t.equal((asc[1] >> 3) & 0x0f, channels === 8 ? 7 : 6, `${channels} channels: ASC channel configuration ${channels === 8 ? 7 : 6}`);
  }
});

t.test('concurrent requests all resolve', async (t) => {
  const reqs = [0, 1, 2, 3].map((i) => encodeSlate({ ...BASE, video: { ...BASE.video!, gopFrames: 10 + i } }));
  const clips = await Promise.all(reqs);
  t.same(clips.map((c) => c.units.filter((u) => u.trackId === 0 && u.keyframe).length), [7, 6, 6, 5], 'each with its own GOP');
});

// ---- refusals -------------------------------------------------------------------------------

t.test('bad requests reject with ERR_SLATE_CONFIG, never throw', async (t) => {
  const v = BASE.video!;
  const cases: Array<[string, unknown]> = [
    ['not an object', null],
    ['neither video nor audio', { durationMs: 1000 }],
    ['no durationMs', { audio: BASE.audio }],
    ['durationMs 0', { ...BASE, durationMs: 0 }],
    ['durationMs absurd', { ...BASE, durationMs: 1e9 }],
    ['durationMs NaN', { ...BASE, durationMs: NaN }],
    ['odd width', { ...BASE, video: { ...v, width: 641, picture: Buffer.alloc((641 * 360 * 3) / 2) } }],
    ['height too small', { ...BASE, video: { ...v, height: 8, picture: Buffer.alloc(640 * 12) } }],
    ['width too large', { ...BASE, video: { ...v, width: 8192, picture: Buffer.alloc(8192 * 540) } }],
    ['picture of the wrong length', { ...BASE, video: { ...v, picture: Buffer.alloc(1000) } }],
    ['picture not a Buffer', { ...BASE, video: { ...v, picture: 'abc' } }],
    ['both picture and imagePath', { ...BASE, video: { ...v, imagePath: '/tmp/x.png' } }],
    ['neither picture nor imagePath', { ...BASE, video: { ...v, picture: undefined } }],
    ['frameRate 0', { ...BASE, video: { ...v, frameRate: 0 } }],
    ['frameRate 1000', { ...BASE, video: { ...v, frameRate: 1000 } }],
    ['gopFrames 0', { ...BASE, video: { ...v, gopFrames: 0 } }],
    ['gopFrames 1.5', { ...BASE, video: { ...v, gopFrames: 1.5 } }],
    ['bitrateKbps 1', { ...BASE, video: { ...v, bitrateKbps: 1 } }],
    ['video not an object', { ...BASE, video: 42 }],
    ['7 channels', { ...BASE, audio: { sampleRate: 48000, channels: 7 } }],
    ['0 channels', { ...BASE, audio: { sampleRate: 48000, channels: 0 } }],
    ['sample rate not AAC', { ...BASE, audio: { sampleRate: 12345, channels: 2 } }],
  ];
  for (const [name, req] of cases) {
    let promise: Promise<unknown> | undefined;
    t.doesNotThrow(() => { promise = encodeSlate(req as SlateRequest); }, `${name}: no synchronous throw`);
    const e = await rejection(promise!);
    t.ok(e instanceof Error && e.code === 'ERR_SLATE_CONFIG', `${name}: ERR_SLATE_CONFIG (${e.code}: ${e.message})`);
  }
});

t.test('unreadable or non-image files reject with ERR_SLATE_IMAGE', async (t) => {
  const png = join(dir, 'ok.png');
  await runFfmpeg(['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'lavfi', '-i', 'color=c=white:s=320x240', '-frames:v', '1', '-y', png]);
  const text = join(dir, 'text.png');
  writeFileSync(text, 'this is not a picture\n');
  const truncated = join(dir, 'truncated.png');
  writeFileSync(truncated, readFileSync(png).subarray(0, 60));
  const garbage = join(dir, 'garbage.jpg');
  writeFileSync(garbage, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(4000, 0x5a)]));
  const empty = join(dir, 'empty.png');
  writeFileSync(empty, '');
  // A PNG whose header claims 100000 x 100000 pixels: refused before the decoder allocates it.
  const huge = join(dir, 'huge.png');
  const bytes = Buffer.from(readFileSync(png));
  bytes.writeUInt32BE(100000, 16);
  bytes.writeUInt32BE(100000, 20);
  bytes.writeUInt32BE(crc32(bytes.subarray(12, 29)), 29);
  writeFileSync(huge, bytes);
  for (const [name, path] of [['missing file', join(dir, 'nope.png')], ['a directory', dir], ['a text file', text],
    ['a truncated PNG', truncated], ['JPEG magic then garbage', garbage], ['an empty file', empty], ['a device', '/dev/zero'],
    ['a PNG claiming 100000x100000', huge]] as const) {
    const e = await rejection(encodeSlate({ video: { width: 320, height: 240, frameRate: 30, imagePath: path, gopFrames: 30 }, durationMs: 1000 }));
    t.ok(e instanceof Error && e.code === 'ERR_SLATE_IMAGE', `${name}: ERR_SLATE_IMAGE (${e.code}: ${e.message})`);
  }
  // The good one still works after all that.
  const ok = await encodeSlate({ video: { width: 320, height: 240, frameRate: 30, imagePath: png, gopFrames: 30 }, durationMs: 1000 });
  t.equal(ok.units.length, 30, 'a good PNG encodes');
});
