/**
 * WHIP from a browser in hls.js (issue 20): Chromium's fake camera, with the wall clock burned
 * into its pictures (test/helpers/whip-publisher.ts), goes live from the origin's Go-live page;
 * hls.js (low-latency mode) plays the channel in another page and reads the clock back. Beside
 * it in the same run, ffmpeg publishes the same kind of source over RTMP to a second channel,
 * watched the same way: the two glass-to-glass medians side by side. The bound: the
 * ultra-low budget (latency-modes.ts, 2.5 s for hls.js LL) plus 0.5 s.
 */
import t from 'tap';
import { startOrigin, waitUntil } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { launchChromium, median } from '../helpers/browser.js';
import { openViewer, untilPlaying, watchFor } from '../helpers/latency-watch.js';
import { goLive, launchPublisherBrowser } from '../helpers/whip-publisher.js';

const ULTRA_LOW_BOUND_SEC = 2.5;
const WHIP_SLACK_SEC = 0.5;

t.test('WHIP from the Go-live page plays in hls.js within the ultra-low budget + 0.5 s (RTMP beside it)', async (t) => {
  const o = await startOrigin({
    channels: [
      { id: 'over-rtmp', streamKey: 'e2e-rtmp-key-5678', latencyMode: 'ultra-low' },
      { id: 'over-whip', streamKey: 'e2e-whip-key-5678', latencyMode: 'ultra-low' },
    ],
  });
  t.teardown(() => o.close());
  const rtmp = startPublisher(o.rtmp('e2e-rtmp-key-5678'), { width: 640, height: 360, fps: 30, gop: 30, burnedClock: true, audio: true });
  t.teardown(() => stopPublisher(rtmp));
  const camera = await launchPublisherBrowser();
  t.teardown(() => camera.close());
  const publisher = await goLive(camera, { api: `http://127.0.0.1:${o.ports.api}`, channel: 'over-whip', credential: 'e2e-whip-key-5678', burnedClock: true });
  t.teardown(() => publisher.stop());
  // Viewers join once 4 segments are listed: one joining before HOLD-BACK's worth of media starts
  // at the oldest segment and keeps that latency (6 s here once), whatever the ingest.
  for (const id of ['over-rtmp', 'over-whip']) {
    await waitUntil(async () => ((await (await fetch(`${o.http}/live/${id}/source.m3u8`)).text()).match(/#EXTINF:/g)?.length ?? 0) >= 4, 40_000, `4 segments of ${id}`);
  }
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const viewers = await Promise.all(['over-rtmp', 'over-whip'].map((id) => openViewer(browser, o.http, `${o.http}/live/${id}/index.m3u8`, 'hls.js LL')));
  t.teardown(() => Promise.all(viewers.map((v) => v.close())));
  await Promise.all(viewers.map((v) => untilPlaying(v, 60_000)));
  await new Promise((r) => setTimeout(r, 3000));
  const [overRtmp, overWhip] = await Promise.all(viewers.map((v) => watchFor(v, 15_000)));
  const rtmpMed = median(overRtmp.glass), whipMed = median(overWhip.glass);
  const page = await publisher.state();
  const previewMed = median(page.latencies.slice(-20));
  t.comment(`glass to glass, hls.js LL, same run: RTMP (ffmpeg) ${rtmpMed.toFixed(2)} s, WHIP (Chromium) ${whipMed.toFixed(2)} s; ` +
    `of which after the origin stamped PROGRAM-DATE-TIME (wall clock − PDT): RTMP ${median(overRtmp.pdt).toFixed(2)} s, WHIP ${median(overWhip.pdt).toFixed(2)} s; ` +
    `stalls RTMP ${overRtmp.stalls}, WHIP ${overWhip.stalls}; WHIP frames ${overWhip.presented} presented, ${overWhip.misreads} misread, widths ${overWhip.widths.join('/')}; the Go-live page's own preview shows ${previewMed.toFixed(2)} s (wall clock − PDT)`);
  t.ok(overWhip.glass.length > 150, `the WHIP channel plays with the burned clock readable (${overWhip.glass.length} frames read in 15 s)`);
  t.ok(whipMed <= ULTRA_LOW_BOUND_SEC + WHIP_SLACK_SEC, `WHIP ${whipMed.toFixed(2)} s ≤ the ultra-low bound ${ULTRA_LOW_BOUND_SEC} s + ${WHIP_SLACK_SEC} s`);
  t.equal(overWhip.errors.filter((e: { fatal: boolean }) => e.fatal).length, 0, 'no fatal hls.js error');
  t.ok(page.live && page.latencies.length > 0, `the Go-live page is live and its preview plays, showing its latency (${page.latencies.length} readings)`);
  t.same(page.errors, [], 'the Go-live page reported no error');
});
