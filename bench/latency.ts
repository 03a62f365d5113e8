/**
 * Scenario 3: glass-to-glass latency per latency mode with hls.js in headless Chromium.
 *
 *   node dist/bench/latency.js [--modes ultra-low,low,normal] [--duration 60] [--settle 5] [--bitrate 3M]
 *
 * For each mode in turn: ffmpeg publishes a 1280x720 30 fps test pattern in real time (-re;
 * GOP 1 s for ultra-low and low, 2 s for normal) to an origin process (`node dist/src/main.js`),
 * the origin's player page (/player/<channel>) plays it, and the bench reads
 * window.sigmaPlayer.latencies (Date.now() − hls.playingDate, every 250 ms) for --duration
 * seconds after --settle seconds of playback. PROGRAM-DATE-TIME is stamped at ingest, so the
 * encoder's own delay (capture + x264) is not in the number.
 */
import { launchChromium } from '../test/helpers/browser.js';
import type { StallReport } from '../src/delivery/stall-monitor.js';
import { flags, max, median, pct, report, round, sleep, startOriginProcess, startPublisher, stopProcess, waitFor200 } from './common.js';

const opts = flags({ modes: 'ultra-low,low,normal', duration: 60, settle: 5, bitrate: '3M' });

interface PlayerState { latencies: number[]; playing: boolean; errors: { type: string; details: string; fatal: boolean }[] }

const KEYS: Record<string, string> = { 'ultra-low': 'bench-lat-ultra-low', low: 'bench-lat-low', normal: 'bench-lat-normal' };
const ID = (mode: string) => `lat-${mode}`;

async function main(): Promise<void> {
  const modes = opts.modes.split(',');
  const origin = await startOriginProcess({
    http2: { enabled: false },
    channels: modes.map((m) => ({ id: ID(m), streamKey: KEYS[m], latencyMode: m })),
  });
  const browser = await launchChromium();
  const results: Record<string, unknown>[] = [];
  try {
    for (const mode of modes) {
      const gop = mode === 'normal' ? 60 : 30;
      const pub = startPublisher(`rtmp://127.0.0.1:${origin.ports.rtmp}/live/${KEYS[mode]}`, { gop, bitrate: opts.bitrate });
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(String(e)));
      try {
        const t0 = Date.now();
        await waitFor200(`${origin.http}/live/${ID(mode)}/index.m3u8`, 60_000, `the ${mode} stream`);
        await page.goto(`${origin.http}/player/${ID(mode)}`);
        await page.waitForFunction(() => (window as any).sigmaPlayer?.playing === true, undefined, { timeout: 90_000 });
        const startupSec = (Date.now() - t0) / 1000;
        await sleep(opts.settle * 1000);
        const s0 = await page.evaluate(() => { const w = window as any; return { n: w.sigmaPlayer.latencies.length as number, errors: w.sigmaPlayer.errors.length as number, stalls: w.sigmaStalls.report() as StallReport }; });
        process.stderr.write(`[latency] ${mode}: playing after ${startupSec.toFixed(1)} s (publisher start → playing); sampling ${opts.duration} s\n`);
        await sleep(opts.duration * 1000);
        if (pub.exitCode !== null) throw new Error(`publisher exited: ${pub.stderrText()}`);
        const st = await page.evaluate(() => (window as any).sigmaPlayer as PlayerState);
        // The player page's stall monitor counts a freeze still going on at the end of the sampling.
        const st1 = await page.evaluate(() => (window as any).sigmaStalls.report() as StallReport);
        const hlsInfo = await page.evaluate(() => { const h = (window as any).sigmaHls; return { latency: h?.latency, targetLatency: h?.targetLatency }; });
        const lat = st.latencies.slice(s0.n);
        const errs = st.errors.slice(s0.errors);
        const r = {
          mode, gopSec: gop / 30, samples: lat.length, startupSec: round(startupSec, 1),
          latencySec: { median: round(median(lat)), p95: round(pct(lat, 95)), max: round(max(lat)), min: round(Math.min(...lat)) },
          stalls: st1.stalls - s0.stalls.stalls, stalledMs: Math.round(st1.stalledMs - s0.stalls.stalledMs), stalledAtEnd: st1.stalled,
          hlsErrors: { total: errs.length, fatal: errs.filter((e) => e.fatal).length, kinds: [...new Set(errs.map((e) => e.details))] },
          pageErrors, hlsjs: { latencySec: round(hlsInfo.latency), targetLatencySec: round(hlsInfo.targetLatency) },
        };
        results.push(r);
        process.stderr.write(`[latency] ${mode}: median ${r.latencySec.median} s, p95 ${r.latencySec.p95} s, max ${r.latencySec.max} s, stalls ${r.stalls} (${r.stalledMs} ms${r.stalledAtEnd ? ', one at the end' : ''}), hls.js errors ${errs.length}\n`);
      } finally {
        await page.close();
        await stopProcess(pub);
      }
      await sleep(2000);
    }
  } finally {
    await browser.close();
    await origin.stop();
  }
  const targets: Record<string, number> = { 'ultra-low': 2.0, low: 6.0 };
  report('latency', { params: { ...opts }, note: 'PROGRAM-DATE-TIME is stamped at ingest: encoder delay excluded', results });
  process.stdout.write('latency (Date.now() − hls.playingDate, seconds):\n');
  for (const r of results as any[]) {
    const t = targets[r.mode];
    process.stdout.write(`  ${r.mode.padEnd(9)} median ${r.latencySec.median}  p95 ${r.latencySec.p95}  max ${r.latencySec.max}  stalls ${r.stalls} (${r.stalledMs} ms)  (${r.samples} samples)` +
      `${t ? `  target median ≤ ${t} s: ${r.latencySec.median <= t ? 'met' : 'NOT met'}` : ''}\n`);
  }
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`latency failed: ${e.stack ?? e}\n`); process.exit(1); });
