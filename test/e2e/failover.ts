/**
 * Backup inputs as a viewer sees them (issue 18): two real ffmpeg publishers on one channel, the
 * primary 640x360 with a red box under the burned clock, the backup 480x270 (or, for the players
 * that need it, the primary's twin) with a blue one; both burn the wall clock into each frame
 * (test/helpers/burned-clock.ts) and send a keyframe every half second. While a player watches,
 * the primary is killed (SIGKILL), restarted (auto failback after failbackAfterSec), stopped
 * while connected (SIGSTOP: the socket stays open, nothing comes) and resumed (SIGCONT, failback
 * again). For each of the four switches the page records every frame it presents
 * (requestVideoFrameCallback: when, its width, its marker's colour, its burned clock) and the
 * test measures the freeze on screen: from the last frame of the input going off air to the
 * first of the one coming on (less a frame interval), and the still picture in all from 0.5 s
 * before the switch to 2 s after (each gap between frames longer than two frame intervals); the
 * origin's stall monitor counts what the player reports.
 *
 * - hls.js (smaller backup) in Chromium, ultra-low: ≤ 1 s (the issue's bound); hls.js in low
 *   mode (smaller backup): ≤ 2 s; Shaka (twin backup), ultra-low: ≤ 2 s (SHAKA_BOUND_MS);
 * - ffmpeg (twin backup) reading the same live playlist through the same sequence to its end;
 * - beside the hls.js ultra-low run, a blocking-reload client checks the LL-HLS playlist at every
 *   update (test/helpers/part-continuity.ts): MSNs contiguous, no part once listed missing from
 *   its segment before the segment's parts leave the playlist as a whole.
 *
 * What the figures show (BENCHMARKS.md §11 measures them over 20 switches per mode): hls.js
 * places the new input right after the old one's EXTINF, so no media gap reaches the screen, but
 * the picture stands still twice. Before the first new frame, when the player (0.6-1 s behind
 * live) runs out of the old input before the origin has the new one's first part (its next
 * keyframe, up to 0.5 s, then a 0.2-s part). And about 0.45 s right after that frame: at the
 * switch the buffered media has a hole of 30-50 ms in its audio (the old input's audio ends
 * 13-32 ms before its video; the new input's first audio frame, the first at or after its
 * keyframe, 8-17 ms after it); hls.js reports bufferStalledError and bufferSeekOverHole at every
 * switch, and the still follows that seek. Shaka shows stills of the same size. Within the
 * bound, but visible; not fixed here (the two inputs' audio would have to meet at the switch).
 */
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Page } from 'playwright-core';
import { startOrigin, waitUntil, type RunningOrigin } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { launchChromium, median } from '../helpers/browser.js';
import { decodeClockStrip, latencyFromCode, startClockReader, stripHeight } from '../helpers/burned-clock.js';
import {
  markerOf, pageFrames, PUBLISHERS, startMarkerReader, switchesOnScreen, type BackupKind, type Frame, type Publisher, type Source, type SwitchAct,
} from '../helpers/input-marker.js';
import { playWithHlsJs, playWithShaka, stallReport, stallsBetween, watchedPage, type PlayerState, type WatchedPage } from '../helpers/player-probe.js';
import type { StallReport } from '../../src/delivery/stall-monitor.js';
import { PartContinuity } from '../helpers/part-continuity.js';

type Mode = 'ultra-low' | 'low';

const PRIMARY_KEY = 'fo-primary-key-0123', BACKUP_KEY = 'fo-backup-key-0123';

/** The issue's bound on the freeze a switch may cause, per mode (stated for hls.js). */
const FREEZE_BOUND_MS: Record<Mode, number> = { 'ultra-low': 1000, low: 2000 };
/**
 * Shaka 5.2's bound in ultra-low mode. Its still picture at a switch was 0.5-1.0 s on a quiet
 * machine and 1.0-1.5 s with CI's other work beside it (0.5 s of it Shaka's own back-off and
 * rebuffering, see isShakaHintError); the issue states its 1 s for hls.js, which keeps it.
 */
const SHAKA_BOUND_MS = 2000;

