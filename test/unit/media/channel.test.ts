import t from 'tap';
import { Channel } from '../../../src/media/channel.js';
import { latencyProfile } from '../../../src/media/latency-profile.js';
import { silentLogger } from '../../../src/log.js';
import { TRACKS } from '../../helpers/fake-channel.js';

function channel(now = () => Date.UTC(2026, 10, 25)) {
  const firstMsns: number[] = [];
  const ch = new Channel({ id: 'c', reconnectWindowMs: 1000, endedRetentionMs: 1000, logger: silentLogger(), now,
    profile: latencyProfile('ultra-low', { segmentTargetSec: 2, partTargetSec: 0.2, playlistWindowSec: 20, minSegments: 6 }),
    createPipeline: (opts) => { firstMsns.push(opts.firstMsn); return { write: () => true, close: async () => {} }; } });
  return { ch, firstMsns };
}

t.test('FRAME-RATE is measured at ingest when the metadata lacks it (29.97 from millisecond timestamps)', async (t) => {
  const { ch } = channel();
  const pub = ch.startPublication('127.0.0.1');
  pub.setTracks([{ ...TRACKS[0], frameRate: 0 } as typeof TRACKS[0], TRACKS[1]]);
  for (let i = 0; i <= 120; i++) pub.write({ trackId: 0, dts: Math.round((i * 1001) / 30), pts: 0, keyframe: i % 30 === 0, data: Buffer.alloc(1) });
  const video = (ch as any).tracks.find((x: any) => x.kind === 'video');
  t.equal(video.frameRate, 29.97);
  await pub.finish('done');
});

t.test('a new window starts at the wall clock segment count; MSNs never go back across restarts', async (t) => {
  const now = Date.UTC(2026, 10, 25);
  const a = channel(() => now);
  a.ch.startPublication('x').setTracks(TRACKS);
  t.equal(a.firstMsns[0], Math.floor(now / 2000));
  const later = channel(() => now + 60_000); // "restarted" a minute later, having produced at most 30 segments
  later.ch.startPublication('x').setTracks(TRACKS);
  t.ok(later.firstMsns[0] >= a.firstMsns[0] + 30);
  await a.ch.close(); await later.ch.close();
});

t.test('a publisher leaving during a codec-change restart: what it sent after the change is still packaged', async (t) => {
  const written: { pipeline: number; dts: number }[] = [];
  let made = 0;
  const ch = new Channel({ id: 'r', reconnectWindowMs: 1000, endedRetentionMs: 1000, logger: silentLogger(),
    profile: latencyProfile('ultra-low', { segmentTargetSec: 2, partTargetSec: 0.2, playlistWindowSec: 20, minSegments: 6 }),
    createPipeline: () => {
      const n = ++made;
      // Closing takes a while (an encoder flushing its backlog), as under load.
      return { write: (au) => { written.push({ pipeline: n, dts: au.dts }); return true; }, close: () => new Promise((r) => setTimeout(r, 100)) };
    } });
  const pub = ch.startPublication('x');
  pub.setTracks(TRACKS);
  pub.write({ trackId: 0, dts: 0, pts: 0, keyframe: true, data: Buffer.alloc(1) });
  pub.setTracks([{ ...TRACKS[0], width: 640, height: 360 } as typeof TRACKS[0], TRACKS[1]]);
  for (let i = 1; i <= 3; i++) pub.write({ trackId: 0, dts: i * 33, pts: i * 33, keyframe: i === 1, data: Buffer.alloc(1) });
  await pub.finish('publisher left');
  t.equal(made, 2, 'the new configuration got its pipeline');
  t.same(written, [{ pipeline: 1, dts: 0 }, { pipeline: 2, dts: 33 }, { pipeline: 2, dts: 66 }, { pipeline: 2, dts: 99 }]);
  await ch.close();
});
