/**
 * Which input a frame on screen came from, for the backup-input tests and benchmark
 * (test/e2e/failover.ts, bench/failover.ts): each publisher burns the wall clock into its frames
 * (burned-clock.ts) and a coloured box under the clock's strip, red on the primary and blue on
 * the backup. A page reader records, for every frame the <video> presents, when, its width, the
 * box's colour and the burned clock; switchesOnScreen() finds the switches in that record.
 */
import type { Page } from 'playwright-core';
import { stripHeight } from './burned-clock.js';
import type { TestSourceOptions } from './ffmpeg.js';

export type Source = 'primary' | 'backup';
export const FPS = 30;
export const FRAME_MS = 1000 / FPS;

/**
 * The marker: a box one clock strip high and an eighth of the frame wide, right under the strip
 * at the left. The readers take the mean colour of its middle.
 */
export function markerFilter(width: number, color: string): string {
  const h = stripHeight(width);
  return `drawbox=x=0:y=${h}:w=${width / 8}:h=${h}:color=${color}:t=fill`;
}

/** The marker's colour (mean R, G, B of the middle of the box) as the input it names, or null. */
export function markerOf(r: number, g: number, b: number): Source | null {
  if (r > 140 && g < 100 && b < 100) return 'primary';
  if (b > 140 && r < 100 && g < 100) return 'backup';
  return null;
}

export type Publisher = TestSourceOptions & { width: number };

/** A live encoder with the clock and the marker burned in: 30 fps, a keyframe every half second. */
export const markedEncoder = (width: number, height: number, color: string, o: TestSourceOptions = {}): Publisher =>
  ({ width, height, fps: FPS, gop: 15, burnedClock: true, videoFilter: markerFilter(width, color), ...o });

/**
 * The backup's encoder: 'smaller' (480x270: every switch is also a change of codec
 * configuration, a new SPS in a new init segment) or 'twin' (the primary's settings, told apart
 * by the marker only; x264 writes the same SPS/PPS, so both inputs' init segments are the same
 * bytes, as with two identical encoders in production).
 */
export type BackupKind = 'smaller' | 'twin';
export const PUBLISHERS: Record<BackupKind, Record<Source, Publisher>> = {
  smaller: { primary: markedEncoder(640, 360, 'red'), backup: markedEncoder(480, 270, 'blue') },
  twin: { primary: markedEncoder(640, 360, 'red'), backup: markedEncoder(640, 360, 'blue') },
};

/** One frame a viewer presented (page) or decoded (ffmpeg). */
export interface Frame {
  /** When it was presented (page: Date.now() in its requestVideoFrameCallback) or reached the reader (ffmpeg). */
  at: number;
  width: number;
  source: Source | null;
  /** The wall clock burned into it (epoch ms), or null when the strip was unreadable. */
  burned: number | null;
}

/**
 * Run as source text in the page after startClockReader: in each requestVideoFrameCallback
 * (after the clock reader's own, registered first) reads the marker's colour from the frame
 * presented and joins the clock reader's reading of the same frame; keeps window.sigmaFrames.
 */