/** One of the four switches: the act, and the stall monitor's reports around it (pages only). */
interface Switch extends SwitchAct {
  stallsBefore?: StallReport;
  stallsAfter?: StallReport;
}

/** A viewer of the channel: a page with hls.js or Shaka, or ffmpeg. */
interface Viewer {
  name: string;
  frames(): Promise<Frame[]>;
  /** Resolves with the first frame of `source` presented at or after `since`. */
  firstFrame(source: Source, since: number, timeoutMs: number): Promise<Frame>;
  stalls?(): Promise<StallReport>;
  errors(): Promise<PlayerState['errors']>;
}

async function openPageViewer(t: Test, browser: Awaited<ReturnType<typeof launchChromium>>, o: RunningOrigin, player: 'hls.js' | 'Shaka'): Promise<Viewer & WatchedPage> {
  const w = await watchedPage(browser, o.http);
  t.teardown(() => w.page.close());
  const url = `${o.http}/live/fo/index.m3u8`;
  const beforeLoad = async () => {
    await startClockReader(w.page);
    await startMarkerReader(w.page);
  };
  if (player === 'hls.js') await playWithHlsJs(w.page, o.http, url, { beforeLoad });
  else await playWithShaka(w.page, o.http, url, { beforeLoad });
  return {
    ...w, name: player,
    frames: () => pageFrames(w.page),
    async firstFrame(source, since, timeoutMs) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const f = (await pageFrames(w.page)).find((x) => x.at >= since && x.source === source);
        if (f) return f;
        if (Date.now() > end) throw new Error(`${player}: no frame of the ${source} presented within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stalls: () => stallReport(w.page),
    errors: () => w.page.evaluate(() => [...(window as any).sigmaPlayer.errors] as PlayerState['errors']),
  };
}

// ---- ffmpeg as a player ----

/**
 * ffmpeg reading the live media playlist (its HLS demuxer: whole segments, from 3 segments
 * behind the end), every frame scaled to 640x360 (the filter graph is rebuilt at each change of
 * resolution) and the top 80 rows piped out as RGB: the clock strip (40 rows) and the marker
 * (the next 40).
 */
function startFfmpegViewer(url: string): Viewer & { proc: ChildProcess; exit: Promise<{ code: number | null; stderr: string }> } {
  const width = 640, strip = stripHeight(width), rows = 2 * strip, frameBytes = width * rows * 3;
  const proc = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', url,
    // passthrough: each decoded frame once (rawvideo's default, constant frame rate, repeats the
    // last frame across the timeline's gap at a failover).
    '-vf', `scale=${width}:360,crop=${width}:${rows}:0:0,format=rgb24`, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-flush_packets', '1', 'pipe:1'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  const frames: Frame[] = [];
  let pending: Buffer = Buffer.alloc(0), stderr = '';
  proc.stderr!.on('data', (d) => { stderr += d; });
  proc.stdout!.on('data', (d: Buffer) => {
    const at = Date.now();
    pending = pending.length ? Buffer.concat([pending, d]) : d;
    while (pending.length >= frameBytes) {
      const px = pending.subarray(0, frameBytes);
      const code = decodeClockStrip(px, width, 3);
      // The middle of the marker box: x 20…60, y 50…70 of the 640-wide frame.
      const rgb = [0, 0, 0];
      let n = 0;
      for (let y = strip + 10; y < strip + 30; y++) for (let x = 20; x < 60; x++, n++) for (let c = 0; c < 3; c++) rgb[c] += px[(y * width + x) * 3 + c];
      frames.push({ at, width, source: markerOf(rgb[0] / n, rgb[1] / n, rgb[2] / n), burned: code === null ? null : at - latencyFromCode(code, at) });
      pending = pending.subarray(frameBytes);
    }
  });
  const exit = once(proc, 'close').then(([code]) => ({ code: code as number | null, stderr }));
  return {
    name: 'ffmpeg', proc, exit,
    frames: async () => [...frames],
    async firstFrame(source, since, timeoutMs) {
      // ffmpeg gets whole segments, seconds after they were made: the frame is the first of
      // `source` burned after `since`.
      return waitUntil(() => frames.find((f) => f.source === source && f.burned !== null && f.burned >= since), timeoutMs, `ffmpeg: a frame of the ${source} burned after ${since}`);
    },
    errors: async () => (stderr.trim() ? [{ type: 'ffmpeg', details: stderr.trim().slice(0, 500), fatal: false }] : []),
  };
}

// ---- the origin, the two publishers and the sequence ----

interface Rig {
  o: RunningOrigin;
  publishers: Record<Source, Publisher>;
  primary: ChildProcess;
  backup: ChildProcess;
  active(): string | null;
  /** The origin's input.failover and input.restored events since the start, as `from→to (reason)`. */
  switches: string[];
}

/**
 * An origin with the channel fo (primary + backup1, failback after 2 s, no slate, the mode's
 * default stall time), the primary publishing and on air, then the backup, both healthy.
 */
async function startRig(t: Test, mode: Mode, backup: BackupKind): Promise<Rig> {
  const o = await startOrigin({
    srt: { enabled: false }, rtmp: { port: 0, host: '127.0.0.1', idleTimeoutSec: 30 },
    reconnectWindowSec: 2,
    channels: [{ id: 'fo', streamKey: PRIMARY_KEY, backupStreamKeys: [BACKUP_KEY], latencyMode: mode, failover: { failbackAfterSec: 2, slate: 'off' } }],
  });
  t.teardown(() => o.close());
  const inputs = () => o.origin.channels.get('fo')!.inputs.status();
  const publishers = PUBLISHERS[backup];
  const switches: string[] = [];
  o.origin.events.onAny((name, p: any) => {
    if (name === 'input.failover' || name === 'input.restored') switches.push(`${p.from}→${p.to ?? p.input} (${p.reason})`);
  });
  const rig: Rig = { o, publishers, primary: startPublisher(o.rtmp(PRIMARY_KEY), publishers.primary), backup: undefined as unknown as ChildProcess, active: () => inputs().active, switches };
  t.teardown(async () => {
    rig.primary.kill('SIGCONT'); // a stopped ffmpeg cannot take SIGINT
    await Promise.all([stopPublisher(rig.primary), rig.backup && stopPublisher(rig.backup)]);
  });
  await waitUntil(() => inputs().active === 'primary', 20_000, 'the primary on air');
  rig.backup = startPublisher(o.rtmp(BACKUP_KEY), publishers.backup);
  await waitUntil(() => inputs().inputs.filter((i) => i.healthy).length === 2, 20_000, 'both inputs healthy');
  await waitUntil(async () => (await fetch(`${o.http}/live/fo/source.m3u8`)).status === 200, 20_000, 'the playlist');
  return rig;
}

/** The origin's switches over the sequence, in order. */
const SEQUENCE_SWITCHES = ['primary→backup1 (disconnected)', 'backup1→primary (failback)', 'primary→backup1 (stalled)', 'backup1→primary (failback)'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Kill, restart (failback), SIGSTOP, SIGCONT (failback): each step waits until the origin has
 * switched and the viewer shows the input now on air, then watches a little longer.
 */
async function runSequence(rig: Rig, v: Viewer, o: { showTimeoutMs: number; afterMs: number }): Promise<Switch[]> {
  const switches: Switch[] = [];
  const step = async (what: string, from: Source, to: Source, act: () => void, origin: string) => {
    const sw: Switch = { what, from, to, at: Date.now(), stallsBefore: await v.stalls?.() };
    act();
    await waitUntil(() => rig.active() === origin, 20_000, `${origin} on air after ${what}`, 20);
    await v.firstFrame(to, sw.at, o.showTimeoutMs);
    await sleep(o.afterMs);
    sw.stallsAfter = await v.stalls?.();
    switches.push(sw);
  };
  await step('SIGKILL of the primary', 'primary', 'backup', () => rig.primary.kill('SIGKILL'), 'backup1');
  await step('failback to the restarted primary', 'backup', 'primary', () => { rig.primary = startPublisher(rig.o.rtmp(PRIMARY_KEY), rig.publishers.primary); }, 'primary');
  await step('SIGSTOP of the primary', 'primary', 'backup', () => rig.primary.kill('SIGSTOP'), 'backup1');
  await step('failback after SIGCONT', 'backup', 'primary', () => rig.primary.kill('SIGCONT'), 'primary');
  return switches;
}

const fmt = (ms: number | null) => (ms === null || !Number.isFinite(ms) ? '?' : `${Math.round(ms)} ms`);

const ORDER = SEQUENCE_SWITCHES.map((_, i) => (i % 2 === 0 ? 'primary→backup' : 'backup→primary'));

/**
 * Asserts what a page viewer showed across the switches (the screen changed input at each, and
 * only then; the first new frame is the new input's, by marker and width; each freeze within the
 * bound); returns a summary line per switch.
 */
/**
 * Shaka 5.2 and the preload hint abandoned when the input on air dies (SIGKILL: the part will
 * never exist, a 404 as RFC 8216bis §6.2.6 prescribes): on a single-variant channel it reports
 * HTTP error 1001 with severity CRITICAL, backs off, then resumes streaming by itself (its
 * default failureCallback for live). The back-off can add half a second of still picture at
 * that switch. So for Shaka, 1001 is not counted as fatal, and its bound is SHAKA_BOUND_MS.
 */
const isShakaHintError = (player: string, e: PlayerState['errors'][number]) => player === 'Shaka' && e.type === 'category 1' && e.details === '1001';

function assertSwitches(t: Test, name: string, frames: Frame[], switches: Switch[], widthOf: (s: Source) => number, boundMs: number): string[] {
  const { seen, changes } = switchesOnScreen(frames, switches);
  t.same(changes, ORDER, `${name}: the picture changed input at the four switches and at no other time`);
  return seen.map((s) => {
    const label = `${name}, ${s.act.what}`;
    const stall = s.act.stallsBefore && s.act.stallsAfter ? stallsBetween(s.act.stallsBefore, s.act.stallsAfter) : undefined;
    t.equal(s.first.width, widthOf(s.act.to), `${label}: the first new frame has the ${s.act.to}'s marker and width (${widthOf(s.act.to)} px)`);
    t.ok(s.freezeMs <= boundMs, `${label}: picture still ${fmt(s.freezeMs)} from the ${s.act.from}'s last frame to the ${s.act.to}'s first (≤ ${boundMs} ms)`);
    t.ok(s.stillMs <= boundMs, `${label}: picture still ${fmt(s.stillMs)} in all from 0.5 s before the switch to 2 s after (≤ ${boundMs} ms)`);
    if (stall) t.ok(stall.stalledMs <= boundMs, `${label}: the stall monitor counted ${stall.stalls} stall(s), ${fmt(stall.stalledMs)} (≤ ${boundMs} ms)`);
    return `  ${label}: frozen ${fmt(s.freezeMs)} at the switch, ${fmt(s.stillMs)} in all around it (longest ${fmt(s.maxGapMs)}, ending ${fmt(s.maxGapAt)} after the first new frame), stall monitor ${stall ? `${stall.stalls}/${fmt(stall.stalledMs)}` : '-'}, ` +
      `media skipped ${fmt(s.skippedMs)}, new input on screen ${fmt(s.actToScreenMs)} after the act`;
  });
}

