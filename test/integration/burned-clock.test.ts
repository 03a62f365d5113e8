/**
 * How far the burned clock (test/helpers/burned-clock.ts) can be trusted, before any player
 * reads it: the strip decodes back to the time ffmpeg wrote, that time is when ffmpeg passed
 * the frame on, and x264 at the bit rates the tests publish (and far below) keeps it readable,
 * a damaged strip being discarded rather than misread. The browser-side reader is checked
 * against these ffmpeg decodes in test/e2e/latency-modes.ts.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { burnedClockFilter, decodeClockStrip, latencyFromCode, readClockFrames, stripHeight, type StripFrame } from '../helpers/burned-clock.js';
import { median, percentile } from '../helpers/browser.js';

const W = 640, H = 360, FPS = 30;
const SOURCE = ['-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=${FPS}`];

/** A gray strip as the filter draws it (16 / 235), with `code`; `flip` inverts one block. */
function drawnStrip(code: number, width: number, flip?: { col: number; row: number }): Uint8Array {
  const h = stripHeight(width), block = width / 32, px = new Uint8Array(width * h).fill(16);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < width; x++) {
      const col = Math.floor(x / block), row = Math.floor(y / block);
      const bit = row === 0 ? Math.floor(code / 2 ** col) % 2 : 1 - (Math.floor(code / 2 ** ((col + 16) % 32)) % 2);
      const flipped = flip && flip.col === col && flip.row === row ? 1 - bit : bit;
      px[y * width + x] = flipped ? 235 : 16;
    }
  }
  return px;
}

t.test('the strip decoder: every bit, the inverted partner check, the wrap of 2^32 ms', async (t) => {
  for (const code of [0, 1, 0x80000000, 0xffffffff, 0x5a5a1234, Date.now() % 2 ** 32]) {
    t.equal(decodeClockStrip(drawnStrip(code, 640), 640, 1), code, `code ${code} at 640 px`);
    t.equal(decodeClockStrip(drawnStrip(code, 854), 854, 1), code, `code ${code} at 854 px (blocks of 26.7 px)`);
  }
  t.equal(decodeClockStrip(drawnStrip(12345, 640, { col: 3, row: 0 }), 640, 1), null, 'a flipped block in row 0 is a misread, not another time');
  t.equal(decodeClockStrip(drawnStrip(12345, 640, { col: 30, row: 1 }), 640, 1), null, 'so is one in row 1');
  const grey = drawnStrip(12345, 640);
  for (let y = 5; y < 15; y++) for (let x = 45; x < 55; x++) grey[y * 640 + x] = 128;
  t.equal(decodeClockStrip(grey, 640, 1), null, 'a block neither black nor white is a misread');
  const now = 2 ** 32 * 411 + 100; // just after a wrap of the low 32 bits
  t.equal(latencyFromCode((now - 250) % 2 ** 32, now), 250, 'latency across the wrap');
  t.equal(latencyFromCode((now + 20) % 2 ** 32, now), -20, 'a time slightly ahead reads as negative, not 49 days');
});

t.test('the burned time is when ffmpeg passed the frame on: read back from its own output in real time', async (t) => {
  const frames = await readClockFrames(['-re', '-t', '3', ...SOURCE], W, { filterPrefix: burnedClockFilter({ width: W, fps: FPS }) });
  const read = frames.filter((f): f is StripFrame & { code: number } => f.code !== null);
  t.equal(frames.length, 3 * FPS, `${3 * FPS} frames`);
  t.equal(read.length, frames.length, 'every frame read back (uncompressed)');
  const steps = read.slice(1).map((f, i) => latencyFromCode(read[i].code, f.code));
  const delays = read.map((f) => latencyFromCode(f.code, f.arrivedAt));
  t.comment(`burned clock steps between frames: median ${median(steps)} ms, min ${Math.min(...steps)}, max ${Math.max(...steps)}`);
  t.comment(`clock burned → frame in this process: median ${median(delays)} ms, p95 ${percentile(delays, 95)} ms, max ${Math.max(...delays)} ms`);
  t.ok(Math.abs(median(steps) - 1000 / FPS) <= 3, 'the clocks of successive frames step by one frame interval (-re pacing)');
  // ffmpeg's CLI hands a frame to its output about one frame interval after filtering it; that
  // and the pipe are the only time between the burned clock and this process.
  t.ok(delays.every((d) => d >= 0 && d < 150), 'every frame arrives 0-150 ms after the time burned into it (never before)');
});

t.test('x264 keeps the clock readable: frame by frame against a lossless copy of the same frames', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-clock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // The publishers' rate (800 kb/s at 640x360) and one eighth of it; -re so that the code
  // changes from frame to frame as it does live.
  const rates = ['800k', '100k'];
  const enc = rates.flatMap((r, i) => ['-map', `[e${i}]`, '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    '-g', String(FPS), '-b:v', r, '-maxrate', r, '-bufsize', r, join(dir, `${r}.mp4`)]);
  const graph = `[0:v]${burnedClockFilter({ width: W, fps: FPS })},split=${rates.length + 1}[ref]${rates.map((_, i) => `[e${i}]`).join('')}`;
  const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-t', '5', ...SOURCE, '-filter_complex', graph,
    '-map', '[ref]', '-c:v', 'ffv1', join(dir, 'ref.mkv'), ...enc], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (d) => { err += d; });
  const [code] = await once(p, 'close');
  if (!t.equal(code, 0, 'ffmpeg encoded the clips', { stderr: err })) return;
  const ref = await readClockFrames(['-i', join(dir, 'ref.mkv')], W);
  t.ok(ref.length === 5 * FPS && ref.every((f) => f.code !== null), `the lossless copy: all ${ref.length} frames read`);
  for (const rate of rates) {
    const got = await readClockFrames(['-i', join(dir, `${rate}.mp4`)], W);
    const exact = got.filter((f, i) => f.code !== null && f.code === ref[i]?.code).length;
    const misread = got.filter((f) => f.code === null).length;
    const wrong = got.length - exact - misread;
    t.comment(`x264 ${rate}b/s: ${got.length} frames, ${exact} read exactly, ${misread} discarded as misreads, ${wrong} wrong`);
    t.equal(got.length, ref.length, `${rate}: every frame decoded`);
    t.equal(wrong, 0, `${rate}: no frame gives a wrong time`);
    if (rate === '800k') t.equal(exact, got.length, `${rate}: every frame read`);
    else t.ok(exact >= 0.95 * got.length, `${rate}: at least 95 % of frames read`);
  }
});
