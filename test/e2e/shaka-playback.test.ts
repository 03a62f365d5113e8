import t from 'tap';
import { createRequire } from 'node:module';
import { startOrigin, waitUntil } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { launchChromium, median } from '../helpers/browser.js';

const require = createRequire(import.meta.url);

/**
 * A second player on the same stream: Shaka Player in its low-latency mode reads PART-HOLD-BACK
 * as required, follows preload hints and sends _HLS_skip on every update (LLHLS.md SH-01…05),
 * so it exercises paths hls.js does not.
 */
t.test('Shaka Player (low-latency mode) plays the ultra-low channel in Chromium', async (t) => {
  const o = await startOrigin();
  t.teardown(() => o.close());
  const pub = startPublisher(o.rtmp('demo-key-123'), { fps: 30, gop: 30 });
  t.teardown(() => stopPublisher(pub));
  await waitUntil(async () => (await fetch(`${o.http}/live/demo/index.m3u8`)).status === 200, 20_000, 'the stream');

  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  const failed: string[] = [];
  page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url().replace(o.http, '')}`); });
  await page.goto(`${o.http}/healthz`); // same origin as the stream
  await page.setContent('<video id="v" muted autoplay playsinline></video>');
  await page.addScriptTag({ path: require.resolve('shaka-player/dist/shaka-player.compiled.debug.js') });
  await page.evaluate(async (url) => {
    const w = window as any;
    const video = document.getElementById('v') as HTMLVideoElement;
    const state = { latencies: [] as number[], errors: [] as string[], stalls: 0, playing: false };
    w.state = state;
    w.shaka.polyfill.installAll();
    const player = new w.shaka.Player();
    await player.attach(video);
    player.configure({ streaming: { lowLatencyMode: true } });
    player.addEventListener('error', (e: any) => state.errors.push(String(e.detail?.code)));
    video.addEventListener('playing', () => { state.playing = true; });
    video.addEventListener('waiting', () => { if (state.playing) state.stalls++; });
    await player.load(url);
    await video.play().catch(() => undefined);
    setInterval(() => {
      const d = player.getPlayheadTimeAsDate();
      if (d && !video.paused) state.latencies.push((Date.now() - d.getTime()) / 1000);
    }, 250);
  }, `${o.http}/live/demo/index.m3u8`);
  await page.waitForFunction(() => (window as any).state.playing === true, undefined, { timeout: 20_000 });
  const stallsAtStart = await page.evaluate(() => (window as any).state.stalls as number);
  await new Promise((r) => setTimeout(r, 12_000));
  const state = await page.evaluate(() => (window as any).state as { latencies: number[]; errors: string[]; stalls: number });
  const latencies = state.latencies.slice(8);
  const med = median(latencies);
  t.comment(`Shaka latency median ${med.toFixed(2)} s over ${latencies.length} samples`);
  t.same(pageErrors, [], 'no page errors');
  t.same(failed, [], 'no failed request');
  t.same(state.errors, [], 'no Shaka error');
  t.ok(latencies.length > 30, 'playback went on');
  t.equal(state.stalls - stallsAtStart, 0, 'no stall while playing');
  t.ok(med > 0 && med < 4, `latency median ${med.toFixed(2)} s < 4 s`);
});
