import t, { type Test } from 'tap';
import { once } from 'node:events';
import { startOrigin, waitUntil, type RunningOrigin } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { launchChromium, median } from '../helpers/browser.js';
import { parseM3u8 } from '../helpers/m3u8.js';
import {
  playedUntil, playWithHlsJs, playWithShaka, seekTo, segmentMsn, snapshot, stallReport, stallsBetween, trackShownFragments, ULTRA_LOW_LATENCY,
  watchedPage, type PlayerState, type WatchedPage,
} from '../helpers/player-probe.js';

/**
 * "Does not stall" as a viewer sees it: time the picture stood still while playing
 * (src/delivery/stall-monitor.ts: from a 'waiting' to its 'playing', or currentTime stuck for a
 * second, a freeze still going on when the watch ends included). Players at sub-second latency
 * keep a buffer of a few hundred ms, so a busy 2-core CI machine can make them pause for a frame
 * (a 'waiting' event of a few ms, invisible); a real stall is a visible freeze, and a quarter
 * of a second of them over the watch fails the test. The count is logged.
 */
const STALL_BUDGET_MS = 250;
/**
 * Shaka sits closer to the live edge (0.6 s against hls.js's 0.9-1.0 s) with less buffer, and
 * one pause of about half a second under a loaded CI run was seen (534 ms, with the other test
 * file running beside it); a second of freeze over the watch fails it.
 */
const SHAKA_STALL_BUDGET_MS = 1000;

// Every browser scenario runs from one file (browsers.test.ts), one after the other: two browsers and two
// encoders at once on a 2-core CI machine measure the machine, not the origin.

/** The test pattern every scenario publishes: 640x360 at 30 fps, a keyframe a second. */
const LIVE_SOURCE = { fps: 30, gop: 30, width: 640, height: 360 };

/**
 * An origin with ffmpeg publishing the demo channel in real time, and a Chromium page that
 * records page errors and failed (≥ 400) requests; everything is closed at the test's end.
 */
async function liveDemoInBrowser(t: Test) {
  const o = await startOrigin();
  t.teardown(() => o.close());
  const pub = startPublisher(o.rtmp('demo-key-123'), LIVE_SOURCE);
  t.teardown(() => stopPublisher(pub));
  await waitUntil(async () => (await fetch(`${o.http}/live/demo/index.m3u8`)).status === 200, 20_000, 'the stream');
  const { page, pageErrors, failed } = await browserFor(t, o);
  return { o, page, pageErrors, failed };
}

/** Chromium with one page watched for page errors and failed requests, closed at the test's end. */
async function browserFor(t: Test, o: RunningOrigin): Promise<WatchedPage> {
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  return watchedPage(browser, o.http);
}

/**
 * What a viewer sees: hls.js in headless Chromium plays the ultra-low channel from the
 * origin's own player page while ffmpeg publishes in real time. Latency is wall clock minus
 * the PROGRAM-DATE-TIME of the frame on screen, which the origin stamps at ingest.
 */