function pageMarkerReader(): void {
  const w = window as any;
  const video = document.querySelector('video') as HTMLVideoElement;
  const canvas = document.createElement('canvas');
  canvas.width = 8;
  canvas.height = 4;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const frames: { at: number; width: number; rgb: [number, number, number]; burned: number | null }[] = [];
  w.sigmaFrames = frames;
  const onFrame = (_now: number, meta: VideoFrameCallbackMetadata) => {
    const at = Date.now();
    const strip = 2 * Math.ceil(meta.width / 32);
    // The middle half of the box (x 0…width/8, y strip…2·strip).
    ctx.drawImage(video, meta.width / 32, strip * 1.25, meta.width / 16, strip / 2, 0, 0, 8, 4);
    const d = ctx.getImageData(0, 0, 8, 4).data;
    const rgb: [number, number, number] = [0, 0, 0];
    for (let i = 0; i < d.length; i += 4) for (let c = 0; c < 3; c++) rgb[c] += d[i + c] / (d.length / 4);
    const clock = w.sigmaClock.frames[w.sigmaClock.frames.length - 1];
    const same = clock && clock.mediaTime === meta.mediaTime && clock.width === meta.width && Math.abs(clock.at - at) < 50;
    frames.push({ at, width: meta.width, rgb, burned: same ? clock.at - clock.latencyMs : null });
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}

/** Starts the marker reader on the page's <video>; call it right after startClockReader (in a player's beforeLoad). */
export async function startMarkerReader(page: Page): Promise<void> {
  await page.evaluate(`(${pageMarkerReader.toString()})()`);
}

/** Every frame the page presented since the reader started (from index `from` on). */
export async function pageFrames(page: Page, from = 0): Promise<Frame[]> {
  const raw = await page.evaluate((i) => ((window as any).sigmaFrames as { at: number; width: number; rgb: [number, number, number]; burned: number | null }[]).slice(i), from);
  return raw.map((f) => ({ at: f.at, width: f.width, source: markerOf(...f.rgb), burned: f.burned }));
}

/** What was done to make the origin switch (kill, start, SIGSTOP, SIGCONT), and when. */
export interface SwitchAct {
  what: string;
  from: Source;
  to: Source;
  /** Date.now() when it was done. */
  at: number;
}

/** One switch as it showed on screen. */
export interface SwitchSeen<A extends SwitchAct = SwitchAct> {
  act: A;
  /** The last frame of the input going off air, and the first of the one coming on. */
  last: Frame;
  first: Frame;
  /** first.at − last.at − a frame interval: the picture stood still this long at the switch. */
  freezeMs: number;
  /**
   * The longest gap between frames presented from 0.5 s before `last` to 2 s after `first` (not
   * reaching past the switches before and after), less a frame interval.
   */
  maxGapMs: number;
  /** Where that gap ended, ms after `first`. */
  maxGapAt: number;
  /**
   * The picture's still time in all over the same span: every gap between presented frames
   * longer than two frame intervals, less a frame interval each (a freeze before the first new
   * frame and another after it add up; the jitter of a busy machine does not).
   */
  stillMs: number;
  /** Media the viewer never saw: first.burned − last.burned − a frame interval (null: a clock unreadable). */
  skippedMs: number | null;
  /** From the act to the first new frame on screen (the player's latency included). */
  actToScreenMs: number;
  /** Glass to glass of the old input's last frame (the viewer's distance to live before the switch), or null. */
  latencyBeforeMs: number | null;
}

/**
 * The switches in a record of frames: each change of marker between consecutive readable frames
 * is a switch, matched in order with `acts`. `changes` lists every change seen (`primary→backup`),
 * so a caller can tell whether the screen changed exactly as often, and in the order, the acts
 * asked (a spurious switch shows as one too many).
 */
export function switchesOnScreen<A extends SwitchAct>(frames: Frame[], acts: A[]): { seen: SwitchSeen<A>[]; changes: string[] } {
  const known = frames.map((f, i) => ({ f, i })).filter((x) => x.f.source !== null);
  // Each change: the index of the old input's last frame and of the new one's first.
  const at: { last: number; first: number }[] = [];
  for (let k = 1; k < known.length; k++) if (known[k].f.source !== known[k - 1].f.source) at.push({ last: known[k - 1].i, first: known[k].i });
  const changes = at.map((c) => `${frames[c.last].source}→${frames[c.first].source}`);
  const seen: SwitchSeen<A>[] = [];
  at.forEach((c, n) => {
    const act = acts[n];
    if (!act) return;
    const last = frames[c.last], first = frames[c.first];
    // The span: 0.5 s before the switch to 2 s after it, but not into the switches before and after.
    const from = Math.max(last.at - 500, n > 0 ? frames[at[n - 1].first].at : -Infinity);
    const to = Math.min(first.at + 2000, n + 1 < at.length ? frames[at[n + 1].last].at : Infinity);
    let maxGap = 0, maxGapAt = NaN, stillMs = 0;
    for (let j = c.last; j > 0 && frames[j - 1].at >= from; j--) gap(j);
    for (let j = c.last + 1; j < frames.length && frames[j].at <= to; j++) gap(j);
    function gap(j: number): void {
      const g = frames[j].at - frames[j - 1].at;
      if (g > maxGap) { maxGap = g; maxGapAt = frames[j].at - first.at; }
      if (g > 2 * FRAME_MS) stillMs += g - FRAME_MS;
    }
    seen.push({
      act, last, first,
      freezeMs: first.at - last.at - FRAME_MS,
      maxGapMs: maxGap - FRAME_MS, maxGapAt, stillMs,
      skippedMs: first.burned !== null && last.burned !== null ? first.burned - last.burned - FRAME_MS : null,
      actToScreenMs: first.at - act.at,
      latencyBeforeMs: last.burned === null ? null : last.at - last.burned,
    });
  });
  return { seen, changes };
}
