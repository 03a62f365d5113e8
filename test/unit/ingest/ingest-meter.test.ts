import t from 'tap';
import { IngestMeter } from '../../../src/ingest/ingest-meter.js';
import { TRACKS } from '../../helpers/fake-channel.js';
import { ManualClock } from '../../helpers/manual-clock.js';

const T0 = 1_700_000_000_000;

/**
 * A publisher on the clock: 30 fps video of `videoBytes` per frame with a keyframe every `gop`
 * frames, and AAC at 48 kHz (1024 samples, 21.333 ms) of `audioBytes`, audio timestamps shifted
 * by `audioShiftMs`. Each frame arrives when its dts says (plus the publisher's start).
 */
function publish(meter: IngestMeter, clock: ManualClock, seconds: number,
  o: { videoBytes?: number; audioBytes?: number; gop?: number | ((i: number) => boolean); audioShiftMs?: number; startDts?: number } = {}) {
  const start = clock.now, startDts = o.startDts ?? 0;
  const frames: { at: number; trackId: number; dts: number; keyframe: boolean; size: number }[] = [];
  for (let i = 0; i < seconds * 30; i++) {
    const dts = startDts + Math.round((i * 1000) / 30);
    const key = typeof o.gop === 'function' ? o.gop(i) : i % (o.gop ?? 60) === 0;
    frames.push({ at: start + dts - startDts, trackId: 0, dts, keyframe: key, size: o.videoBytes ?? 4000 });
  }
  for (let i = 0; i < (seconds * 48000) / 1024; i++) {
    const dts = startDts + Math.round((i * 1024 * 1000) / 48000);
    frames.push({ at: start + dts - startDts, trackId: 1, dts: dts + (o.audioShiftMs ?? 0), keyframe: true, size: o.audioBytes ?? 300 });
  }
  frames.sort((a, b) => a.at - b.at);
  for (const f of frames) {
    clock.now = f.at;
    meter.frame({ trackId: f.trackId, dts: f.dts, pts: f.dts, keyframe: f.keyframe, data: Buffer.alloc(f.size) });
  }
  clock.now = start + seconds * 1000;
}

/** A meter on a manual clock with a publisher connected and its tracks declared. */
function publishingMeter() {
  const clock = new ManualClock(T0);
  const meter = new IngestMeter(clock.read);
  meter.startSession('192.0.2.7', false);
  meter.setTracks(TRACKS);
  return { clock, meter };
}

t.test('rates over 1 s and 10 s, frame rate, codecs and the publisher', async (t) => {
  const { clock, meter } = publishingMeter();
  meter.setSoftware('FMLE/3.0 (compatible; Lavf59.27.100)');
  publish(meter, clock, 20);
  const s = meter.snapshot();
  t.equal(s.publishing, true);
  t.same(s.publisher, { address: '192.0.2.7', software: 'FMLE/3.0 (compatible; Lavf59.27.100)' });
  t.equal(s.sessionStartedAt, T0);
  // 30 × 4000 B × 8 = 960 kb/s; audio 46.875 × 300 B × 8 = 112.5 kb/s.
  t.ok(Math.abs(s.video!.bitrate10s - 960_000) <= 960_000 * 0.01, `video over 10 s: ${s.video!.bitrate10s}`);
  t.ok(Math.abs(s.video!.bitrate1s - 960_000) <= 960_000 * 0.04, `video over 1 s: ${s.video!.bitrate1s}`);
  t.ok(Math.abs(s.audio!.bitrate10s - 112_500) <= 112_500 * 0.02, `audio over 10 s: ${s.audio!.bitrate10s}`);
  t.ok(Math.abs(s.video!.frameRate - 30) <= 0.3, `frame rate ${s.video!.frameRate}`);
  t.match(s.video, { codec: 'avc1.64001f', width: 1280, height: 720 });
  t.match(s.audio, { codec: 'mp4a.40.2', sampleRate: 48000, channels: 2 });
  t.same(s.video!.keyframeInterval, { minMs: 2000, maxMs: 2000, lastMs: 2000 });
  t.ok(Math.abs(s.avDriftMs!) <= 25, `aligned tracks: drift ${s.avDriftMs} ms`);
  t.equal(s.lastFrameAgeMs! < 40, true);
  t.equal(s.totals.framesIn, 20 * 30 + Math.ceil((20 * 48000) / 1024));
  t.equal(s.totals.bytesIn, 20 * 30 * 4000 + Math.ceil((20 * 48000) / 1024) * 300);
  t.equal(s.pipeline, null, 'no pipeline asked about');
});

