/**
 * SRT in hls.js (issue 20): the same burned-clock source published over RTMP to one channel and
 * over SRT to another at the same time, the SRT one encrypted (a passphrase) and through a UDP
 * relay losing 5 % of the datagrams both ways; hls.js (low-latency mode) plays each in Chromium.
 * SRT's glass to glass may exceed RTMP's by the SRT latency (the time it holds packets to get
 * lost ones again) and no more, with room for a loaded machine.
 */
import t from 'tap';
import { startOrigin, waitUntil } from '../helpers/origin.js';
import { startPublisher, startSrtPublisher, stopPublisher, type TestSourceOptions } from '../helpers/ffmpeg.js';
import { launchChromium, median } from '../helpers/browser.js';
import { openViewer, untilPlaying, watchFor } from '../helpers/latency-watch.js';
import { startLossRelay } from '../helpers/udp-loss-relay.js';
import { seededRandom } from '../helpers/seeded-random.js';

const SOURCE: TestSourceOptions = { width: 640, height: 360, fps: 30, gop: 30, burnedClock: true, audio: true };
const SRT_LATENCY_MS = 200;
const PASSPHRASE = 'e2e-srt-passphrase';
/** What a loaded 2-core CI machine adds on top of the SRT latency. */
const SLACK_SEC = 0.6;

t.test('SRT (encrypted, 5 % loss) plays in hls.js within RTMP\'s glass to glass plus the SRT latency', async (t) => {
  const o = await startOrigin({
    channels: [
      { id: 'over-rtmp', streamKey: 'e2e-rtmp-key-1234', latencyMode: 'ultra-low' },
      { id: 'over-srt', streamKey: 'e2e-srt-key-12345', latencyMode: 'ultra-low', srtPassphrase: PASSPHRASE },
    ],
  });
  t.teardown(() => o.close());
  const relay = await startLossRelay({ targetPort: o.ports.srt!, lossRate: 0.05, random: seededRandom(t, 'loss') });
  t.teardown(() => relay.close());
  const rtmp = startPublisher(o.rtmp('e2e-rtmp-key-1234'), SOURCE);
  const srt = startSrtPublisher({ ...SOURCE, port: relay.port, streamId: '#!::r=live/e2e-srt-key-12345,m=publish', latencyMs: SRT_LATENCY_MS, passphrase: PASSPHRASE });
  t.teardown(() => Promise.all([stopPublisher(rtmp), stopPublisher(srt)]));
  for (const id of ['over-rtmp', 'over-srt']) {
    await waitUntil(async () => (await fetch(`${o.http}/live/${id}/index.m3u8`)).status === 200, 30_000, `the ${id} stream`);
  }
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const viewers = await Promise.all(['over-rtmp', 'over-srt'].map((id) => openViewer(browser, o.http, `${o.http}/live/${id}/index.m3u8`, 'hls.js LL')));
  t.teardown(() => Promise.all(viewers.map((v) => v.close())));
  await Promise.all(viewers.map((v) => untilPlaying(v, 60_000)));
  await new Promise((r) => setTimeout(r, 3000));
  const [overRtmp, overSrt] = await Promise.all(viewers.map((v) => watchFor(v, 15_000)));
  const rtmpMed = median(overRtmp.glass), srtMed = median(overSrt.glass);
  t.comment(`glass to glass, hls.js LL, same run: RTMP ${rtmpMed.toFixed(2)} s, SRT ${srtMed.toFixed(2)} s (latency ${SRT_LATENCY_MS} ms, ` +
    `${relay.counts.dropped} of ${relay.counts.dropped + relay.counts.forwarded} datagrams dropped); stalls RTMP ${overRtmp.stalls}, SRT ${overSrt.stalls}`);
  t.ok(overSrt.glass.length > 200, `the SRT channel plays (${overSrt.glass.length} frames read in 15 s)`);
  t.ok(srtMed <= rtmpMed + SRT_LATENCY_MS / 1000 + SLACK_SEC, `SRT ${srtMed.toFixed(2)} s ≤ RTMP ${rtmpMed.toFixed(2)} s + ${SRT_LATENCY_MS} ms + ${SLACK_SEC} s`);
  t.ok(srtMed < 2.5 + SRT_LATENCY_MS / 1000, 'within the ultra-low bound of latency-modes.ts plus the SRT latency');
  t.equal(overSrt.errors.filter((e: { fatal: boolean }) => e.fatal).length, 0, 'no fatal hls.js error');
  t.ok(relay.counts.dropped > 20, 'the relay did lose datagrams');
});