// ---- the LL-HLS playlist across the switches ----

/**
 * A player's blocking-reload loop on the media playlist (_HLS_msn/_HLS_part of each preload
 * hint), each update checked by a PartContinuity (test/helpers/part-continuity.ts).
 */
function watchPlaylist(url: string): { checker: PartContinuity; polls: number; errors: string[]; stop(): Promise<void> } {
  const checker = new PartContinuity();
  const ctrl = new AbortController();
  let stopped = false;
  const w = { checker, polls: 0, errors: [] as string[], stop: async () => { stopped = true; ctrl.abort(); await loop; } };
  const loop = (async () => {
    let query = '';
    while (!stopped) {
      try {
        const r = await fetch(`${url}${query}`, { signal: AbortSignal.any([ctrl.signal, AbortSignal.timeout(10_000)]) });
        const text = await r.text();
        w.polls++;
        if (r.status !== 200) { w.errors.push(`${r.status} ${query}`); query = ''; await sleep(100); continue; }
        const hint = checker.update(text);
        query = hint ? `?_HLS_msn=${hint.msn}&_HLS_part=${hint.part}` : '';
        if (!hint) await sleep(100);
      } catch (e) {
        if (!stopped) { w.errors.push(String(e)); query = ''; await sleep(100); }
      }
    }
  })();
  return w;
}

