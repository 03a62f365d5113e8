/**
 * Scenario 3: glass-to-glass latency per latency mode and player, in headless Chromium.
 *
 *   node dist/bench/latency.js [--modes ultra-low,low,normal] [--players hlsjs-ll,hlsjs,shaka]
 *                              [--kinds default,1080p30-gop2s,…] [--lowSegmentSec 2] [--duration 20] [--settle 5] [--rounds 2] [--bitrate 3M]
 *
 * For each mode in turn: ffmpeg publishes a 1280x720 30 fps test pattern in real time (-re;
 * GOP 1 s for ultra-low and low, 2 s for normal) with the wall clock burned into each frame
 * (test/helpers/burned-clock.ts) to an origin process (`node dist/src/main.js`). Each player in
 * turn (hlsjs-ll: hls.js stock, lowLatencyMode on; hlsjs: lowLatencyMode off; shaka: Shaka's
 * stock low-latency config), one page at a time, plays the channel once its playlist lists 4
 * segments (JOIN_AFTER_SEGMENTS); after --settle seconds of
 * playback the bench takes --duration seconds of:
 * - glass to glass: Date.now() − the clock burned into each frame presented, which includes the
 *   encoder (capture pacing, x264, RTMP);
 * - wall clock − PROGRAM-DATE-TIME of the playhead every 250 ms, which starts at ingest.
 * --rounds repeats the players with fresh pages: players of low and normal hold the offset they
 * joined at, which differs by up to a segment from join to join, so each round samples it again
 * (percentiles are over the samples of all rounds). Meanwhile a probe polls the media playlist every
 * 50 ms and records how long after PROGRAM-DATE-TIME + EXTINF (when the segment's last frame
 * reached the origin) each segment is first listed.
 */
import { launchChromium } from '../test/helpers/browser.js';
import { openViewer, untilPlaying, watchFor, type PlayerName } from '../test/helpers/latency-watch.js';
import { probeListing } from '../test/helpers/listing-probe.js';
import { flags, max, median, pct, report, round, sleep, startOriginProcess, startPublisher, stopProcess, untilListed, waitFor200, type PublisherOptions } from './common.js';

const opts = flags({ modes: 'ultra-low,low,normal', players: 'hlsjs-ll,hlsjs,shaka', kinds: 'default', lowSegmentSec: 2, duration: 20, settle: 5, rounds: 2, bitrate: '3M' });

/**
 * The publisher kinds of issue 15 (as the conformance test's, test/helpers/publisher-kinds.ts,
 * but encoded live with the burned clock). `gop` in seconds; absent: 1 s (2 s in normal mode).
 * Audio only has no picture to burn a clock into: its figure is wall clock − PROGRAM-DATE-TIME.
 */
const KINDS: Record<string, { what: string; o: Omit<PublisherOptions, 'gop'>; gopSec?: number }> = {
  default: { what: '1280x720 30 fps', o: {} },
  '1080p30-gop2s': { what: '1920x1080 30 fps, GOP 2 s', o: { width: 1920, height: 1080 }, gopSec: 2 },
  '720p60-bframes': { what: '1280x720 60 fps, 2 B-frames', o: { fps: 60, bframes: 2 } },
  'video-only': { what: '1280x720 30 fps, no audio', o: { audio: false } },
  'audio-only': { what: 'AAC 48 kHz, no video (PDT only)', o: { video: false } },
  'aac-44k1': { what: '1280x720 30 fps, AAC 44.1 kHz', o: { sampleRate: 44100 } },
  '15fps': { what: '1280x720 15 fps', o: { fps: 15 } },
  'irregular-gop': { what: '1280x720 30 fps, keyframes 0.5-3 s apart', o: { forceKeyFrames: 'expr:gte(t,n_forced*2.3+mod(n_forced,3)*0.7-0.5)' }, gopSec: 3 },
};

