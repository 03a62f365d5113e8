import t from 'tap';
import { startOrigin, waitUntil } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { launchChromium, median } from '../helpers/browser.js';

interface PlayerState { latencies: number[]; stalls: number; playing: boolean; errors: { details: string; fatal: boolean }[] }

/**
 * What a viewer sees: hls.js in headless Chromium plays the ultra-low channel from the
 * origin's own player page while ffmpeg publishes in real time. Latency is wall clock minus
 * the PROGRAM-DATE-TIME of the frame on screen, which the origin stamps at ingest.
 */
t.test('hls.js in Chromium plays the ultra-low channel with low latency and no stall', async (t) => {
  const o = await startOrigin();
  t.teardown(() => o.close());
  const pub = startPublisher(o.rtmp('demo-key-123'), { fps: 30, gop: 30, width: 640, height: 360 });
  t.teardown(() => stopPublisher(pub));
  await waitUntil(async () => (await fetch(`${o.http}/live/demo/index.m3u8`)).status === 200, 20_000, 'the stream');

  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const consoleErrors: string[] = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(`${o.http}/player/demo`);
  await page.waitForFunction(() => (window as any).sigmaPlayer?.playing === true, undefined, { timeout: 20_000 });
  const stallsAtStart = await page.evaluate(() => (window as any).sigmaPlayer.stalls as number);
  // Watch for a while: latency samples every 250 ms.
  await new Promise((r) => setTimeout(r, 15_000));
  const state = await page.evaluate(() => (window as any).sigmaPlayer as PlayerState);
  const latencies = state.latencies.slice(8); // skip the first two seconds while hls.js settles
  const med = median(latencies);
  t.comment(`latency median ${med.toFixed(2)} s over ${latencies.length} samples, max ${Math.max(...latencies).toFixed(2)} s`);
  t.same(consoleErrors, [], 'no page errors');
  t.same(state.errors.filter((e) => e.fatal), [], 'no fatal hls.js error');
  t.ok(latencies.length > 40, 'playback went on');
  t.equal(state.stalls - stallsAtStart, 0, 'no stall while playing');
  t.ok(med > 0 && med < 4, `glass-to-glass latency median ${med.toFixed(2)} s < 4 s`);
  const shot = await page.screenshot({ path: process.env.SCREENSHOT ?? undefined });
  t.ok(shot.length > 1000, 'the page renders');
});
