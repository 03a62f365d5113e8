/**
 * End to end in every latency mode (issue 15, point 3), with glass to glass measured from a
 * clock ffmpeg burns into the picture (test/helpers/burned-clock.ts), so the encoder's delay is
 * in the number, which wall clock − PROGRAM-DATE-TIME (stamped at ingest) leaves out.
 *
 * - The page reader is checked first against ffmpeg's own decode of the same frames.
 * - ffmpeg publishes a live burned-clock stream to an ultra-low, a low and a normal channel,
 *   and hls.js with lowLatencyMode on, hls.js with it off (stock settings otherwise) and Shaka
 *   (stock low-latency config) play each in Chromium; alongside, a Node probe measures how long
 *   after its last frame each segment is listed.
 * - A publisher reconnect and a codec change (the publisher back with another resolution) while
 *   hls.js and Shaka play.
 *
 * The assertions are bounds generous enough for a busy 2-core CI machine (it plays, no fatal
 * error, latency below a bound); the measured figures are printed against the issue's targets.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOrigin, waitUntil, type RunningOrigin } from '../helpers/origin.js';
import { makeTestFile, startPublisher, stopPublisher, type TestSourceOptions } from '../helpers/ffmpeg.js';
import { launchChromium, median, percentile } from '../helpers/browser.js';
import { presentedFrames, readClockFrames, startClockReader } from '../helpers/burned-clock.js';
import { listingAgainstArrivals, probeListing, recordKeyframeArrivals, type KeyframeArrival, type ListedSegment, type ListingProbe } from '../helpers/listing-probe.js';
import type { PlayerState } from '../helpers/player-probe.js';
import { openViewer, PLAYER_NAMES, untilPlaying, untilShowsFrameSince, watchFor, type PlayerName, type Viewer, type Watch } from '../helpers/latency-watch.js';

/** 640x360 at 30 fps with the clock burned in; the GOP is set per mode. */
const SOURCE: TestSourceOptions = { width: 640, height: 360, fps: 30, burnedClock: true };
/** Time each player gets after its first 'playing' to reach its steady latency, then the watch. */
const SETTLE_MS = 3000;
const WATCH_MS = 15_000;

interface ModeCase {
  mode: 'ultra-low' | 'low' | 'normal';
  /** Keyframe interval in frames: 1 s for ultra-low and low, 2 s for normal (as README advises OBS users). */
  gop: number;
  segmentSec: number;
  /** Issue 15's glass-to-glass target, with stock hls.js (lowLatencyMode on, its default). */
  target: number;
  /** What the test asserts: far enough above today's figures not to flake on CI. */
  bound: Record<PlayerName, number>;
}

/**
 * A segment must be listed within 0.5 s of its last frame arriving (issue 15); CI's bound leaves
 * room for a loaded machine, and still fails a segment listed one part or segment late.
 */
const LISTING_BOUND_SEC = 1.0;

const MODES: ModeCase[] = [
  // Bounds: the measured figures (three players at once) with room for a loaded CI machine.
  { mode: 'ultra-low', gop: 30, segmentSec: 2, target: 1.2, bound: { 'hls.js LL': 2.5, 'hls.js non-LL': 8, 'Shaka LL': 2.5 } },
  { mode: 'low', gop: 30, segmentSec: 2, target: 6, bound: { 'hls.js LL': 11, 'hls.js non-LL': 11, 'Shaka LL': 12 } },
  { mode: 'normal', gop: 60, segmentSec: 6, target: 20, bound: { 'hls.js LL': 27, 'hls.js non-LL': 28, 'Shaka LL': 30 } },
];

const channelOf = (m: ModeCase) => ({ id: m.mode, streamKey: `key-${m.mode}-e2e`, latencyMode: m.mode });
const fmt = (x: number) => x.toFixed(2);