t.test('hls.js in Chromium plays the ultra-low channel with low latency and no stall', async (t) => {
  const { o, page, pageErrors: consoleErrors, failed } = await liveDemoInBrowser(t);
  await page.goto(`${o.http}/player/demo`);
  await page.waitForFunction(() => (window as any).sigmaPlayer?.playing === true, undefined, { timeout: 20_000 });
  const atStart = await stallReport(page);
  // Watch for a while: latency samples every 250 ms.
  await new Promise((r) => setTimeout(r, 15_000));
  const state = await page.evaluate(() => (window as any).sigmaPlayer as PlayerState);
  const stalled = stallsBetween(atStart, await stallReport(page));
  const latencies = state.latencies.slice(8); // skip the first two seconds while hls.js settles
  const med = median(latencies), max = Math.max(...latencies);
  // hls.js aims at PART-HOLD-BACK and adds 1 s (liveSyncOnStallIncrease) after each stall of its own: a
  // latency above target after a stall on a loaded machine shows here.
  const target = await page.evaluate(() => (window as any).sigmaHls.targetLatency as number);
  t.comment(`latency median ${med.toFixed(2)} s over ${latencies.length} samples, max ${max.toFixed(2)} s; hls.js target latency ${target.toFixed(2)} s`);
  t.same(consoleErrors, [], 'no page errors');
  t.same(failed, [], 'no failed request');
  t.same(state.errors.filter((e) => e.fatal), [], 'no fatal hls.js error');
  t.ok(latencies.length > 40, 'playback went on');
  t.comment(`hls.js stalls while playing: ${stalled.stalls}, ${stalled.stalledMs.toFixed(0)} ms in all${stalled.stalledAtEnd ? ', one still going on at the end' : ''}`);
  t.ok(stalled.stalledMs < STALL_BUDGET_MS, `stalled ${stalled.stalledMs.toFixed(0)} ms of 15 s (< ${STALL_BUDGET_MS} ms)`);
  t.ok(med > 0 && med <= ULTRA_LOW_LATENCY.medianSec, `glass-to-glass latency median ${med.toFixed(2)} s ≤ ${ULTRA_LOW_LATENCY.medianSec} s`);
  t.ok(max <= ULTRA_LOW_LATENCY.maxSec, `glass-to-glass latency max ${max.toFixed(2)} s ≤ ${ULTRA_LOW_LATENCY.maxSec} s`);
  const shot = await page.screenshot({ path: process.env.SCREENSHOT ?? undefined });
  t.ok(shot.length > 1000, 'the page renders');
});

/**
 * A second player on the same stream: Shaka Player in its low-latency mode reads PART-HOLD-BACK
 * as required, follows preload hints and sends _HLS_skip on every update (docs/llhls-checklist.md SH-01…05),
 * so it exercises paths hls.js does not.
 */
t.test('Shaka Player (low-latency mode) plays the ultra-low channel in Chromium', async (t) => {
  const { o, page, pageErrors, failed } = await liveDemoInBrowser(t);
  await playWithShaka(page, o.http, `${o.http}/live/demo/index.m3u8`);
  await page.waitForFunction(() => (window as any).sigmaPlayer.playing === true, undefined, { timeout: 20_000 });
  const atStart = await stallReport(page);
  await new Promise((r) => setTimeout(r, 12_000));
  const state = await page.evaluate(() => (window as any).sigmaPlayer as PlayerState);
  const stalled = stallsBetween(atStart, await stallReport(page));
  const latencies = state.latencies.slice(8); // skip the first two seconds while Shaka settles
  const med = median(latencies), max = Math.max(...latencies);
  t.comment(`Shaka latency median ${med.toFixed(2)} s over ${latencies.length} samples, max ${max.toFixed(2)} s`);
  t.same(pageErrors, [], 'no page errors');
  t.same(failed, [], 'no failed request');
  t.same(state.errors, [], 'no Shaka error');
  t.ok(latencies.length > 30, 'playback went on');
  t.comment(`Shaka stalls while playing: ${stalled.stalls}, ${stalled.stalledMs.toFixed(0)} ms in all${stalled.stalledAtEnd ? ', one still going on at the end' : ''}`);
  t.ok(stalled.stalledMs < SHAKA_STALL_BUDGET_MS, `stalled ${stalled.stalledMs.toFixed(0)} ms of 12 s (< ${SHAKA_STALL_BUDGET_MS} ms)`);
  t.ok(med > 0 && med <= ULTRA_LOW_LATENCY.medianSec, `latency median ${med.toFixed(2)} s ≤ ${ULTRA_LOW_LATENCY.medianSec} s`);
  t.ok(max <= ULTRA_LOW_LATENCY.maxSec, `latency max ${max.toFixed(2)} s ≤ ${ULTRA_LOW_LATENCY.maxSec} s`);
});

