/**
 * A wall clock burned into the picture, for glass-to-glass latency that includes the encoder.
 *
 * PROGRAM-DATE-TIME is stamped when a frame reaches the origin, so "wall clock − PDT of the frame
 * on screen" leaves out capture and encoding. Here ffmpeg writes, into every frame, the wall
 * clock of the moment the frame entered its filter graph (right before the encoder; with `-re`,
 * the moment a live source would have delivered it), and the player's page reads it back from
 * the pixels of each frame it presents. ffmpeg's RTCTIME and the page's Date.now() read the same
 * machine clock (CLOCK_REALTIME), so their difference is glass to glass.
 *
 * The pattern: a strip across the top of the frame, two rows of 32 square blocks, each block
 * (frame width / 32) wide. Row 0, column i: bit i of the epoch milliseconds mod 2^32 (white = 1,
 * least significant bit on the left). Row 1, column i: the inverse of bit (i + 16) mod 32. Each
 * bit is thus shown twice, inverted, half a frame apart: a block misread under compression, or a
 * macroblock the encoder left over from the previous frame, disagrees with its partner and the
 * frame is discarded as a misread instead of giving a wrong time. The blocks are 20 px at 640
 * wide and black/white only, which x264 keeps readable at low bit rates (the accuracy test in
 * test/integration/burned-clock.test.ts measures it).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Page } from 'playwright-core';

/** Blocks per row: one per bit of the code. */
export const CLOCK_BITS = 32;

/** Height of the strip for a frame `width` px wide (two rows of square blocks, even for 4:2:0). */
export function stripHeight(width: number): number {
  return 2 * Math.ceil(width / CLOCK_BITS);
}

/**
 * ffmpeg video filter (for `-vf`) that burns the wall clock into each frame of a `width` px wide,
 * `fps` frames per second source with timestamps 0, 1, 2… in 1/fps (lavfi's testsrc2).
 *
 * - `settb=1/1000,setpts=RTCTIME/(TB*1000000)`: the frame's timestamp becomes the wall clock in
 *   ms when the frame passes (RTCTIME is in µs). It is in the output graph (`-vf`), which ffmpeg
 *   feeds once `-re` has released the frame at its time, not in the lavfi source, which
 *   generates frames ahead of that pacing.
 * - the blocks are drawbox filters switched on per frame by their `enable` expression of the
 *   timestamp `t`: one input, one output, nothing to synchronise (about 1.5 ms of CPU per frame
 *   at 1280x720). Whatever ffmpeg does after the clock (it hands a frame to its output about one
 *   frame interval later, then x264, the muxer, RTMP) is publisher delay and is counted, as a
 *   camera's would be.
 * - `settb=1/fps,setpts=N` puts the timestamps back on the frame grid. (`setpts=PTS-STARTPTS`
 *   would keep the wall-clock jitter of `-re` in the stream's timestamps, and frames landing in
 *   the same 1/fps slot would be dropped by the muxer.)
 */
export function burnedClockFilter(o: { width: number; fps: number }): string {
  const edge = (i: number) => Math.round((i * o.width) / CLOCK_BITS);
  const h = edge(1);
  const box = (col: number, row: number, color: string, enable?: string) =>
    `drawbox=x=${edge(col)}:y=${row * h}:w=${edge(col + 1) - edge(col)}:h=${h}:color=${color}:t=fill${enable ? `:enable='${enable}'` : ''}`;
  const filters = ['settb=1/1000', 'setpts=RTCTIME/(TB*1000000)',
    // All zeros: row 0 black, row 1 (the inverse) white; then each set bit flips its two blocks.
    `drawbox=x=0:y=0:w=${o.width}:h=${h}:color=black:t=fill`, `drawbox=x=0:y=${h}:w=${o.width}:h=${h}:color=white:t=fill`];
  for (let k = 0; k < CLOCK_BITS; k++) {
    const set = `mod(floor(round(t*1000)/${2 ** k}),2)`;
    filters.push(box(k, 0, 'white', set), box((k + CLOCK_BITS / 2) % CLOCK_BITS, 1, 'black', set));
  }
  filters.push(`settb=1/${o.fps}`, 'setpts=N');
  return filters.join(',');
}

/**
 * Reads the code from pixels of the strip: `px` holds rows of `width` pixels of `channels`
 * bytes (1: gray; 3 or 4: RGB(A), averaged), at least the strip's two block rows, the strip
 * spanning the full `width`. Returns the epoch ms mod 2^32, or null when any block is unclear or
 * disagrees with its inverted partner (a misread, to be discarded).
 *
 * Self-contained (no outside names, hence 32 and not CLOCK_BITS): the page reader runs its
 * source text in the browser.
 */
export function decodeClockStrip(px: ArrayLike<number>, width: number, channels: number): number | null {
  const bits = 32, block = width / bits;
  // Mean over the middle half of a block (edges ring after compression and scaling).
  const mean = (col: number, row: number): number => {
    let sum = 0, n = 0;
    const x0 = Math.floor((col + 0.25) * block), x1 = Math.max(x0 + 1, Math.ceil((col + 0.75) * block));
    const y0 = Math.floor((row + 0.25) * block), y1 = Math.max(y0 + 1, Math.ceil((row + 0.75) * block));
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const i = (y * width + x) * channels;
        sum += channels >= 3 ? (px[i] + px[i + 1] + px[i + 2]) / 3 : px[i];
        n++;
      }
    }
    return sum / n;
  };
  // Black is 16 (or 0 once expanded to full range), white 235 (or 255): a block within 48 of
  // mid-grey is not trusted.
  const level = (v: number): 0 | 1 | -1 => (v < 80 ? 0 : v > 176 ? 1 : -1);
  let code = 0;
  for (let i = 0; i < bits; i++) {
    const b = level(mean(i, 0));
    const partner = level(mean((i + bits / 2) % bits, 1));
    if (b < 0 || partner < 0 || b === partner) return null;
    code += b * 2 ** i;
  }
  return code;
}

