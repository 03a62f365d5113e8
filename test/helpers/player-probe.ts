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

/** What a test player page keeps on window.sigmaPlayer (the origin's player page: the same but `ended`). */
export interface PlayerState {
  playing: boolean;
  /** Date.now() at the first 'playing' event (0 before). */
  startedAt: number;
  ended: boolean;
  /** Player errors; `fatal` for hls.js's fatal and Shaka's CRITICAL ones. */
  errors: { type: string; details: string; fatal: boolean; reason?: string }[];
  /** Wall clock − PROGRAM-DATE-TIME of the playhead, s, every 250 ms while playing. */
  latencies: number[];
}

/**
 * A blank page of the origin (same origin as the stream: no CORS, the canvas of a burned-clock
 * reader stays readable) with one muted <video>, `script` loaded, and window.sigmaPlayer
 * (PlayerState) kept from the video's events, window.sigmaStalls (watchStalls); PDT latency is
 * sampled from window.sigmaPdt(), which the player code sets.
 */
async function playerPage(page: Page, originUrl: string, script: string): Promise<void> {
  await page.goto(`${originUrl}/healthz`);
  await page.setContent('<video muted autoplay playsinline></video>');
  await page.addScriptTag({ path: require.resolve(script) });
  // Stalls are counted by the origin's own stall monitor (a freeze still going on included).
  await watchStalls(page);
  await page.evaluate(() => {
    const w = window as any;
    const video = document.querySelector('video')!;
    const state = { playing: false, startedAt: 0, ended: false, errors: [], latencies: [] as number[] };
    w.sigmaPlayer = state;
    video.addEventListener('playing', () => {
      state.playing = true;
      state.startedAt ||= Date.now();
    });
    video.addEventListener('ended', () => { state.ended = true; });
    setInterval(() => {
      const pdt: number | null | undefined = w.sigmaPdt?.();
      if (pdt && !video.paused) state.latencies.push((Date.now() - pdt) / 1000);
    }, 250);
  });
}

/**
 * Plays url with hls.js (`config` over its defaults; stock when omitted) in a page of the origin,
 * exposing the same hooks as the origin's player page: window.sigmaHls (the Hls instance),
 * window.sigmaPlayer (PlayerState) and the one <video>; shown fragments are tracked from the
 * first. `beforeLoad` runs once the <video> exists, before any media (e.g. startClockReader).
 */
export async function playWithHlsJs(page: Page, originUrl: string, url: string,
  o: { config?: Record<string, unknown>; beforeLoad?: () => Promise<void> } = {}): Promise<void> {
  await playerPage(page, originUrl, 'hls.js/dist/hls.min.js');
  await page.evaluate((config) => {
    const w = window as any;
    const video = document.querySelector('video')!;
    const hls = new w.Hls(config);
    w.sigmaHls = hls;
    w.sigmaPdt = () => hls.playingDate?.getTime() ?? null;
    // A fatal error keeps hls.js's own words (levelParsingError alone did not say which rule the playlist broke).
    hls.on(w.Hls.Events.ERROR, (_: unknown, d: any) => w.sigmaPlayer.errors.push({ type: d.type, details: d.details, fatal: d.fatal,
      ...(d.fatal ? { reason: String(d.error?.message ?? d.reason ?? '').slice(0, 300) } : {}) }));
    hls.on(w.Hls.Events.MANIFEST_PARSED, () => { video.play().catch(() => undefined); });
  }, o.config ?? {});
  await trackShownFragments(page);
  await o.beforeLoad?.();
  await page.evaluate((src) => {
    const w = window as any;
    w.sigmaHls.loadSource(src);
    w.sigmaHls.attachMedia(document.querySelector('video'));
  }, url);
}

/**
 * Plays url with Shaka Player in its low-latency mode (`streaming.lowLatencyMode`, Shaka's
 * stock settings otherwise) in a page of the origin: window.sigmaShaka (the Player),
 * window.sigmaPlayer (PlayerState, PDT from getPlayheadTimeAsDate), the one <video>.
 * `beforeLoad` as for playWithHlsJs.
 */
export async function playWithShaka(page: Page, originUrl: string, url: string, o: { beforeLoad?: () => Promise<void> } = {}): Promise<void> {
  await playerPage(page, originUrl, 'shaka-player/dist/shaka-player.compiled.debug.js');
  await o.beforeLoad?.();
  await page.evaluate(async (src) => {
    const w = window as any;
    const video = document.querySelector('video')!;
    w.shaka.polyfill.installAll();
    const player = new w.shaka.Player();
    w.sigmaShaka = player;
    await player.attach(video);
    player.configure({ streaming: { lowLatencyMode: true } });
    // detail is a shaka.util.Error (category, code, severity), but not always: Shaka also
    // dispatches errors it did not make itself (a TypeError thrown in its own code): those are
    // named with the function they were thrown in (the debug build keeps the names).
    const thrownIn = (err: any) => /\n\s+at (\S+)/.exec(String(err?.stack ?? ''))?.[1];
    player.addEventListener('error', (e: any) => w.sigmaPlayer.errors.push({
      type: `category ${e.detail?.category}`,
      details: e.detail?.code !== undefined ? String(e.detail.code)
        : `${e.detail?.message ?? e.detail}${thrownIn(e.detail) ? ` in ${thrownIn(e.detail)}` : ''}`,
      fatal: e.detail?.severity === w.shaka.util.Error.Severity.CRITICAL,
    }));
    w.sigmaPdt = () => (video.paused ? null : player.getPlayheadTimeAsDate()?.getTime() ?? null);
    await player.load(src);
    await video.play().catch(() => undefined);
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
