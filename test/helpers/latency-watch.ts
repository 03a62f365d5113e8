/**
 * A viewer for glass-to-glass measurements, shared by test/e2e/latency-modes.ts and
 * bench/latency.ts: a Chromium page playing a stream with one of the measured players, the
 * burned-clock reader on from the first frame, and a watch that returns what the viewer saw over
 * a span of time: glass to glass per frame (burned clock) and wall clock − PROGRAM-DATE-TIME.
 */
import type { Browser, Page } from 'playwright-core';
import { presentedFrames, startClockReader, type PresentedFrames } from './burned-clock.js';
import { playWithHlsJs, playWithShaka, stallReport, stallsBetween, watchedPage, type PlayerState, type WatchedPage } from './player-probe.js';
import type { StallReport } from '../../src/delivery/stall-monitor.js';

type Play = (page: Page, originUrl: string, url: string, beforeLoad: () => Promise<void>) => Promise<void>;

/**
 * The players measured: hls.js with its low-latency mode on (its stock settings: on is the
 * default) and off (stock otherwise), and Shaka Player with its stock low-latency settings.
 */
export const PLAYERS = {
  'hls.js LL': (page, origin, url, beforeLoad) => playWithHlsJs(page, origin, url, { config: { lowLatencyMode: true }, beforeLoad }),
  'hls.js non-LL': (page, origin, url, beforeLoad) => playWithHlsJs(page, origin, url, { config: { lowLatencyMode: false }, beforeLoad }),
  'Shaka LL': (page, origin, url, beforeLoad) => playWithShaka(page, origin, url, { beforeLoad }),
} satisfies Record<string, Play>;

export type PlayerName = keyof typeof PLAYERS;
export const PLAYER_NAMES = Object.keys(PLAYERS) as PlayerName[];

/** A page playing a stream, watched for page errors and failed requests. */
export interface Viewer extends WatchedPage {
  player: PlayerName;
  openedAt: number;
  close(): Promise<void>;
}

/** Opens a page of `browser` playing `url` (of the origin at originUrl) with `player`; the burned-clock reader starts before the first frame. */
export async function openViewer(browser: Browser, originUrl: string, url: string, player: PlayerName): Promise<Viewer> {
  const openedAt = Date.now();
  const w = await watchedPage(browser, originUrl);
  await PLAYERS[player](w.page, originUrl, url, () => startClockReader(w.page));
  return { ...w, player, openedAt, close: () => w.page.close() };
}

/** Waits for the first 'playing' event; resolves with the ms from opening the page to it. */
export async function untilPlaying(v: Viewer, timeoutMs: number): Promise<number> {
  const startedAt = await v.page.waitForFunction(() => (window as any).sigmaPlayer?.startedAt, undefined, { timeout: timeoutMs, polling: 100 });
  return ((await startedAt.jsonValue()) as number) - v.openedAt;
}

/** What a viewer saw during a watch. */
export interface Watch {
  player: PlayerName;
  /** Glass to glass of each frame presented and read, s (burned clock; the encoder included). */
  glass: number[];
  /** Wall clock − PROGRAM-DATE-TIME of the playhead, s, every 250 ms (ingest to screen). */
  pdt: number[];
  /** Frames presented, and those of them whose clock could not be read. */
  presented: number;
  misreads: number;
  /** Widths of the frames read, in order of first appearance. */
  widths: number[];
  /** The burned time of the newest frame read (epoch ms), or undefined. */
  lastBurnedMs?: number;
  /** Stalls that began in the watch and the time stalled (the stall monitor's; one going on at the end included). */
  stalls: number;
  stalledMs: number;
  stalledAtEnd: boolean;
  errors: PlayerState['errors'];
  /** The video's currentTime advanced by, s. */
  played: number;
}

interface Mark { clock: PresentedFrames; player: PlayerState; stalls: StallReport; currentTime: number }

async function mark(page: Page, fromFrame: number): Promise<Mark> {
  const [clock, rest, stalls] = await Promise.all([
    presentedFrames(page, fromFrame),
    page.evaluate(() => ({ player: { ...(window as any).sigmaPlayer } as PlayerState, currentTime: document.querySelector('video')!.currentTime })),
    stallReport(page),
  ]);
  return { clock, ...rest, stalls };
}

/** The frames read so far: where a watch starts. */
async function framesRead(page: Page): Promise<number> {
  return page.evaluate(() => (window as any).sigmaClock.frames.length as number);
}

/** Watches for `ms` from now and returns what the viewer saw in that time. */
export async function watchFor(v: Viewer, ms: number): Promise<Watch> {
  const from = await framesRead(v.page);
  const before = await mark(v.page, from);
  await new Promise((r) => setTimeout(r, ms));
  const after = await mark(v.page, from);
  const frames = after.clock.frames;
  return {
    player: v.player,
    glass: frames.map((f) => f.latencyMs / 1000),
    pdt: after.player.latencies.slice(before.player.latencies.length),
    presented: after.clock.presented - before.clock.presented,
    misreads: after.clock.misreads - before.clock.misreads,
    widths: [...new Set(frames.map((f) => f.width))],
    lastBurnedMs: frames.length ? frames[frames.length - 1].at - frames[frames.length - 1].latencyMs : undefined,
    ...stallsBetween(before.stalls, after.stalls),
    errors: after.player.errors.slice(before.player.errors.length),
    played: after.currentTime - before.currentTime,
  };
}

/**
 * Waits until the viewer presents a frame burned at or after `sinceMs` (and `width` wide, if
 * given): new frames from a publisher (re)started at sinceMs. Resolves with when it was shown.
 */
export async function untilShowsFrameSince(v: Viewer, sinceMs: number, o: { width?: number; timeoutMs: number }): Promise<number> {
  const handle = await v.page.waitForFunction(({ since, width }) => {
    const frames = (window as any).sigmaClock.frames as { at: number; latencyMs: number; width: number }[];
    const f = frames[frames.length - 1];
    return f && f.at - f.latencyMs >= since && (width === undefined || f.width === width) ? f.at : false;
  }, { since: sinceMs, width: o.width }, { timeout: o.timeoutMs, polling: 100 });
  return (await handle.jsonValue()) as number;
}