t.test('a session younger than the window is averaged over its own length', async (t) => {
  const { clock, meter } = publishingMeter();
  publish(meter, clock, 3);
  const v = meter.snapshot().video!;
  t.ok(Math.abs(v.bitrate10s - 960_000) <= 960_000 * 0.05, `3 s old: ${v.bitrate10s} b/s, not diluted to a third`);
  t.ok(Math.abs(v.frameRate - 30) <= 1.5, `frame rate ${v.frameRate}`);
});

t.test('a stalled publisher: the rates fall to 0 and the last frame ages', async (t) => {
  const { clock, meter } = publishingMeter();
  publish(meter, clock, 12);
  clock.advance(1500);
  let s = meter.snapshot();
  t.equal(s.video!.bitrate1s, 0, 'nothing in the last second');
  t.ok(s.video!.bitrate10s > 0 && s.video!.bitrate10s < 960_000, 'the 10 s rate falls');
  t.ok(s.lastFrameAgeMs! >= 1500);
  clock.advance(20_000);
  s = meter.snapshot();
  t.equal(s.video!.bitrate10s, 0, 'the window emptied');
  t.equal(s.video!.frameRate, 0);
});

t.test('keyframe intervals of an irregular GOP: min, max and the last', async (t) => {
  const { clock, meter } = publishingMeter();
  // Keyframes at frames 0, 45, 135, 165: 1.5 s, 3 s, 1 s.
  const keys = new Set([0, 45, 135, 165]);
  publish(meter, clock, 6, { gop: (i) => keys.has(i) });
  t.same(meter.snapshot().video!.keyframeInterval, { minMs: 1000, maxMs: 3000, lastMs: 1000 });
});

t.test('drift: audio timestamps 2 s ahead of video at the same arrival', async (t) => {
  const { clock, meter } = publishingMeter();
  publish(meter, clock, 10, { audioShiftMs: 2000 });
  const d = meter.snapshot().avDriftMs!;
  t.ok(Math.abs(d - 2000) <= 25, `drift ${d} ms`);
});

t.test('late frames, drops, sessions and reconnects are counted; totals outlive sessions', async (t) => {
  const { clock, meter } = publishingMeter();
  publish(meter, clock, 2);
  meter.frame({ trackId: 0, dts: 100, pts: 100, keyframe: false, data: Buffer.alloc(10) });
  meter.dropped();
  meter.dropped(2);
  meter.endSession();
  let s = meter.snapshot();
  t.equal(s.publishing, false);
  t.equal(s.video, null);
  t.equal(s.lastFrameAgeMs, null);
  t.match(s.totals, { lateFrames: 1, droppedFrames: 3, sessions: 1, reconnects: 0 });
  meter.startSession('192.0.2.8', true);
  meter.setTracks(TRACKS);
  publish(meter, clock, 1, { startDts: 5000 });
  s = meter.snapshot({ queued: 3, dropped: 4 });
  t.match(s.totals, { lateFrames: 1, droppedFrames: 7, sessions: 2, reconnects: 1 });
  t.same(s.pipeline, { queued: 3, dropped: 4, rungs: [] });
  s = meter.snapshot({ queued: 0, dropped: 4 });
  t.equal(s.totals.droppedFrames, 7, 'the pipeline\'s drops are counted once');
  t.equal(s.publisher!.address, '192.0.2.8');
  t.equal(s.publisher!.software, null, 'software is per session');
});

t.test('a rung\'s real-time factor: frames it handled per source frame, over 10 s', async (t) => {
  const { clock, meter } = publishingMeter();
  let encoded = 0, decimated = 0, dropped = 0;
  const stats = () => ({ queued: 0, dropped: 0, rungs: [{ name: '720p', encoded, dropped, decimated }, { name: '360p', encoded: encoded / 2, dropped: encoded / 2, decimated: 0 }] });
  t.equal(meter.snapshot(stats()).pipeline!.rungs[0].realTimeFactor, null, 'not before 10 s');
  for (let s = 0; s < 15; s++) {
    publish(meter, clock, 1, { startDts: s * 1000 });
    encoded += 20; decimated += 10; dropped += 0;
    meter.snapshot(stats());
  }
  const rungs = meter.snapshot(stats()).pipeline!.rungs;
  t.equal(rungs[0].realTimeFactor, 1, 'encoded + skipped for the cap = every source frame');
  t.equal(rungs[1].realTimeFactor, 0.333, 'a rung that encodes a third of the frames');
  t.match(rungs[1], { name: '360p', framesEncoded: 150, framesDropped: 150 });
});
