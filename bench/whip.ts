/**
 * Scenario 15 (issue 20): glass-to-glass latency of WHIP ingest from a browser, against RTMP
 * from ffmpeg in the same run.
 *
 *   node dist/bench/whip.js [--rounds 4] [--duration 15] [--settle 4]
 *
 * One origin process (`node dist/src/main.js`, defaults), two ultra-low channels. Chromium with
 * its fake camera goes live on one from the origin's Go-live page (test/helpers/whip-publisher.ts:
 * the camera's pictures through a canvas that burns the wall clock in when the frame is drawn,
 * 640x360 30 fps; the page's 360p quality, 0.8 Mb/s cap; H.264 by OpenH264, Opus); ffmpeg
 * publishes the same size, rate and clock over RTMP to the other (x264 veryfast zerolatency, a
 * keyframe a second, AAC). Each round opens one hls.js page (low-latency mode, stock) per
 * channel in a second Chromium at the same time, lets them settle, and reads the clock off
 * every presented frame for --duration s. Reported: per round and pooled, glass to glass and
 * wall clock − PROGRAM-DATE-TIME (from ingest on), and the WHIP ÷ RTMP ratio of the medians.
 */
import { launchChromium } from '../test/helpers/browser.js';
import { openViewer, untilPlaying, watchFor } from '../test/helpers/latency-watch.js';
import { goLive, launchPublisherBrowser } from '../test/helpers/whip-publisher.js';
import { flags, median, pct, report, round, sleep, startOriginProcess, startPublisher, stopProcess, untilListed, waitFor200 } from './common.js';

const opts = flags({ rounds: 4, duration: 15, settle: 4 });
const KEYS = { rtmp: 'bench-whip-rtmp-key', whip: 'bench-whip-whip-key' };
type Ingest = keyof typeof KEYS;
const INGESTS: Ingest[] = ['rtmp', 'whip'];
const JOIN_AFTER_SEGMENTS = 4;

const stats = (xs: number[]) => ({ median: round(median(xs)), p95: round(pct(xs, 95)), n: xs.length });

async function main(): Promise<void> {
  const origin = await startOriginProcess({ channels: INGESTS.map((i) => ({ id: `over-${i}`, streamKey: KEYS[i], latencyMode: 'ultra-low' })) });
  const camera = await launchPublisherBrowser();
  const viewers = await launchChromium();
  const rtmp = startPublisher(`rtmp://127.0.0.1:${origin.ports.rtmp}/live/${KEYS.rtmp}`, { width: 640, height: 360, fps: 30, gop: 30, bitrate: '800k', burnedClock: true });
  const rows: { ingest: Ingest; round: number; glass: number[]; pdt: number[]; stalls: number; fatal: number }[] = [];
  try {
    const publisher = await goLive(camera, { api: `http://127.0.0.1:${origin.ports.api}`, channel: 'over-whip', credential: KEYS.whip, burnedClock: true, quality: '360' });
    for (const i of INGESTS) await waitFor200(`${origin.http}/live/over-${i}/index.m3u8`, 60_000, `the ${i} channel`);
    // Viewers join streams that have been live a while (as bench/latency.ts): one joining before
    // HOLD-BACK's worth of segments is listed starts at the oldest and keeps that latency.
    for (const i of INGESTS) await untilListed(`${origin.http}/live/over-${i}/source.m3u8`, JOIN_AFTER_SEGMENTS);
    for (let r = 1; r <= opts.rounds; r++) {
      const vs = await Promise.all(INGESTS.map((i) => openViewer(viewers, origin.http, `${origin.http}/live/over-${i}/index.m3u8`, 'hls.js LL')));
      try {
        await Promise.all(vs.map((v) => untilPlaying(v, 60_000)));
        await sleep(opts.settle * 1000);
        const ws = await Promise.all(vs.map((v) => watchFor(v, opts.duration * 1000)));
        ws.forEach((w, k) => {
          rows.push({ ingest: INGESTS[k], round: r, glass: w.glass, pdt: w.pdt, stalls: w.stalls, fatal: w.errors.filter((e) => e.fatal).length });
          process.stderr.write(`[whip] round ${r} ${INGESTS[k]}: glass median ${round(median(w.glass))} s (${w.glass.length} frames), PDT median ${round(median(w.pdt))} s, stalls ${w.stalls}` +
            `, player errors ${[...new Set(w.errors.map((e) => e.details))].join(' ') || 'none'}\n`);
        });
      } finally {
        await Promise.all(vs.map((v) => v.close()));
      }
    }
    const listed = await (await fetch(`${origin.http}/live/over-whip/source.m3u8`)).text();
    process.stderr.write(`[whip] the WHIP playlist at the end: ${listed.match(/#EXT-X-DISCONTINUITY\n/g)?.length ?? 0} discontinuities, ${listed.match(/#EXT-X-MAP/g)?.length ?? 0} maps, EXTINF ${[...listed.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => m[1]).join(' ')}\n`);
    await publisher.stop();
  } finally {
    await stopProcess(rtmp);
    await camera.close();
    await viewers.close();
    await origin.stop();
  }
  const per = (i: Ingest) => {
    const rs = rows.filter((x) => x.ingest === i);
    return { glass: stats(rs.flatMap((x) => x.glass)), pdt: stats(rs.flatMap((x) => x.pdt)), roundMedians: rs.map((x) => round(median(x.glass))),
      stalls: rs.reduce((a, x) => a + x.stalls, 0), fatal: rs.reduce((a, x) => a + x.fatal, 0) };
  };
  const result = { rtmp: per('rtmp'), whip: per('whip') };
  const ratio = round(result.whip.glass.median / result.rtmp.glass.median, 2);
  report('whip', { params: opts, note: 'glass: Date.now() − clock burned into the frame on screen; pdt: wall clock − PROGRAM-DATE-TIME; hls.js LL', ...result, whipOverRtmp: ratio });
  for (const i of INGESTS) {
    const x = result[i];
    process.stdout.write(`${i.padEnd(5)} glass median ${x.glass.median} s  p95 ${x.glass.p95}  (rounds ${x.roundMedians.join(', ')})  PDT median ${x.pdt.median}  stalls ${x.stalls}  fatal ${x.fatal}\n`);
  }
  process.stdout.write(`WHIP ÷ RTMP (glass medians): ×${ratio}; the issue's bound: WHIP ≤ 2.5 + 0.5 s: ${result.whip.glass.median <= 3 ? 'met' : 'NOT met'}\n`);
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`whip failed: ${e.stack ?? e}\n`); process.exit(1); });