// ---- the scenarios ----

async function browserScenario(t: Test, mode: Mode, player: 'hls.js' | 'Shaka', backup: BackupKind, o: { watchPlaylist?: boolean } = {}): Promise<void> {
  const rig = await startRig(t, mode, backup);
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const playlist = o.watchPlaylist ? watchPlaylist(`${rig.o.http}/live/fo/source.m3u8`) : undefined;
  t.teardown(() => playlist?.stop());
  // A viewer joining a stream live for a while (as bench/latency.ts): in low mode one joining
  // earlier starts at the oldest segment and stays closer to live than HOLD-BACK (2.5-3 s instead
  // of 6+), with a buffer that a segment cut short by the switch drains (stills of 1-2 s).
  if (mode !== 'ultra-low') {
    await waitUntil(async () => ((await (await fetch(`${rig.o.http}/live/fo/source.m3u8`)).text()).match(/#EXTINF:/g)?.length ?? 0) >= 4, 30_000, '4 segments listed', 250);
  }
  const v = await openPageViewer(t, browser, rig.o, player);
  await v.page.waitForFunction(() => (window as any).sigmaPlayer?.playing === true, undefined, { timeout: 30_000 });
  await sleep(3000);
  const started = Date.now();
  const switches = await runSequence(rig, v, { showTimeoutMs: mode === 'ultra-low' ? 15_000 : 30_000, afterMs: 2000 });
  const frames = await v.frames();
  const errors = await v.errors();
  await playlist?.stop();
  const name = `${mode} ${player}`;
  t.same(rig.switches, SEQUENCE_SWITCHES, `${name}: the origin switched four times, as the sequence asked`);
  const lines = assertSwitches(t, name, frames, switches, (s) => rig.publishers[s].width, player === 'Shaka' ? SHAKA_BOUND_MS : FREEZE_BOUND_MS[mode]);
  const during = frames.filter((f) => f.at >= started);
  const latency = during.filter((f) => f.burned !== null).map((f) => (f.at - f.burned!) / 1000);
  t.comment(`${name}: ${during.length} frames presented over the ${((Date.now() - started) / 1000).toFixed(0)} s sequence, glass to glass median ${median(latency).toFixed(2)} s; ` +
    `player errors: ${[...new Set(errors.map((e) => `${e.details}${e.fatal ? ' (fatal)' : ''}`))].join(', ') || 'none'}\n${lines.join('\n')}`);
  t.same(errors.filter((e) => e.fatal && !isShakaHintError(player, e)), [], `${name}: no fatal player error (Shaka: but the abandoned hint, isShakaHintError)`);
  t.same(v.pageErrors, [], `${name}: no page error`);
  t.ok(during.filter((f) => f.source === null).length <= 3, `${name}: every frame's marker read (${during.filter((f) => f.source === null).length} unreadable)`);
  if (player === 'hls.js') {
    const sns = await v.page.evaluate(() => ((window as any).sigmaShown as { sn: number }[]).map((f) => f.sn));
    t.ok(sns.every((sn, i) => i === 0 || sn >= sns[i - 1]), `${name}: the fragments hls.js showed go forward (${sns[0]}…${sns.at(-1)})`);
  }
  if (playlist) {
    const c = playlist.checker, done = c.finish();
    t.comment(`LL-HLS playlist over the sequence: ${playlist.polls} blocking reloads, MSN ${c.firstMsn}…${c.lastMsn}, ` +
      `discontinuities at ${[...c.discontinuities].join(' ')}, ${c.maps.size} init segments, Σ parts vs EXTINF within ${c.worstPartSumDiff.toFixed(3)} s`);
    t.same(playlist.errors, [], 'the playlist answered every blocking reload with 200');
    t.same(done.problems, [], 'MSNs contiguous, no part lost from its segment before the segment\'s parts left the playlist');
    t.same(done.neverComplete, [], 'every MSN was listed as a complete segment');
    t.ok(c.discontinuities.size >= 4 && c.maps.size >= 5, 'a discontinuity and a new init at each of the 4 switches');
    t.ok(c.worstPartSumDiff < 0.05, 'each complete segment\'s parts add up to its EXTINF');
  }
}

t.test('failover with hls.js (ultra-low), a smaller backup: SIGKILL, failback, SIGSTOP, failback; the LL-HLS playlist stays whole',
  (t) => browserScenario(t, 'ultra-low', 'hls.js', 'smaller', { watchPlaylist: true }));

/**
 * Shaka with a twin backup. With a backup of another size, Shaka fetches the preload hint across
 * the switch: the origin refuses it (404, PHS-04: the part needs the new init), Shaka reports
 * HTTP error 1001 as CRITICAL and retries, and the browser's cache answers its retries with the
 * same 404 for up to a target duration, so the picture stood still 1.2 s and the errors were
 * fatal ones (measured while writing this test) — SHAKA_CODEC_CHANGE in latency-modes.ts. Had
 * the 404 not been cached, Shaka's retry would have got the part and appended it with the old
 * init: garbage frames for as long as the backup was on air (also seen). With the same SPS on
 * both inputs the init segments are the same bytes, the hinted part is served, and Shaka plays on.
 */
t.test('failover with Shaka (ultra-low), a twin backup: SIGKILL, failback, SIGSTOP, failback',
  (t) => browserScenario(t, 'ultra-low', 'Shaka', 'twin'));

t.test('failover with hls.js (low), a smaller backup: SIGKILL, failback, SIGSTOP, failback',
  (t) => browserScenario(t, 'low', 'hls.js', 'smaller'));

/**
 * ffmpeg with a twin backup: ffmpeg 5.1's HLS demuxer reads the new EXT-X-MAP but its decoder
 * keeps the first init's SPS, so a backup of another size came out as 640x360 garbage ("corrupt
 * decoded frame") until the failback; with the same SPS it decodes every frame.
 */
t.test('failover with ffmpeg as the player (ultra-low), a twin backup: it reads both inputs through the switches to the playlist\'s end', async (t) => {
  const rig = await startRig(t, 'ultra-low', 'twin');
  const v = startFfmpegViewer(`${rig.o.http}/live/fo/source.m3u8`);
  t.teardown(() => { if (v.proc.exitCode === null) v.proc.kill('SIGKILL'); });
  await waitUntil(async () => (await v.frames()).length > 0, 30_000, 'ffmpeg reading frames');
  const switches = await runSequence(rig, v, { showTimeoutMs: 30_000, afterMs: 500 });
  // Both inputs leave: the playlist ends (ENDLIST) after the reconnect window and ffmpeg reaches it.
  await Promise.all([stopPublisher(rig.primary), stopPublisher(rig.backup)]);
  const { code, stderr } = await Promise.race([v.exit, sleep(30_000).then(() => ({ code: -1, stderr: 'did not end within 30 s of the playlist' }))]);
  const frames = await v.frames();
  t.same(rig.switches, SEQUENCE_SWITCHES, 'the origin switched four times, as the sequence asked');
  t.equal(code, 0, 'ffmpeg read the live playlist to its end and exited 0', { stderr });
  const { seen, changes } = switchesOnScreen(frames, switches);
  t.same(changes, ORDER, 'ffmpeg decoded the primary, the backup, the primary, the backup and the primary, in that order');
  // Within each input's run the content goes forward frame by frame. Across a switch it may go
  // back a frame or two: the new encoder's frames reach the origin later after capture than the
  // old one's (seen: −36 ms at a failback), and the origin keeps the timeline, not the content, monotonic.
  const read = frames.filter((f) => f.burned !== null && f.source !== null);
  const back = read.filter((f, i) => i > 0 && f.source === read[i - 1].source && f.burned! <= read[i - 1].burned!).length;
  t.equal(back, 0, 'within each input\'s run the burned clock goes forward: no frame twice, none out of order');
  const unread = frames.filter((f) => f.burned === null || f.source === null).length;
  t.ok(unread <= 3, `${frames.length} frames decoded, ${unread} with an unreadable clock or marker`);
  t.comment(`ffmpeg: ${frames.length} frames; media skipped at each switch: ${seen.map((s) => `${s.act.what} ${fmt(s.skippedMs)}`).join(', ')}`);
});