/**
 * Latency in ms of a frame whose code is `code`, seen at `nowMs`: nowMs − the burned time, the
 * burned time being the one with those low 32 bits nearest before or after nowMs (2^32 ms is
 * 49.7 days, so there is no ambiguity).
 */
export function latencyFromCode(code: number, nowMs: number): number {
  const wrap = 2 ** 32;
  const d = (((nowMs - code) % wrap) + wrap) % wrap;
  return d > wrap / 2 ? d - wrap : d;
}

/** One frame's burned clock, read in Node from frames ffmpeg decoded. */
export interface StripFrame {
  /** Frame index in decode (presentation) order. */
  index: number;
  /** Epoch ms mod 2^32 read from the strip, or null for a misread. */
  code: number | null;
  /** Date.now() when the frame's pixels reached this process. */
  arrivedAt: number;
}

/**
 * Runs ffmpeg with `args` (its inputs and options; the output is added here) and reads the
 * burned clock of every frame it outputs: the strip rows cropped, as 8-bit gray over a pipe.
 * `width` is the frame width (the strip's layout depends on it). Rejects if ffmpeg fails.
 */
export async function readClockFrames(args: string[], width: number, o: { filterPrefix?: string } = {}): Promise<StripFrame[]> {
  const h = stripHeight(width);
  const vf = `${o.filterPrefix ? `${o.filterPrefix},` : ''}crop=${width}:${h}:0:0,format=gray`;
  const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', ...args, '-vf', vf, '-f', 'rawvideo', '-pix_fmt', 'gray', '-flush_packets', '1', 'pipe:1'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const frameBytes = width * h;
  const frames: StripFrame[] = [];
  let pending: Buffer = Buffer.alloc(0), err = '';
  p.stderr!.on('data', (d) => { err += d; });
  p.stdout!.on('data', (d: Buffer) => {
    const arrivedAt = Date.now();
    pending = pending.length ? Buffer.concat([pending, d]) : d;
    while (pending.length >= frameBytes) {
      frames.push({ index: frames.length, code: decodeClockStrip(pending.subarray(0, frameBytes), width, 1), arrivedAt });
      pending = pending.subarray(frameBytes);
    }
  });
  const [code] = await once(p, 'close');
  if (code !== 0) throw new Error(`ffmpeg exited ${code}: ${err}`);
  return frames;
}

/** One frame presented by the page's <video>, read by the page reader. */
export interface PresentedFrame {
  /** Date.now() in the page's requestVideoFrameCallback for this frame. */
  at: number;
  /** at − burned time, ms. */
  latencyMs: number;
  /** The frame's presentation time on the media timeline (rVFC metadata.mediaTime), s. */
  mediaTime: number;
  /** The frame's width (rVFC metadata.width): shows a resolution change. */
  width: number;
  /** The code read (epoch ms mod 2^32). */
  code: number;
  /** rVFC metadata.expectedDisplayTime − performance.now() at the callback, ms: how far ahead of the paint the sample was taken. */
  displayAheadMs: number;
}

/** What the page reader has collected (window.sigmaClock). */
export interface PresentedFrames {
  frames: PresentedFrame[];
  /** Frames presented whose strip could not be read (discarded). */
  misreads: number;
  /** Frames presented in all. */
  presented: number;
}

/** The page side, run as source text in the browser (so self-contained, the decoder passed in). */
function pageReader(decode: typeof decodeClockStrip, latency: typeof latencyFromCode, selector: string): void {
  const video = document.querySelector(selector) as HTMLVideoElement;
  // 8x8 canvas pixels per block: the middle 4x4 of each is read.
  const cw = 256, ch = 16;
  const canvas = document.createElement('canvas');
  canvas.width = cw;
  canvas.height = ch;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const state: PresentedFrames = { frames: [], misreads: 0, presented: 0 };
  (window as any).sigmaClock = state;
  const onFrame = (now: number, meta: VideoFrameCallbackMetadata) => {
    const at = Date.now();
    state.presented++;
    // The frame being presented (drawImage in the callback draws it), its strip rows only.
    ctx.drawImage(video, 0, 0, meta.width, (2 * meta.width) / 32, 0, 0, cw, ch);
    const code = decode(ctx.getImageData(0, 0, cw, ch).data, cw, 4);
    if (code === null) state.misreads++;
    else state.frames.push({ at, latencyMs: latency(code, at), mediaTime: meta.mediaTime, width: meta.width, code, displayAheadMs: meta.expectedDisplayTime - now });
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}

/**
 * Starts reading the burned clock of every frame the page's `selector` video presents
 * (requestVideoFrameCallback): the page draws the strip into a small canvas, decodes it with
 * decodeClockStrip and keeps window.sigmaClock (PresentedFrames). The page must be same-origin
 * with the media (a cross-origin video would taint the canvas).
 */
export async function startClockReader(page: Page, selector = 'video'): Promise<void> {
  await page.evaluate(`(${pageReader.toString()})(${decodeClockStrip.toString()}, ${latencyFromCode.toString()}, ${JSON.stringify(selector)})`);
}

/** The frames read so far (from index `from` on), misreads and frames presented. */
export function presentedFrames(page: Page, from = 0): Promise<PresentedFrames> {
  return page.evaluate((i) => {
    const s = (window as any).sigmaClock as PresentedFrames;
    return { frames: s.frames.slice(i), misreads: s.misreads, presented: s.presented };
  }, from);
}