/**
 * DVR: the live playlist lists up to 120 s while only the last 6 s keep their bytes in RAM. hls.js
 * on the origin's player page joins at the live edge after ~20 s of stream, so 16 s back is media
 * it never loaded: seeking there must fetch segments the origin serves from the archive on disk,
 * and the picture shown must be from 16 s ago.
 */
t.test('hls.js seeks 16 s back into the DVR window (segments from disk) and plays from there', async (t) => {
  const o = await startOrigin({
    latencyModes: { 'ultra-low': { segmentTargetSec: 1, partTargetSec: 0.2, playlistWindowSec: 6 } },
    channels: [{ id: 'demo', streamKey: 'demo-key-123', latencyMode: 'ultra-low', dvrWindowSec: 120 }],
  });
  t.teardown(() => o.close());
  const pub = startPublisher(o.rtmp('demo-key-123'), LIVE_SOURCE);
  t.teardown(() => stopPublisher(pub));
  const liveWindow = () => o.origin.channels.get('demo')!.rendition()?.window;
  const listedMs = () => liveWindow()?.segments.reduce((sum, s) => sum + s.durationMs, 0) ?? 0;
  await waitUntil(() => listedMs() >= 20_000, 45_000, '20 s of stream in the live playlist');
  const { page, pageErrors, failed } = await browserFor(t, o);
  // Where each whole segment hls.js asks for lives when it asks: RAM (hot edge) or only on disk.
  const asked: { msn: number; inRam: boolean; onDisk: boolean; at: number }[] = [];
  page.on('request', (r) => {
    const msn = segmentMsn(r.url());
    if (msn === undefined) return;
    const seg = liveWindow()?.segment(msn);
    asked.push({ msn, inRam: (seg?.parts.length ?? 0) > 0, onDisk: seg?.archive === 'stored', at: Date.now() });
  });
  await page.goto(`${o.http}/player/demo`);
  await page.waitForFunction(() => (window as any).sigmaPlayer?.playing === true, undefined, { timeout: 20_000 });
  await trackShownFragments(page);
  await new Promise((r) => setTimeout(r, 1000));
  const live = await snapshot(page);
  t.ok(live.seekable && live.playingDate, 'playing live, with a seekable range and a playing date');
  const [windowStart, edge] = live.seekable!;
  const liveLatency = (live.at - live.playingDate!) / 1000;
  const target = edge - 16;
  t.comment(`live: seekable ${windowStart.toFixed(1)}–${edge.toFixed(1)} s, position ${live.currentTime.toFixed(1)} s, latency ${liveLatency.toFixed(2)} s; seeking to ${target.toFixed(1)} s`);
  t.ok(windowStart <= target, `the DVR window reaches 16 s behind the live edge (starts ${(edge - windowStart).toFixed(1)} s back)`);

  const seekStart = Date.now();
  const seeked = await seekTo(page, target);
  t.ok(Math.abs(seeked.currentTime - target) < 1, `the seek landed at ${seeked.currentTime.toFixed(2)} s (asked ${target.toFixed(2)} s)`);
  await playedUntil(page, seeked.currentTime + 3, 15_000);
  const after = await snapshot(page);
  const played = after.currentTime - seeked.currentTime;
  const behind = (after.at - after.playingDate!) / 1000;
  t.comment(`after the seek: played ${played.toFixed(2)} s in ${((after.at - seeked.at) / 1000).toFixed(2)} s, showing frames ${behind.toFixed(2)} s behind wall clock, ${(after.seekable![1] - after.currentTime).toFixed(1)} s behind the live edge`);
  t.ok(played >= 3, `playback went on ≥ 3 s after the seek (${played.toFixed(2)} s)`);
  t.ok(behind >= 15 && behind <= 16 + liveLatency + 10, `the frame on screen is from ${behind.toFixed(2)} s ago (16 s back + live latency ${liveLatency.toFixed(2)} s, + time the seek took)`);

  // The fragments shown since the seek (those at the new position) came from disk: no parts in RAM, an archived file.
  const shown = after.shown.filter((f) => f.at >= seekStart && f.start >= seeked.currentTime - 2 && f.start <= after.currentTime);
  t.ok(shown.length > 0, `hls.js showed fragments after the seek: ${shown.map((f) => f.sn).join(' ')}`);
  const sinceSeek = asked.filter((a) => a.at >= seekStart);
  const fromDisk = sinceSeek.filter((a) => !a.inRam && a.onDisk).map((a) => a.msn);
  t.comment(`whole segments requested since the seek, served from disk: ${fromDisk.join(' ')}; from RAM: ${sinceSeek.filter((a) => a.inRam).map((a) => a.msn).join(' ')}`);
  for (const f of shown) {
    const seg = liveWindow()!.segment(f.sn);
    t.ok(seg && seg.parts.length === 0 && seg.archive === 'stored', `segment ${f.sn} shown after the seek has no parts in RAM and an archived file`);
    t.ok(fromDisk.includes(f.sn), `segment ${f.sn} was requested while only on disk`);
    t.ok(Math.abs((f.pdt ?? NaN) - (seg?.programDateTimeMs ?? NaN)) < 1, `hls.js maps segment ${f.sn} to the origin's PROGRAM-DATE-TIME`);
  }
  t.same(after.errors.filter((e) => e.fatal), [], 'no fatal hls.js error');
  t.same(pageErrors, [], 'no page errors');
  t.same(failed, [], 'no failed request');
});

