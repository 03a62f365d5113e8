import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { stallMonitorScript, type StallReport } from '../../src/delivery/stall-monitor.js';

const require = createRequire(import.meta.url);

/**
 * What the e2e players must show on an ultra-low channel: the mode's latency target, median
 * ≤ 1.2 s over the watch, and no sample above 2 s (a stall and its catch-up would show there).
 * Measured on the 2-core test VM while other builds shared it: hls.js medians 0.83–1.09 s and
 * maxima 0.84–1.13 s in 13 of 14 runs (load 2.7–9); in the 14th, at load 10.6, a 25-ms stall
 * made hls.js add 1 s to its target latency (median 1.76 s, max 2.02 s: a failure, as a viewer
 * would see it). Shaka medians 0.60–0.93 s over 4.
 */
export const ULTRA_LOW_LATENCY = { medianSec: 1.2, maxSec: 2 };

/** A Chromium page that records page errors and failed (≥ 400) responses (URLs relative to the origin). */
export interface WatchedPage {
  page: Page;
  pageErrors: string[];
  failed: string[];
}

export async function watchedPage(browser: Browser, origin: string): Promise<WatchedPage> {
  const page = await browser.newPage();
  const w: WatchedPage = { page, pageErrors: [], failed: [] };
  page.on('pageerror', (e) => w.pageErrors.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400) w.failed.push(`${r.status()} ${r.url().replace(origin, '')}`); });
  return w;
}

/** The MSN a whole-segment URL names (`…/source/123.m4s`, live or archive); undefined for parts, inits, playlists. */
export function segmentMsn(url: string): number | undefined {
  const m = /\/source\/(?:\d{10}\/)?(\d+)\.m4s(?:\?|$)/.exec(url);
  return m ? Number(m[1]) : undefined;
}

/**
 * Plays url with hls.js in a page of the origin (same origin, no CORS), exposing the same hooks
 * as the origin's player page: window.sigmaHls (the Hls instance), window.sigmaPlayer
 * ({ playing, ended, errors }) and the one <video>; shown fragments are tracked from the first.
 * For playlists the player page does not play (catchup).
 */
export async function playWithHlsJs(page: Page, originUrl: string, url: string): Promise<void> {
  await page.goto(`${originUrl}/healthz`);
  await page.setContent('<video muted autoplay playsinline></video>');
  await page.addScriptTag({ path: require.resolve('hls.js/dist/hls.min.js') });
  await page.evaluate(() => {
    const w = window as any;
    const video = document.querySelector('video')!;
    const state = { playing: false, ended: false, errors: [] as { type: string; details: string; fatal: boolean }[] };
    w.sigmaPlayer = state;
    const hls = new w.Hls();
    w.sigmaHls = hls;
    hls.on(w.Hls.Events.ERROR, (_: unknown, d: any) => state.errors.push({ type: d.type, details: d.details, fatal: d.fatal }));
    hls.on(w.Hls.Events.MANIFEST_PARSED, () => { video.play().catch(() => undefined); });
    video.addEventListener('playing', () => { state.playing = true; });
    video.addEventListener('ended', () => { state.ended = true; });
  });
  await trackShownFragments(page);
  await page.evaluate((src) => {
    const w = window as any;
    w.sigmaHls.loadSource(src);
    w.sigmaHls.attachMedia(document.querySelector('video'));
  }, url);
}

/** A fragment hls.js started showing (FRAG_CHANGED). */
export interface ShownFragment {
  sn: number;
  /** Discontinuity counter: which run of continuous media. */
  cc: number;
  /** PROGRAM-DATE-TIME, epoch ms. */
  pdt: number | null;
  /** Position on the player's timeline, seconds. */
  start: number;
  at: number;
}

/** Records every fragment hls.js shows from now on into window.sigmaShown. */
export async function trackShownFragments(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as any;
    w.sigmaShown = [];
    w.sigmaHls.on(w.Hls.Events.FRAG_CHANGED, (_: unknown, d: any) => {
      w.sigmaShown.push({ sn: d.frag.sn, cc: d.frag.cc, pdt: d.frag.programDateTime ?? null, start: d.frag.start, at: Date.now() });
    });
  });
}

/** What the viewer sees right now. */
export interface PlayerSnapshot {
  currentTime: number;
  /** The live seekable range (or the whole VOD), seconds on the player's timeline. */
  seekable: [number, number] | null;
  /** hls.js playingDate: the wall-clock time of the frame on screen (epoch ms), from PROGRAM-DATE-TIME. */
  playingDate: number | null;
  /** Taken at (epoch ms, page clock, same machine). */
  at: number;
  errors: { type: string; details: string; fatal: boolean }[];
  shown: ShownFragment[];
}

/** Snapshot of the player page or a playWithHlsJs page. */
export function snapshot(page: Page): Promise<PlayerSnapshot> {
  return page.evaluate(() => {
    const w = window as any;
    const v = document.querySelector('video')!;
    const s = v.seekable;
    return {
      currentTime: v.currentTime,
      seekable: s.length ? [s.start(0), s.end(s.length - 1)] as [number, number] : null,
      playingDate: w.sigmaHls?.playingDate?.getTime() ?? null,
      at: Date.now(), errors: [...w.sigmaPlayer.errors], shown: [...(w.sigmaShown ?? [])],
    };
  });
}

/** Seeks and resolves at the 'seeked' event with the position reached and the wall clock then. */
export function seekTo(page: Page, seconds: number): Promise<{ currentTime: number; at: number }> {
  return page.evaluate((t) => new Promise<{ currentTime: number; at: number }>((resolve, reject) => {
    const v = document.querySelector('video')!;
    const timer = setTimeout(() => reject(new Error(`no 'seeked' event within 15 s of seeking to ${t}`)), 15_000);
    v.addEventListener('seeked', () => { clearTimeout(timer); resolve({ currentTime: v.currentTime, at: Date.now() }); }, { once: true });
    v.currentTime = t;
  }), seconds);
}

/**
 * Starts the origin's stall monitor (src/delivery/stall-monitor.ts, which the player page runs
 * itself) on the page's <video>, for pages that are not the player page (Shaka): read it with
 * stallReport().
 */
export async function watchStalls(page: Page): Promise<void> {
  await page.addScriptTag({ content: stallMonitorScript() });
  await page.evaluate(() => {
    const w = window as any;
    w.sigmaStalls = w.installStallMonitor(document.querySelector('video'));
  });
}

/** Stalls so far on a page with window.sigmaStalls (the player page, or after watchStalls), the one going on included. */
export function stallReport(page: Page): Promise<StallReport> {
  return page.evaluate(() => (window as any).sigmaStalls.report() as StallReport);
}

/** Stalls between two reports of the same page: how many began after `from`, and the stalled time between them. */
export function stallsBetween(from: StallReport, to: StallReport): { stalls: number; stalledMs: number; stalledAtEnd: boolean } {
  return { stalls: to.stalls - from.stalls, stalledMs: to.stalledMs - from.stalledMs, stalledAtEnd: to.stalled };
}

/** Waits until the video has played (not seeking, not paused) up to at least `seconds` on its timeline. */
export async function playedUntil(page: Page, seconds: number, timeoutMs: number): Promise<void> {
  await page.waitForFunction((t) => {
    const v = document.querySelector('video')!;
    return (v.currentTime >= t && !v.seeking && !v.paused) || v.ended;
  }, seconds, { timeout: timeoutMs, polling: 100 });
}