t.test('the page reader reads each frame\'s clock as ffmpeg decodes it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-clock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const clip = join(dir, 'clip.mp4');
  await makeTestFile(clip, { ...SOURCE, durationSec: 4, audio: false });
  const decoded = await readClockFrames(['-i', clip], SOURCE.width!);
  t.ok(decoded.length === 120 && decoded.every((f) => f.code !== null), 'ffmpeg decodes all 120 frames with a clock');

  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  // One made-up origin for the page and the clip: a same-origin video leaves the canvas readable.
  await page.route('http://clock.test/**', (r) => (r.request().url().endsWith('.mp4')
    ? r.fulfill({ status: 200, contentType: 'video/mp4', body: readFileSync(clip) })
    : r.fulfill({ status: 200, contentType: 'text/html', body: '<video muted playsinline></video>' })));
  await page.goto('http://clock.test/');
  await startClockReader(page);
  await page.evaluate(() => { const v = document.querySelector('video')!; v.src = '/clip.mp4'; return v.play(); });
  await page.waitForFunction(() => document.querySelector('video')!.ended, undefined, { timeout: 20_000 });
  const seen = await presentedFrames(page);
  let exact = 0;
  const wrong: string[] = [];
  for (const f of seen.frames) {
    const i = Math.round(f.mediaTime * SOURCE.fps!);
    if (decoded[i]?.code === f.code) exact++;
    else wrong.push(`frame ${i}: page ${f.code}, ffmpeg ${decoded[i]?.code}`);
  }
  const ahead = seen.frames.map((f) => f.displayAheadMs);
  t.comment(`page reader: ${seen.presented} frames presented, ${exact} read as ffmpeg decodes them, ${seen.misreads} misreads, ${wrong.length} wrong; ` +
    `each read ${fmt(median(ahead))} ms (median) before the frame's expected display time`);
  t.same(wrong, [], 'no frame read differently from ffmpeg');
  t.equal(seen.misreads, 0, 'no misread');
  t.ok(seen.presented >= 100, `the page presented ${seen.presented} of 120 frames`);
});

t.test('glass to glass and segment listing in every latency mode, with hls.js (LL on and off) and Shaka', async (t) => {
  const o = await startOrigin({ channels: MODES.map(channelOf) });
  t.teardown(() => o.close());
  // Every channel is published from the start: by the time the low and normal cases run, their
  // playlists hold enough segments for any player to start at once.
  const publishers = new Map(MODES.map((m) => [m.mode, startPublisher(o.rtmp(channelOf(m).streamKey), { ...SOURCE, gop: m.gop })]));
  t.teardown(() => Promise.all([...publishers.values()].map(stopPublisher)));
  const probes = new Map<string, ListingProbe>(MODES.map((m) => [m.mode, probeListing(`${o.http}/live/${m.mode}/source.m3u8`)]));
  const arrivals = new Map(MODES.map((m) => [m.mode, recordKeyframeArrivals(o.origin.channels.get(m.mode)!)]));
  t.teardown(() => Promise.all([...probes.values()].map((p) => p.stop())));
  const browser = await launchChromium();
  t.teardown(() => browser.close());

  const lines: string[] = [];
  for (const m of MODES) {
    await t.test(`${m.mode}: ${SOURCE.width}x${SOURCE.height}, GOP ${m.gop / SOURCE.fps!} s`, async (t) => {
      await waitUntil(async () => (await fetch(`${o.http}/live/${m.mode}/index.m3u8`)).status === 200, 30_000, `the ${m.mode} stream`);
      // The three players side by side, each in its own page: one 15-s watch per mode.
      const viewers = await Promise.all(PLAYER_NAMES.map((p) => openViewer(browser, o.http, `${o.http}/live/${m.mode}/index.m3u8`, p)));
      t.teardown(() => Promise.all(viewers.map((v) => v.close())));
      const startup = await Promise.all(viewers.map((v) => untilPlaying(v, 60_000).catch(() => NaN)));
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const watches = await Promise.all(viewers.map((v) => watchFor(v, WATCH_MS)));
      // This mode is done: less load on the next cases. The probe stops first: ending the stream
      // closes its last segment early, which would be listed at once.
      const listed = await probes.get(m.mode)!.stop();
      await stopPublisher(publishers.get(m.mode)!);
      viewers.forEach((v, i) => {
        lines.push(reportPlayer(t, m, v, watches[i], startup[i]));
      });
      lines.push(reportListing(t, m, listed, arrivals.get(m.mode)!, probes.get(m.mode)!));
    });
  }
  t.comment(`glass to glass (burned clock) and wall clock − PDT, ${WATCH_MS / 1000} s per player after ${SETTLE_MS / 1000} s settling, 3 players at once per mode:\n${lines.join('\n')}`);
});

