/**
 * A publisher that changes its codec configuration mid-stream (OBS switching resolution): the
 * channel's pipeline restarts on the new configuration with the real native addon. The
 * playlist goes on with a discontinuity and a new init segment, MSNs stay contiguous, the
 * ladder is fitted again to the new source, and the channel reports CODEC_CHANGED.
 */
import t from 'tap';
import { Channel } from '../../../src/media/channel.js';
import { latencyProfile } from '../../../src/media/latency-profile.js';
import { resolveLadder } from '../../../src/media/transcode/ladder.js';
import { CmafPipeline } from '../../../src/addon/cmaf-pipeline.js';
import { EventBus, type OriginEvents } from '../../../src/events.js';
import { silentLogger } from '../../../src/log.js';
import { makeFixture, type Fixture } from '../addon/fixtures.js';
import type { AccessUnit } from '../../../src/media/types.js';

let big: Fixture & { remove(): void }, small: Fixture & { remove(): void };
t.before(async () => {
  [big, small] = await Promise.all([
    makeFixture({ width: 640, height: 360, fps: 30, gop: 30, audio: true, durationSec: 4 }),
    makeFixture({ width: 320, height: 180, fps: 30, gop: 30, audio: true, durationSec: 4 }),
  ]);
});
t.teardown(() => { big?.remove(); small?.remove(); });

/** Writes AUs about 8× faster than real time, so the ladder's bounded queues keep up. */
async function feed(pub: { write(au: AccessUnit): void }, aus: AccessUnit[], offsetMs: number): Promise<void> {
  for (let i = 0; i < aus.length; i++) {
    pub.write({ ...aus[i], dts: aus[i].dts + offsetMs, pts: aus[i].pts + offsetMs });
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 10));
  }
}

t.test('a resolution change mid-stream: discontinuity, new init, contiguous MSNs, ladder refitted, CODEC_CHANGED', async (t) => {
  const events = new EventBus();
  const errors: OriginEvents['channel.error'][] = [];
  events.on('channel.error', (e) => errors.push(e));
  const ch = new Channel({
    id: 'cc', reconnectWindowMs: 1000, endedRetentionMs: 1000, logger: silentLogger(), events,
    profile: latencyProfile('ultra-low', { segmentTargetSec: 2, partTargetSec: 0.2, playlistWindowSec: 60, minSegments: 6 }),
    createPipeline: (o, onChunk, onError, ladder) => new CmafPipeline(o, onChunk, onError, ladder),
    transcode: { ladder: resolveLadder({ rungs: ['240p'] })!, preset: 'ultrafast', encoderThreads: 1, decoderThreads: 1 },
  });
  t.teardown(() => ch.close());
  const pub = ch.startPublication('127.0.0.1');
  pub.setTracks(big.tracks);
  await feed(pub, big.aus, 0);
  t.same(ch.renditions().map((r) => r.name), ['source', '240p'], 'a 360p source gets the 240p rung');

  pub.setTracks(small.tracks);
  const lastBigDts = big.aus[big.aus.length - 1].dts;
  await feed(pub, small.aus, lastBigDts + 33);
  await pub.finish('done');

  // (a loaded machine may add ERR_TRANSCODE_BEHIND from the rung: fed faster than real time)
  const changes = errors.filter((e) => e.code === 'CODEC_CHANGED');
  t.equal(changes.length, 1, 'one channel.error CODEC_CHANGED');
  t.match(changes[0]?.message, /640x360.*▶ 320x180/, 'saying what changed');
  const source = ch.rendition('source')!;
  const segs = source.window.segments;
  t.same(segs.map((s) => s.msn), segs.map((_, i) => segs[0].msn + i), 'MSNs contiguous across the change');
  const firstSmall = segs.findIndex((s) => s.initId !== segs[0].initId);
  t.ok(firstSmall > 0, `the new configuration starts at segment ${firstSmall}`);
  t.ok(segs[firstSmall].discontinuity, 'with a discontinuity');
  t.ok(segs.slice(firstSmall).every((s) => s.initId === segs[firstSmall].initId), 'and one new init id from there');
  t.ok(source.window.init(segs[firstSmall].initId), 'the new init segment is in the window');
  t.equal(segs.slice(firstSmall).reduce((a, s) => a + s.durationMs, 0) > 3000, true, 'the new media plays on (> 3 s)');
  const video = source.tracks.find((x) => x.kind === 'video');
  t.match(video, { width: 320, height: 180 }, 'the source rendition now says 320x180');
  t.same(ch.renditions().map((r) => r.name), ['source'], 'the 240p rung is gone: the new source is smaller');
});