/**
 * Catchup across two publish sessions with a gap: the archive's VOD playlist for a range over
 * both is valid (m3u8-parser), says where the gap is, and hls.js plays it from the start, seeks
 * across the discontinuity into the second session and plays to the end.
 */
t.test('catchup over two sessions and a gap: a valid VOD playlist hls.js plays across the discontinuity', async (t) => {
  const o = await startOrigin({ reconnectWindowSec: 1 });
  t.teardown(() => o.close());
  const channel = o.origin.channels.get('demo')!;
  const publish = async (sec: number) => {
    const pub = startPublisher(o.rtmp('demo-key-123'), { ...LIVE_SOURCE, durationSec: sec });
    t.teardown(() => stopPublisher(pub));
    const [code] = await once(pub, 'exit');
    t.equal(code, 0, `ffmpeg published ${sec} s and exited 0`, { stderr: pub.stderrText() });
  };
  await publish(8);
  const gapFrom = Date.now();
  await waitUntil(() => channel.state === 'ended', 10_000, 'the first playlist to end (reconnect window 1 s)');
  await new Promise((r) => setTimeout(r, Math.max(0, 4000 - (Date.now() - gapFrom))));
  await publish(8);
  const sessions = await waitUntil(async () => {
    const j = await (await fetch(`${o.http}/live/demo/archive/sessions.json`)).json() as { sessions: { startedAt: string; endedAt: string | null; live: boolean }[] };
    return channel.state === 'ended' && j.sessions.length === 2 && j.sessions.every((s) => s.endedAt !== null) && j.sessions;
  }, 10_000, 'two ended sessions in sessions.json');
  const [s1, s2] = sessions.map((s) => ({ start: Date.parse(s.startedAt), end: Date.parse(s.endedAt!) }));
  t.comment(`sessions: ${sessions.map((s) => `${s.startedAt}–${s.endedAt}`).join(', ')}; gap ${((s2.start - s1.end) / 1000).toFixed(2)} s`);
  t.ok(s2.start - s1.end >= 3000, 'the sessions are apart by the gap');

  // From in ISO 8601 basic, to in epoch seconds: both spellings of a point in time.
  const from = new Date(s1.start).toISOString().slice(0, 19).replace(/[-:]/g, '') + 'Z';
  const path = `/live/demo/archive/${from}-${Math.ceil(s2.end / 1000)}.m3u8`;
  const res = await fetch(`${o.http}${path}`);
  t.equal(res.status, 200, `GET ${path}`);
  const { manifest, warnings } = parseM3u8(await res.text());
  t.same(warnings, [], 'm3u8-parser: no warnings');
  t.equal(manifest.playlistType, 'VOD', 'PLAYLIST-TYPE VOD (the range is closed)');
  t.equal(manifest.endList, true, 'ENDLIST');
  const segs = manifest.segments as { duration: number; uri: string; dateTimeString?: string; discontinuity?: boolean; map?: { uri: string } }[];
  t.ok(segs.every((s) => s.dateTimeString !== undefined), 'PROGRAM-DATE-TIME on every segment');
  const pdt = segs.map((s) => Date.parse(s.dateTimeString!));
  const split = pdt.findIndex((p) => p >= s2.start);
  if (!t.ok(split > 0, `segments of both sessions (${split} + ${segs.length - split})`)) return;
  t.same(segs.flatMap((s, i) => (s.discontinuity ? [i] : [])), [split], 'one discontinuity, at the first segment of the second session');
  t.equal(new Set(segs.map((s) => s.map?.uri)).size, 2, 'two MAPs (one init per session)');
  t.ok(segs[split].map?.uri !== segs[split - 1].map?.uri, 'the second MAP comes with the discontinuity');
  const jumps = pdt.slice(1).map((p, i) => p - (pdt[i] + segs[i].duration * 1000));
  t.ok(jumps.every((j, i) => (i + 1 === split ? j >= 3000 : Math.abs(j) < 50)),
    `PROGRAM-DATE-TIME is continuous within a session and jumps over the gap (${jumps.map((j) => j.toFixed(0)).join(' ')} ms)`);
  const sum = (xs: { duration: number }[]) => xs.reduce((a, s) => a + s.duration, 0);
  const firstDur = sum(segs.slice(0, split)), secondDur = sum(segs.slice(split)), total = firstDur + secondDur;
  t.comment(`catchup playlist: ${segs.length} segments, ${firstDur.toFixed(2)} s + ${secondDur.toFixed(2)} s`);
  t.ok(firstDur >= 6 && firstDur <= 8.5 && secondDur >= 6 && secondDur <= 8.5, 'each session holds its ~8 s of media');

  const { page, pageErrors, failed } = await browserFor(t, o);
  const started = Date.now();
  await playWithHlsJs(page, o.http, `${o.http}${path}`);
  await playedUntil(page, 1.5, 20_000);
  const first = await snapshot(page);
  t.equal(first.shown[0]?.sn, manifest.mediaSequence, 'hls.js starts with the first segment');
  const offsetAtStart = (first.playingDate! - pdt[0]) / 1000 - first.currentTime;
  t.ok(Math.abs(offsetAtStart) < 1, `the frame shown is the range's start + currentTime (off by ${offsetAtStart.toFixed(2)} s)`);

  const seekAcross = Date.now();
  const seeked = await seekTo(page, firstDur + 1);
  await playedUntil(page, seeked.currentTime + 1, 15_000);
  const second = await snapshot(page);
  const intoSecond = (second.playingDate! - pdt[split]) / 1000 - (second.currentTime - firstDur);
  t.ok(second.shown.some((f) => f.cc === 1 && f.at >= seekAcross), 'after the seek hls.js shows the second session (after the discontinuity)');
  t.ok(Math.abs(intoSecond) < 1, `the frame shown after the seek is from the second session at the right time (off by ${intoSecond.toFixed(2)} s)`);

  await page.waitForFunction(() => (window as any).sigmaPlayer.ended, undefined, { timeout: 20_000, polling: 100 });
  const end = await snapshot(page);
  t.comment(`played to the end at ${end.currentTime.toFixed(2)} s of ${total.toFixed(2)} s (${((Date.now() - started) / 1000).toFixed(1)} s in the browser)`);
  t.ok(Math.abs(end.currentTime - total) < 0.5, 'the ended event came at the playlist\'s end');
  t.same(end.errors.filter((e) => e.fatal), [], 'no fatal hls.js error');
  t.same(pageErrors, [], 'no page errors');
  t.same(failed, [], 'no failed request');
});