/** Asserts one player's watch and returns its line for the summary. */
function reportPlayer(t: Test, m: ModeCase, v: Viewer, w: Watch, startupMs: number): string {
  const name = `${m.mode} ${v.player}`;
  const med = median(w.glass), p95 = percentile(w.glass, 95);
  const expectedFrames = (WATCH_MS / 1000) * SOURCE.fps!;
  t.ok(Number.isFinite(startupMs), `${name}: plays (after ${fmt(startupMs / 1000)} s)`);
  t.same(w.errors.filter((e) => e.fatal), [], `${name}: no fatal player error`);
  t.same(v.pageErrors, [], `${name}: no page error`);
  t.ok(w.glass.length >= expectedFrames / 2, `${name}: ${w.glass.length} frames read over ${WATCH_MS / 1000} s (playback goes on)`);
  t.ok(w.misreads <= Math.max(3, w.presented * 0.05), `${name}: ${w.misreads} of ${w.presented} frames' clocks unreadable`);
  t.ok(med > 0 && med < m.bound[v.player], `${name}: glass-to-glass median ${fmt(med)} s < ${m.bound[v.player]} s`);
  const verdict = ` (target ≤ ${m.target} s: ${med <= m.target ? 'met' : 'NOT met'})`;
  return `  ${m.mode.padEnd(9)} ${v.player.padEnd(13)} glass median ${fmt(med)} s, p95 ${fmt(p95)} s; ` +
    `PDT median ${fmt(median(w.pdt))} s; startup ${fmt(startupMs / 1000)} s; stalls ${w.stalls} (${w.stalledMs.toFixed(0)} ms); ` +
    `${w.glass.length} frames, ${w.misreads} misreads; errors ${w.errors.length}${verdict}`;
}

/**
 * Asserts the listing delays of one mode and returns their line for the summary. Each segment is
 * measured from the arrival of the keyframe that ends it (what issue 15 asks: listed within 0.5 s
 * of its last frame arriving); how far behind real time the publisher was at that keyframe
 * (arrival − PDT − EXTINF) is printed beside it. Three burned-clock encoders and three players
 * share two cores here, and an encoder that falls a second behind is not the origin's delay.
 */
function reportListing(t: Test, m: ModeCase, listed: ListedSegment[], arrivals: KeyframeArrival[], probe: ListingProbe): string {
  const measured = listingAgainstArrivals(listed, arrivals);
  const d = measured.map((s) => s.originDelayMs / 1000);
  const lag = measured.map((s) => s.publisherLagMs / 1000);
  const bound = LISTING_BOUND_SEC;
  t.ok(listed.length >= 3, `${m.mode}: ${listed.length} segments seen listed`);
  t.ok(measured.length >= listed.length - 1, `${m.mode}: ${measured.length} of ${listed.length} listed segments paired with the keyframe that ends them`);
  // A little negative is possible: the probe's clock reading and the ingest's are a few ms apart.
  t.ok(d.every((x) => x > -0.1 && x < bound), `${m.mode}: each segment listed less than ${bound} s after the keyframe that ends it arrived (${d.map(fmt).join(' ')})`);
  return `  ${m.mode.padEnd(9)} listing delay (closing keyframe's arrival → first listed, polled every ${probe.intervalMs} ms): median ${fmt(median(d))} s, ` +
    `max ${fmt(Math.max(...d))} s over ${d.length} segments; ${probe.errors.length} failed polls (target ≤ 0.5 s: ${Math.max(...d) <= 0.5 ? 'met' : 'NOT met'}); ` +
    `publisher behind real time at those keyframes: median ${fmt(median(lag))} s, max ${fmt(Math.max(...lag))} s`;
}

