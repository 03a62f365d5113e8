import t from 'tap';
import { startOrigin, waitUntil } from '../helpers/origin.js';
import { stopPublisher } from '../helpers/ffmpeg.js';
import { encodeKinds, PUBLISHER_KINDS, startLoopPublisher } from '../helpers/publisher-kinds.js';
import { fileBitrates } from '../helpers/stream-bitrate.js';
import type { ChannelView } from '../../src/api/channel-lookup.js';

const ADMIN = 'ingest-stats-admin-token-0123456789abcdef';
const kinds = PUBLISHER_KINDS.filter((k) => k.id === 'v720p30-gop1s' || k.id === 'irregular-gop');

/**
 * Real ffmpeg publishers looping files whose bit rates ffprobe reads from the packets: the
 * channel's API status must show what they send, measured by the origin itself.
 */
t.test('the API status shows the ingest figures of real publishers', async (t) => {
  const files = await encodeKinds(kinds);
  const o = await startOrigin({
    api: { port: 0, host: '127.0.0.1', adminToken: ADMIN },
    channels: kinds.map((k, i) => ({ id: k.id, streamKey: `ingest-key-${i}-0123`, latencyMode: 'low' })),
  });
  t.teardown(() => o.close());
  const status = async (id: string) => {
    const r = await fetch(`http://127.0.0.1:${o.ports.api}/v1/channels/${id}`, { headers: { authorization: `Bearer ${ADMIN}` } });
    t.equal(r.status, 200);
    return ((await r.json()) as ChannelView).status!.ingest;
  };
  const idle = await status(kinds[0].id);
  t.match(idle, { publishing: false, publisher: null, video: null, audio: null, totals: { sessions: 0, bytesIn: 0 } }, 'idle: nothing measured');

  const publishers = kinds.map((k, i) => startLoopPublisher(files.get(k.id)!, o.rtmp(`ingest-key-${i}-0123`)));
  t.teardown(() => Promise.all(publishers.map(stopPublisher)));
  // A whole 10 s window and a bit: the 10 s figures are full.
  await waitUntil(async () => (await status(kinds[0].id)).publishing, 10_000, 'the publisher');
  await new Promise((r) => setTimeout(r, 12_500));

  for (const k of kinds) {
    const s = await status(k.id);
    const ref = await fileBitrates(files.get(k.id)!);
    const within = (measured: number, r: { windowMin: number; windowMax: number }, what: string) =>
      t.ok(measured >= r.windowMin * 0.95 && measured <= r.windowMax * 1.05,
        `${k.id} ${what} over 10 s: ${Math.round(measured / 1000)} kb/s, the file has ${Math.round(r.windowMin / 1000)}–${Math.round(r.windowMax / 1000)} kb/s over 10 s`);
    within(s.video!.bitrate10s, ref.video!, 'video');
    within(s.audio!.bitrate10s, ref.audio!, 'audio');
    t.ok(s.video!.bitrate1s > 0, `${k.id}: a 1 s rate (${s.video!.bitrate1s})`);
    t.ok(Math.abs(s.video!.frameRate - 30) <= 1.5, `${k.id}: ${s.video!.frameRate} fps`);
    t.match(s.publisher, { address: '127.0.0.1', software: /Lavf|FMLE/ }, `${k.id}: publisher ${JSON.stringify(s.publisher)}`);
    t.match(s.video, { codec: /^avc1\./, width: k.id === 'irregular-gop' ? 640 : 1280 });
    t.match(s.audio, { codec: 'mp4a.40.2', sampleRate: 48000, channels: 2 });
    t.ok(Math.abs(s.avDriftMs!) < 150, `${k.id}: A/V drift ${s.avDriftMs} ms`);
    t.ok(s.lastFrameAgeMs! < 1000, `${k.id}: last frame ${s.lastFrameAgeMs} ms ago`);
    t.match(s.totals, { sessions: 1, reconnects: 0, lateFrames: 0 });
    // The packager refuses what comes before the first video keyframe (an audio frame or two).
    t.ok(s.totals.droppedFrames <= 3, `${k.id}: ${s.totals.droppedFrames} frames dropped`);
    t.match(s.pipeline, { queued: Number, dropped: s.totals.droppedFrames, rungs: [] });
  }
  const gop1 = (await status('v720p30-gop1s')).video!.keyframeInterval!;
  t.ok(Math.abs(gop1.minMs - 1000) <= 34 && Math.abs(gop1.maxMs - 1000) <= 34, `1 s GOP: ${JSON.stringify(gop1)}`);
  // Keyframes at 0, 0.7, 2.3, 2.9, 4.6, 7.6, 8.1, 9.0, 11.5, 12.1, 14.9 s of 16: 0.5 s to 3.0 s apart.
  const irregular = (await status('irregular-gop')).video!.keyframeInterval!;
  t.ok(Math.abs(irregular.minMs - 500) <= 34 && Math.abs(irregular.maxMs - 3000) <= 34, `irregular GOP: ${JSON.stringify(irregular)}`);

  await Promise.all(publishers.map(stopPublisher));
  const after = await waitUntil(async () => { const s = await status(kinds[0].id); return !s.publishing && s; }, 10_000, 'the publisher to leave');
  t.match(after, { publishing: false, video: null, totals: { sessions: 1 } }, 'totals stay after the session');
  t.ok(after.totals.bytesIn > 1_000_000, `bytes in: ${after.totals.bytesIn}`);
});