/** Flag names of the players of test/helpers/latency-watch.ts. */
const PLAYER_FLAGS: Record<string, PlayerName> = { 'hlsjs-ll': 'hls.js LL', hlsjs: 'hls.js non-LL', shaka: 'Shaka LL' };
/** Issue 15's targets, glass to glass with stock hls.js. */
const TARGETS: Record<string, number> = { 'ultra-low': 1.2, low: 6, normal: 20 };
const LISTING_TARGET_SEC = 0.5;

const KEYS: Record<string, string> = { 'ultra-low': 'bench-lat-ultra-low', low: 'bench-lat-low', normal: 'bench-lat-normal' };
const ID = (mode: string) => `lat-${mode}`;

/**
 * Players join once the playlist lists this many segments, as a viewer joins a stream that has
 * been live for a while: one joining earlier than HOLD-BACK (3 target durations) after the start
 * begins at the oldest segment and keeps that lower latency for the session (seen: hls.js 12.8 s
 * in normal mode against 25.3 s a round later).
 */
const JOIN_AFTER_SEGMENTS = 4;

const stats = (xs: number[]) => ({ median: round(median(xs)), p95: round(pct(xs, 95)), max: round(max(xs)), min: round(Math.min(...xs)), n: xs.length });

async function main(): Promise<void> {
  const modes = opts.modes.split(',');
  const kinds = opts.kinds.split(',').map((k) => {
    if (!KINDS[k]) throw new Error(`unknown kind ${k}; known: ${Object.keys(KINDS).join(',')}`);
    return [k, KINDS[k]] as const;
  });
  const players = opts.players.split(',').map((p) => {
    if (!PLAYER_FLAGS[p]) throw new Error(`unknown player ${p}; known: ${Object.keys(PLAYER_FLAGS).join(',')}`);
    return PLAYER_FLAGS[p];
  });
  const origin = await startOriginProcess({
    http2: { enabled: false },
    // --lowSegmentSec 1: low mode with 1 s segments (HOLD-BACK 3 s), for publishers with a 1 s GOP.
    ...(opts.lowSegmentSec !== 2 ? { latencyModes: { low: { segmentTargetSec: opts.lowSegmentSec, partTargetSec: null, playlistWindowSec: 20 } } } : {}),
    channels: modes.map((m) => ({ id: ID(m), streamKey: KEYS[m], latencyMode: m })),
  });
  const browser = await launchChromium();
  const results: Record<string, any>[] = [];
  const listings: Record<string, any>[] = [];
  /** Every sample of a mode and player over the rounds (percentiles are over all of them). */
  const pooled = new Map<string, { glass: number[]; pdt: number[] }>();
  try {
    for (const [kindName, kind] of kinds) for (const mode of modes) {
      const fps = kind.o.fps ?? 30;
      const gop = Math.round((kind.gopSec ?? (mode === 'normal' ? 2 : 1)) * fps);
      const pub = startPublisher(`rtmp://127.0.0.1:${origin.ports.rtmp}/live/${KEYS[mode]}`, { ...kind.o, gop, bitrate: opts.bitrate, burnedClock: true });
      const url = `${origin.http}/live/${ID(mode)}/index.m3u8`;
      try {
        await waitFor200(url, 60_000, `the ${mode} stream`);
        await untilListed(`${origin.http}/live/${ID(mode)}/source.m3u8`, JOIN_AFTER_SEGMENTS);
        const probe = probeListing(`${origin.http}/live/${ID(mode)}/source.m3u8`);
        for (let n = 1; n <= opts.rounds; n++) {
          for (const player of players) {
            const v = await openViewer(browser, origin.http, url, player);
            try {
              const startupSec = (await untilPlaying(v, 90_000)) / 1000;
              await sleep(opts.settle * 1000);
              const w = await watchFor(v, opts.duration * 1000);
              if (pub.exitCode !== null) throw new Error(`publisher exited: ${pub.stderrText()}`);
              const r = {
                kind: kindName, mode, player, round: n, gopSec: gop / fps, startupSec: round(startupSec, 1),
                glassSec: stats(w.glass), pdtSec: stats(w.pdt),
                presented: w.presented, misreads: w.misreads, stalls: w.stalls, stalledMs: Math.round(w.stalledMs),
                errors: { total: w.errors.length, fatal: w.errors.filter((e) => e.fatal).length, kinds: [...new Set(w.errors.map((e) => e.details))] },
                pageErrors: v.pageErrors,
              };
              results.push(r);
              const pool = pooled.get(`${kindName}|${mode}|${player}`) ?? { glass: [], pdt: [] };
              pool.glass.push(...w.glass);
              pool.pdt.push(...w.pdt);
              pooled.set(`${kindName}|${mode}|${player}`, pool);
              process.stderr.write(`[latency] ${kindName} ${mode} ${player} (round ${n}): glass median ${r.glassSec.median} s, p95 ${r.glassSec.p95} s; ` +
                `PDT median ${r.pdtSec.median} s; ${w.glass.length} frames, ${w.misreads} misreads, stalls ${w.stalls}, errors ${w.errors.length}\n`);
            } finally {
              await v.close();
            }
          }
        }
        const listed = await probe.stop();
        const delays = listed.map((s) => s.delayMs / 1000);
        listings.push({ kind: kindName, mode, listingDelaySec: stats(delays), failedPolls: probe.errors.length, pollMs: probe.intervalMs });
      } finally {
        await stopProcess(pub);
      }
      await sleep(2000);
    }
  } finally {
    await browser.close();
    await origin.stop();
  }
  report('latency', {
    params: { ...opts, source: kinds.map(([k, v]) => `${k}: ${v.what}`).join('; ') + ' (testsrc2, x264 veryfast, burned clock)' },
    note: 'glassSec: Date.now() − clock burned into the frame on screen (encoder included); pdtSec: wall clock − PROGRAM-DATE-TIME (stamped at ingest)',
    results, listings,
  });
  process.stdout.write('glass to glass (burned clock) and wall clock − PDT, seconds:\n');
  for (const [kindName] of kinds) for (const mode of modes) {
    const label = kinds.length > 1 ? `${kindName.padEnd(15)} ${mode.padEnd(9)}` : mode.padEnd(9);
    for (const player of players) {
      const rs = results.filter((r) => r.kind === kindName && r.mode === mode && r.player === player);
      const pool = pooled.get(`${kindName}|${mode}|${player}`);
      if (!pool) continue;
      const g = stats(pool.glass), pdt = stats(pool.pdt);
      // Per round: the pooled medians of rounds that joined at different offsets need not differ by it.
      const encoder = median(rs.map((r) => r.glassSec.median - r.pdtSec.median));
      // Audio only has no burned clock: its PDT figure stands in for the target.
      const judged = pool.glass.length > 0 ? g.median : pdt.median;
      process.stdout.write(`  ${label} ${player.padEnd(13)} glass median ${g.median}  p95 ${g.p95}  PDT median ${pdt.median}  ` +
        `glass − PDT ${round(encoder)}  stalls ${rs.reduce((a, r) => a + r.stalls, 0)}  misreads ${rs.reduce((a, r) => a + r.misreads, 0)}` +
        `  target ≤ ${TARGETS[mode]} s: ${judged <= TARGETS[mode] ? 'met' : 'NOT met'}\n`);
    }
    const l = listings.find((x) => x.kind === kindName && x.mode === mode);
    if (l) process.stdout.write(`  ${label} listing delay median ${l.listingDelaySec.median}  max ${l.listingDelaySec.max} over ${l.listingDelaySec.n} segments` +
      `  target ≤ ${LISTING_TARGET_SEC} s: ${l.listingDelaySec.max <= LISTING_TARGET_SEC ? 'met' : 'NOT met'}\n`);
  }
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`latency failed: ${e.stack ?? e}\n`); process.exit(1); });