/**
 * Shaka 5.2 (Chromium 156) on a codec change. Before, the origin answered Shaka's held
 * preload-hint request with the first part of the new session, which Shaka appended with the old
 * init (garbage picture, or a stuck one after TypeErrors of its own). The origin now treats that
 * hint as abandoned (PHS-04: 404) when the new session's init differs, and the playlist shows the
 * part after EXT-X-DISCONTINUITY and the new EXT-X-MAP, as §4.4.5.3 allows; Shaka then raises
 * HTTP error 1001 as fatal instead of following the playlist. Most of its stall after the codec
 * change is SHAKA_AFTER_GAP below: it is the second restart, and the gaps add up past it (two
 * same-stream reconnects in a row fail the same way, without any 404). A reconnect with the same
 * configuration keeps its init bytes and its hinted part is served. hls.js, which does not fetch
 * hints, shows the new frames within a second in both cases.
 */
const SHAKA_CODEC_CHANGE = 'known: Shaka fails on the abandoned preload hint at a codec change (see SHAKA_CODEC_CHANGE in latency-modes.ts)';

/**
 * Shaka 5.2 after a publisher gap. Shaka's live edge runs on the wall clock from the load (its
 * HLS timeline locks its start and does not correct drift), while a playlist has no media for
 * the time the publisher was away: after the gap the live edge is ahead of the last listed media
 * by about the gap. Its availability window is the listed media's span, so its start lands past
 * the earliest segment; each playlist update evicts one more segment from Shaka's index (the span
 * shrinks by it, the start moves up by it) until the index is empty. Then every update throws
 * "Cannot read properties of null (reading 'next')" in HlsParser.setProgramDateTimeRegionsFromIndex_
 * (a for-of over the empty SegmentIndex, whose [Symbol.iterator] returns null), a recoverable
 * error, and no new segment reaches the player: a stall of 3-6 s, or for good. The origin's
 * playlist is the same either way (EXT-X-DISCONTINUITY, new EXT-X-MAP, PROGRAM-DATE-TIME jumping
 * by the gap, MSNs going on); what matters is how long the publisher was away, summed over the
 * restarts since Shaka loaded. Here, with ffmpeg stopped 1 s (the playlist shows it away about
 * 1.2 s) the first reconnect played through in 20 of 20 runs; stopped 3 s (away 3.2 s) it failed
 * 3 of 3, and a second 1-s restart of the same stream failed 2 of 2. On a loaded CI machine the
 * restart takes longer, and the first reconnect crossed it once (a 4.2-s stall). Recorded as a
 * todo only when that very error was seen: any other failure of Shaka here still fails.
 */
const SHAKA_AFTER_GAP = 'known: Shaka empties its segment index after a publisher gap longer than about a segment (see SHAKA_AFTER_GAP in latency-modes.ts)';
const shakaIndexEmptied = (errors: PlayerState['errors']) => errors.some((e) => e.details.includes('setProgramDateTimeRegionsFromIndex_'));

/** The publisher's absence the playlist shows at its last discontinuity: PDT after it − (PDT + EXTINF) before it, s. */
function gapAtLastDiscontinuity(playlist: string): number | undefined {
  const segs: { pdt: number; dur: number; disc: boolean }[] = [];
  let pdt = NaN, disc = false;
  for (const line of playlist.split('\n')) {
    if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pdt = Date.parse(line.slice(25));
    else if (line === '#EXT-X-DISCONTINUITY') disc = true;
    else if (line.startsWith('#EXTINF:')) { segs.push({ pdt, dur: parseFloat(line.slice(8)) * 1000, disc }); disc = false; }
  }
  let i = segs.length - 1;
  while (i > 0 && !segs[i].disc) i--;
  return i > 0 ? (segs[i].pdt - segs[i - 1].pdt - segs[i - 1].dur) / 1000 : undefined;
}

