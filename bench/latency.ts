/**
 * Scenario 3: glass-to-glass latency per latency mode and player, in headless Chromium.
 *
 *   node dist/bench/latency.js [--modes ultra-low,low,normal] [--players hlsjs-ll,hlsjs,shaka]
 *                              [--duration 20] [--settle 5] [--rounds 2] [--bitrate 3M]
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
import { flags, max, median, pct, report, round, sleep, startOriginProcess, startPublisher, stopProcess, waitFor200 } from './common.js';

const opts = flags({ modes: 'ultra-low,low,normal', players: 'hlsjs-ll,hlsjs,shaka', duration: 20, settle: 5, rounds: 2, bitrate: '3M' });

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

async function untilListed(playlistUrl: string, segments: number): Promise<void> {
  const end = Date.now() + 90_000;
  while (((await (await fetch(playlistUrl)).text()).match(/#EXTINF:/g)?.length ?? 0) < segments) {
    if (Date.now() > end) throw new Error(`${playlistUrl} did not list ${segments} segments within 90 s`);
    await sleep(500);
  }
}

const stats = (xs: number[]) => ({ median: round(median(xs)), p95: round(pct(xs, 95)), max: round(max(xs)), min: round(Math.min(...xs)), n: xs.length });

async function main(): Promise<void> {
  const modes = opts.modes.split(',');
  const players = opts.players.split(',').map((p) => {
    if (!PLAYER_FLAGS[p]) throw new Error(`unknown player ${p}; known: ${Object.keys(PLAYER_FLAGS).join(',')}`);
    return PLAYER_FLAGS[p];
  });
  const origin = await startOriginProcess({
    http2: { enabled: false },
    channels: modes.map((m) => ({ id: ID(m), streamKey: KEYS[m], latencyMode: m })),
  });
  const browser = await launchChromium();
  const results: Record<string, any>[] = [];
  const listings: Record<string, any>[] = [];
  /** Every sample of a mode and player over the rounds (percentiles are over all of them). */
  const pooled = new Map<string, { glass: number[]; pdt: number[] }>();
  try {
    for (const mode of modes) {
      const gop = mode === 'normal' ? 60 : 30;
      const pub = startPublisher(`rtmp://127.0.0.1:${origin.ports.rtmp}/live/${KEYS[mode]}`, { gop, bitrate: opts.bitrate, burnedClock: true });
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
                mode, player, round: n, gopSec: gop / 30, startupSec: round(startupSec, 1),
                glassSec: stats(w.glass), pdtSec: stats(w.pdt),
                presented: w.presented, misreads: w.misreads, stalls: w.stalls, stalledMs: Math.round(w.stalledMs),
                errors: { total: w.errors.length, fatal: w.errors.filter((e) => e.fatal).length, kinds: [...new Set(w.errors.map((e) => e.details))] },
                pageErrors: v.pageErrors,
              };
              results.push(r);
              const pool = pooled.get(`${mode}|${player}`) ?? { glass: [], pdt: [] };
              pool.glass.push(...w.glass);
              pool.pdt.push(...w.pdt);
              pooled.set(`${mode}|${player}`, pool);
              process.stderr.write(`[latency] ${mode} ${player} (round ${n}): glass median ${r.glassSec.median} s, p95 ${r.glassSec.p95} s; ` +
                `PDT median ${r.pdtSec.median} s; ${w.glass.length} frames, ${w.misreads} misreads, stalls ${w.stalls}, errors ${w.errors.length}\n`);
            } finally {
              await v.close();
            }
          }
        }
        const listed = await probe.stop();
        const delays = listed.map((s) => s.delayMs / 1000);
        listings.push({ mode, listingDelaySec: stats(delays), failedPolls: probe.errors.length, pollMs: probe.intervalMs });
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
    params: { ...opts, source: '1280x720 30 fps testsrc2, x264 veryfast zerolatency, burned clock' },
    note: 'glassSec: Date.now() − clock burned into the frame on screen (encoder included); pdtSec: wall clock − PROGRAM-DATE-TIME (stamped at ingest)',
    results, listings,
  });
  process.stdout.write('glass to glass (burned clock) and wall clock − PDT, seconds:\n');
  for (const mode of modes) {
    for (const player of players) {
      const rs = results.filter((r) => r.mode === mode && r.player === player);
      const pool = pooled.get(`${mode}|${player}`);
      if (!pool) continue;
      const g = stats(pool.glass), pdt = stats(pool.pdt);
      // Per round: the pooled medians of rounds that joined at different offsets need not differ by it.
      const encoder = median(rs.map((r) => r.glassSec.median - r.pdtSec.median));
      process.stdout.write(`  ${mode.padEnd(9)} ${player.padEnd(13)} glass median ${g.median}  p95 ${g.p95}  PDT median ${pdt.median}  ` +
        `glass − PDT ${round(encoder)}  stalls ${rs.reduce((a, r) => a + r.stalls, 0)}  misreads ${rs.reduce((a, r) => a + r.misreads, 0)}` +
        `  target ≤ ${TARGETS[mode]} s: ${g.median <= TARGETS[mode] ? 'met' : 'NOT met'}\n`);
    }
    const l = listings.find((x) => x.mode === mode);
    if (l) process.stdout.write(`  ${mode.padEnd(9)} listing delay median ${l.listingDelaySec.median}  max ${l.listingDelaySec.max} over ${l.listingDelaySec.n} segments` +
      `  target ≤ ${LISTING_TARGET_SEC} s: ${l.listingDelaySec.max <= LISTING_TARGET_SEC ? 'met' : 'NOT met'}\n`);
  }
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`latency failed: ${e.stack ?? e}\n`); process.exit(1); });
