import t, { type Test } from 'tap';
import { createRequire } from 'node:module';
import { startOrigin, waitUntil } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { launchChromium, median } from '../helpers/browser.js';

const require = createRequire(import.meta.url);

/**
 * "Does not stall" as a viewer sees it: time spent waiting for data while playing. Players at
 * sub-second latency keep a buffer of a few hundred ms, so a busy 2-core CI machine can make
 * them pause for a frame (a 'waiting' event of a few ms, invisible); a real stall is a visible
 * freeze, and a quarter of a second of them over the watch fails the test. The count is logged.
 */
const STALL_BUDGET_MS = 250;

// Both players live in one file so their subtests run one after the other: two browsers and two
// encoders at once on a 2-core CI machine measure the machine, not the origin.

/**
 * An origin with ffmpeg publishing the demo channel in real time, and a Chromium page that
 * records page errors and failed (≥ 400) requests; everything is closed at the test's end.
 */
async function liveDemoInBrowser(t: Test) {
  const o = await startOrigin();
  t.teardown(() => o.close());
  const pub = startPublisher(o.rtmp('demo-key-123'), { fps: 30, gop: 30, width: 640, height: 360 });
  t.teardown(() => stopPublisher(pub));
  await waitUntil(async () => (await fetch(`${o.http}/live/demo/index.m3u8`)).status === 200, 20_000, 'the stream');
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  const failed: string[] = [];
  page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url().replace(o.http, '')}`); });
  return { o, page, pageErrors, failed };
}

interface PlayerState { latencies: number[]; stalls: number; stalledMs: number; playing: boolean; errors: { details: string; fatal: boolean }[] }

/**
 * What a viewer sees: hls.js in headless Chromium plays the ultra-low channel from the
 * origin's own player page while ffmpeg publishes in real time. Latency is wall clock minus
 * the PROGRAM-DATE-TIME of the frame on screen, which the origin stamps at ingest.
 */
t.test('hls.js in Chromium plays the ultra-low channel with low latency and no stall', async (t) => {
  const { o, page, pageErrors: consoleErrors, failed } = await liveDemoInBrowser(t);
  await page.goto(`${o.http}/player/demo`);
  await page.waitForFunction(() => (window as any).sigmaPlayer?.playing === true, undefined, { timeout: 20_000 });
  const atStart = await page.evaluate(() => ({ ...(window as any).sigmaPlayer }) as PlayerState);
  // Watch for a while: latency samples every 250 ms.
  await new Promise((r) => setTimeout(r, 15_000));
  const state = await page.evaluate(() => (window as any).sigmaPlayer as PlayerState);
  const latencies = state.latencies.slice(8); // skip the first two seconds while hls.js settles
  const med = median(latencies);
  t.comment(`latency median ${med.toFixed(2)} s over ${latencies.length} samples, max ${Math.max(...latencies).toFixed(2)} s`);
  t.same(consoleErrors, [], 'no page errors');
  t.same(failed, [], 'no failed request');
  t.same(state.errors.filter((e) => e.fatal), [], 'no fatal hls.js error');
  t.ok(latencies.length > 40, 'playback went on');
  const stalledMs = state.stalledMs - atStart.stalledMs;
  t.comment(`hls.js stalls while playing: ${state.stalls - atStart.stalls}, ${stalledMs.toFixed(0)} ms in all`);
  t.ok(stalledMs < STALL_BUDGET_MS, `stalled ${stalledMs.toFixed(0)} ms of 15 s (< ${STALL_BUDGET_MS} ms)`);
  t.ok(med > 0 && med < 4, `glass-to-glass latency median ${med.toFixed(2)} s < 4 s`);
  const shot = await page.screenshot({ path: process.env.SCREENSHOT ?? undefined });
  t.ok(shot.length > 1000, 'the page renders');
});

/**
 * A second player on the same stream: Shaka Player in its low-latency mode reads PART-HOLD-BACK
 * as required, follows preload hints and sends _HLS_skip on every update (LLHLS.md SH-01…05),
 * so it exercises paths hls.js does not.
 */
t.test('Shaka Player (low-latency mode) plays the ultra-low channel in Chromium', async (t) => {
  const { o, page, pageErrors, failed } = await liveDemoInBrowser(t);
  await page.goto(`${o.http}/healthz`); // same origin as the stream
  await page.setContent('<video id="v" muted autoplay playsinline></video>');
  await page.addScriptTag({ path: require.resolve('shaka-player/dist/shaka-player.compiled.debug.js') });
  await page.evaluate(async (url) => {
    const w = window as any;
    const video = document.getElementById('v') as HTMLVideoElement;
    const state = { latencies: [] as number[], errors: [] as string[], stalls: 0, stalledMs: 0, playing: false, waitingSince: 0 };
    w.state = state;
    w.shaka.polyfill.installAll();
    const player = new w.shaka.Player();
    await player.attach(video);
    player.configure({ streaming: { lowLatencyMode: true } });
    player.addEventListener('error', (e: any) => state.errors.push(String(e.detail?.code)));
    video.addEventListener('playing', () => {
      state.playing = true;
      if (state.waitingSince) { state.stalledMs += performance.now() - state.waitingSince; state.waitingSince = 0; }
    });
    video.addEventListener('waiting', () => { if (state.playing) { state.stalls++; state.waitingSince = performance.now(); } });
    await player.load(url);
    await video.play().catch(() => undefined);
    setInterval(() => {
      const d = player.getPlayheadTimeAsDate();
      if (d && !video.paused) state.latencies.push((Date.now() - d.getTime()) / 1000);
    }, 250);
  }, `${o.http}/live/demo/index.m3u8`);
  await page.waitForFunction(() => (window as any).state.playing === true, undefined, { timeout: 20_000 });
  const atStart = await page.evaluate(() => ({ ...(window as any).state }) as { stalls: number; stalledMs: number });
  await new Promise((r) => setTimeout(r, 12_000));
  const state = await page.evaluate(() => (window as any).state as { latencies: number[]; errors: string[]; stalls: number; stalledMs: number });
  const latencies = state.latencies.slice(8);
  const med = median(latencies);
  t.comment(`Shaka latency median ${med.toFixed(2)} s over ${latencies.length} samples`);
  t.same(pageErrors, [], 'no page errors');
  t.same(failed, [], 'no failed request');
  t.same(state.errors, [], 'no Shaka error');
  t.ok(latencies.length > 30, 'playback went on');
  const stalledMs = state.stalledMs - atStart.stalledMs;
  t.comment(`Shaka stalls while playing: ${state.stalls - atStart.stalls}, ${stalledMs.toFixed(0)} ms in all`);
  t.ok(stalledMs < STALL_BUDGET_MS, `stalled ${stalledMs.toFixed(0)} ms of 12 s (< ${STALL_BUDGET_MS} ms)`);
  t.ok(med > 0 && med < 4, `latency median ${med.toFixed(2)} s < 4 s`);
});