t.test('a publisher reconnect and a codec change while hls.js and Shaka play the ultra-low channel', async (t) => {
  const o: RunningOrigin = await startOrigin({ reconnectWindowSec: 10 });
  t.teardown(() => o.close());
  const key = 'demo-key-123', live = `${o.http}/live/demo/index.m3u8`;
  let pub = startPublisher(o.rtmp(key), { ...SOURCE, gop: 30 });
  t.teardown(() => stopPublisher(pub));
  await waitUntil(async () => (await fetch(live)).status === 200, 30_000, 'the stream');
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const viewers = await Promise.all((['hls.js LL', 'Shaka LL'] as const).map((p) => openViewer(browser, o.http, live, p)));
  await Promise.all(viewers.map((v) => untilPlaying(v, 30_000)));
  await new Promise((r) => setTimeout(r, SETTLE_MS));

  // Each step: stop ffmpeg, start it again a second later (within the reconnect window), and
  // wait for both players to show frames burned after the restart.
  const steps = [
    { what: 'reconnect (same stream)', source: SOURCE },
    { what: 'codec change (854x480)', source: { ...SOURCE, width: 854, height: 480 } },
  ];
  for (const step of steps) {
    await stopPublisher(pub);
    await new Promise((r) => setTimeout(r, 1000));
    const restartedAt = Date.now();
    pub = startPublisher(o.rtmp(key), { ...step.source, gop: 30 });
    const back = await Promise.all(viewers.map((v) => untilShowsFrameSince(v, restartedAt, { width: step.source.width, timeoutMs: 15_000 })
      .then((at) => (at - restartedAt) / 1000, () => NaN)));
    const after = await Promise.all(viewers.map((v) => watchFor(v, 6000)));
    const errors = await Promise.all(viewers.map((v) => v.page.evaluate(() => (window as any).sigmaPlayer.errors as PlayerState['errors'])));
    const gap = gapAtLastDiscontinuity(await (await fetch(`${o.http}/live/demo/source.m3u8`)).text());
    t.comment(`${step.what}: the playlist shows the publisher away ${gap?.toFixed(2)} s (PROGRAM-DATE-TIME across the discontinuity)`);
    viewers.forEach((v, i) => {
      const name = `${step.what}, ${v.player}`;
      const w = after[i];
      const known = v.player !== 'Shaka LL' ? {}
        : step === steps[1] ? { todo: SHAKA_CODEC_CHANGE }
          : shakaIndexEmptied(errors[i]) ? { todo: SHAKA_AFTER_GAP } : {};
      t.ok(Number.isFinite(back[i]), `${name}: frames of the new publisher (${step.source.width} px wide) on screen ${fmt(back[i])} s after it started`, known);
      t.same(errors[i].filter((e) => e.fatal), [], `${name}: no fatal player error so far`, known);
      t.ok(w.played > 4, `${name}: playback goes on (${fmt(w.played)} s played in 6 s)`, known);
      t.ok(w.glass.length >= 60, `${name}: ${w.glass.length} frames with a readable clock in 6 s (${w.misreads} unreadable)`, known);
      // Usually under 1 s again; once, on a loaded CI run, hls.js came back 6.3 s behind after the
      // codec change (new frames 6.6 s after the restart) and stayed there: the bound catches a
      // player that lost the live edge altogether.
      t.ok(median(w.glass) < 8, `${name}: glass to glass afterwards ${fmt(median(w.glass))} s (median) < 8 s`, known);
      t.comment(`${name}: new frames on screen ${fmt(back[i])} s after ffmpeg restarted; then glass median ${fmt(median(w.glass))} s, ` +
        `widths ${w.widths.join(',')}, stalls ${w.stalls} (${w.stalledMs.toFixed(0)} ms); errors so far: ${[...new Set(errors[i].map((e) => `${e.details}${e.fatal ? ' (fatal)' : ''}`))].join(', ') || 'none'}`);
    });
  }
  const playlist = await (await fetch(`${o.http}/live/demo/source.m3u8`)).text();
  const maps = new Set(playlist.match(/#EXT-X-MAP:URI="[^"]+"/g));
  t.ok((playlist.match(/#EXT-X-DISCONTINUITY\n/g)?.length ?? 0) >= 2 && maps.size >= 2,
    `the playlist shows both restarts: ${playlist.match(/#EXT-X-DISCONTINUITY\n/g)?.length ?? 0} discontinuities, ${maps.size} init segments`);
  t.same(viewers.flatMap((v) => v.pageErrors), [], 'no page errors');
});
