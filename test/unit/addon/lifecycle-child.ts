/**
 * Child process for the lifecycle tests (lifecycle-suite.ts; run with --expose-gc):
 *  node lifecycle-child.js <mode> <mp4 file> [pipeline|ladder|thumbnailer|audio]
 * Modes, for CmafPipelines (with a one-rung transcode ladder for 'ladder': decoder and rung
 * threads, x264's too), Thumbnailers or Opus→AAC transcoders ('audio'):
 *  loop      create + write + close 20 one after another
 *  parallel  20 open at once, then all closed
 *  unclosed  open ones, write, never close; the process must still exit by itself
 *  gc        dropped without close, then collected; their threads must end
 * Prints one JSON line with thread counts; exits 0.
 */
import { readdirSync } from 'node:fs';
import { CmafPipeline } from '../../../src/addon/cmaf-pipeline.js';
import { OpusToAac } from '../../../src/addon/audio-transcoder.js';
import { Thumbnailer } from '../../../src/addon/thumbnailer.js';
import { loadMp4, LL_OPTIONS } from './fixtures.js';

export type WorkerKind = 'pipeline' | 'ladder' | 'thumbnailer' | 'audio';
interface Worker { close(): Promise<void> }

const [mode, file, kind = 'pipeline'] = process.argv.slice(2);
const fx = loadMp4(file);
const threads = () => readdirSync('/proc/self/task').length;
const SLOW = Number(process.env.SIGMA_SLOW_FACTOR ?? 1) || 1;
const tick = () => new Promise((r) => setTimeout(r, 20 * SLOW));
const v = fx.video!;
const keyframes = fx.aus.filter((a) => a.trackId === v.id && a.keyframe);
const LADDER = { rungs: [{ name: 'small', width: 160, height: 90, videoBitrate: 100_000 }], preset: 'ultrafast' };
// One 20-ms CELT frame of silence (TOC 0xf8): a valid Opus packet that needs no fixture.
const OPUS_SILENCE = Buffer.from([0xf8, 0xff, 0xfe]);
const make = (): Worker => {
  if (kind === 'audio') return new OpusToAac({}, (ev) => { if (ev.kind === 'error') throw ev.error; });
  if (kind === 'thumbnailer') {
    return new Thumbnailer({ codecConfig: v.codecConfig, width: v.width, height: v.height, thumbnailWidth: 320, tileWidth: 160, columns: 10, rows: 10 },
      { onThumbnail() {}, onTile() {}, onError: (e) => { throw e; } });
  }
  return new CmafPipeline({ ...LL_OPTIONS, tracks: fx.tracks, ladder: kind === 'ladder' ? LADDER : undefined }, () => {}, (e) => { throw e; });
};
/** n access units to a pipeline; to a thumbnailer its keyframes (each for a thumbnail and a tile); n Opus packets to a transcoder. */
const feed = (w: Worker, n: number) => {
  if (w instanceof OpusToAac) for (let i = 0; i < n; i++) w.push(OPUS_SILENCE, i * 960);
  else if (w instanceof Thumbnailer) for (const au of keyframes) w.submit(au.data, au.dts, { thumbnail: true, tile: true });
  else if (w instanceof CmafPipeline) for (const au of fx.aus.slice(0, n)) w.write(au);
};

// Load the addon and let the runtime's own threads settle before the baseline.
await make().close();
await tick();
const baseline = threads();
let peak = baseline;
const out: Record<string, number | string> = { mode, baseline };

if (mode === 'loop') {
  for (let i = 0; i < 20; i++) {
    const p = make();
    feed(p, 120);
    peak = Math.max(peak, threads());
    await p.close();
  }
} else if (mode === 'parallel') {
  const ps = Array.from({ length: 20 }, make);
  ps.forEach((p) => feed(p, 120));
  peak = threads();
  await Promise.all(ps.map((p) => p.close()));
} else if (mode === 'unclosed') {
  const ps = Array.from({ length: 5 }, make);
  ps.forEach((p) => feed(p, 120));
  peak = threads();
  (globalThis as Record<string, unknown>).keep = ps; // stay reachable: exit must not wait for them
} else if (mode === 'gc') {
  (() => {
    for (let i = 0; i < 20; i++) feed(make(), 120);
  })();
  peak = threads();
  for (let i = 0; i < 20 && threads() > baseline; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await tick();
  }
}
await tick();
out.peak = peak;
out.after = threads();
console.log(JSON.stringify(out));
