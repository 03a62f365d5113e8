import t from 'tap';
import { EventBus } from '../../../src/events.js';
import { silentLogger } from '../../../src/log.js';
import { MSG } from '../../../src/ingest/rtmp/rtmp-session.js';
import type { AccessUnit, TrackInfo } from '../../../src/media/types.js';
import { RestreamTarget, retryDelayMs, type PushConnection, type RestreamTargetOptions } from '../../../src/restream/restream-target.js';
import { ChannelRestream } from '../../../src/restream/channel-restream.js';
import { maskedTargetUrl, parseTargetUrl } from '../../../src/restream/target-url.js';
import { SealedText } from '../../../src/control/sealed-text.js';
import { parseVideoTag, parseAudioTag } from '../../../src/ingest/rtmp/flv.js';

const TRACKS: TrackInfo[] = [
  { kind: 'video', id: 0, codec: 'h264', timescale: 1000, codecConfig: Buffer.from([1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 4, 0x68, 0xee, 0x3c, 0x80]), width: 640, height: 360, frameRate: 30 },
  { kind: 'audio', id: 1, codec: 'aac', timescale: 1000, codecConfig: Buffer.from([0x11, 0x90]), sampleRate: 48000, channels: 2 },
];

/** A connection the test drives: what was sent, how much waits, and a close from the far side. */
class FakeConnection implements PushConnection {
  bufferedBytes = 0;
  readonly sent: { type: number; ts: number; body: Buffer }[] = [];
  closedWith: string | undefined;
  private onClosed: ((reason: string) => void) | undefined;
  send(type: number, ts: number, body: Buffer): void { this.sent.push({ type, ts, body }); }
  close(reason = 'closed'): void { this.closedWith = reason; }
  whenClosed(cb: (reason: string) => void): void { this.onClosed = cb; }
  drop(reason: string): void { this.onClosed?.(reason); }
}

function harness(o: Partial<RestreamTargetOptions> = {}) {
  const clock = { now: 1_000_000 };
  const conns: FakeConnection[] = [];
  const opens: string[] = [];
  let refuse: string | undefined;
  const events = new EventBus();
  const seen: { name: string; payload: any }[] = [];
  events.onAny((name, payload) => seen.push({ name, payload }));
  const options: RestreamTargetOptions = {
    channelId: 'ch', logger: silentLogger(), events, maxQueueBytes: 10_000, stallTimeoutMs: 5000, connectTimeoutMs: 1000,
    now: () => clock.now,
    open: async (url) => {
      opens.push(`${url.host}:${url.port}/${url.app}`);
      if (refuse) throw new Error(refuse);
      const c = new FakeConnection();
      conns.push(c);
      return c;
    },
    ...o,
  };
  return { clock, conns, opens, events, seen, options, refuse: (why: string | undefined) => { refuse = why; } };
}

const frame = (trackId: number, dts: number, keyframe = false, bytes = 1000): AccessUnit =>
  ({ trackId, dts, pts: dts + (trackId === 0 ? 66 : 0), keyframe, data: Buffer.alloc(bytes, 7) });
const settle = () => new Promise((r) => setImmediate(r));

t.test('target URLs: the last path element is the key; masked to its last 4 characters', async (t) => {
  t.same(parseTargetUrl('rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl-mnop'),
    { tls: false, host: 'a.rtmp.youtube.com', port: 1935, app: 'live2', streamKey: 'abcd-efgh-ijkl-mnop', tcUrl: 'rtmp://a.rtmp.youtube.com/live2' });
  t.same(parseTargetUrl('rtmps://live-api-s.facebook.com:443/rtmp/FB-123?s_bl=1').streamKey, 'FB-123?s_bl=1', 'a query goes with the key');
  t.equal(parseTargetUrl('rtmps://x.example/app/inst/key').app, 'app/inst', 'an application instance stays in the app');
  t.equal(parseTargetUrl('rtmps://x.example/app/key').port, 443);
  t.equal(maskedTargetUrl('rtmp://live.twitch.tv/app/live_123456_abcdefgh'), 'rtmp://live.twitch.tv/app/…efgh');
  t.equal(maskedTargetUrl('rtmp://h/app/short'), 'rtmp://h/app/…', 'a short key is not shown at all');
  for (const [bad, why] of [['http://h/app/key', /not rtmp/], ['rtmp://h/key', /\/app\/streamKey/], ['rtmp://u:p@h/app/key', /credentials/], ['nonsense', /not a URL/]] as const) {
    t.throws(() => parseTargetUrl(bad), why, bad);
  }
});

t.test('sealed text: opens with the same key only, and says nothing of the URL', async (t) => {
  const a = new SealedText(Buffer.alloc(32, 1)), b = new SealedText(Buffer.alloc(32, 2));
  const sealed = a.seal('rtmp://h/app/secret-key');
  t.notMatch(sealed, /secret/);
  t.not(a.seal('rtmp://h/app/secret-key'), sealed, 'a fresh IV each time');
  t.equal(a.open(sealed), 'rtmp://h/app/secret-key');
  t.throws(() => b.open(sealed), /cannot be opened with this server secret/);
  t.throws(() => a.open(`${sealed.slice(0, -2)}xx`), /cannot be opened/, 'altered');
});

t.test('connects, sends metadata and sequence headers, then frames from the first keyframe with timestamps from 0', async (t) => {
  const h = harness();
  const target = new RestreamTarget({ id: 'r1', name: 'yt', url: 'rtmp://h.example/live/key-12345678', rendition: 'source', enabled: true, origin: 'api' }, h.options);
  target.setTracks(TRACKS);
  target.start();
  await settle();
  const c = h.conns[0];
  t.same(h.opens, ['h.example:1935/live']);
  t.same(c.sent.map((m) => m.type), [MSG.dataAmf0, MSG.video, MSG.audio], 'onMetaData, AVC and AAC sequence headers');
  target.write(frame(1, 5000), 5000 + 1e9);
  target.write(frame(0, 5010), 5010 + 1e9);
  target.write(frame(0, 5043, true), 5043 + 1e9);
  target.write(frame(1, 5050), 5050 + 1e9);
  const media = c.sent.slice(3);
  t.same(media.map((m) => [m.type, m.ts]), [[MSG.video, 0], [MSG.audio, 7]], 'nothing before the first keyframe; timestamps rebased to it');
  const v = parseVideoTag(media[0].body, 0);
  t.match(v, { kind: 'frame', au: { keyframe: true, dts: 0, pts: 66 } }, 'an FLV video tag ingest reads back (composition time kept)');
  t.match(parseAudioTag(media[1].body, 7), { kind: 'frame' });
  t.same(h.seen.map((e) => e.name), ['restream.started']);
  t.notMatch(JSON.stringify(h.seen), /12345678/, 'the event names the target, never its key');
  t.equal(target.status().state, 'connected');
});

t.test('a target that falls behind drops frames to the next keyframe, and one that takes nothing for the stall timeout is dropped and retried', async (t) => {
  const h = harness();
  const target = new RestreamTarget({ id: 'r1', name: 'slow', url: 'rtmp://h/live/k', rendition: 'source', enabled: true, origin: 'config' }, h.options);
  target.setTracks(TRACKS);
  target.start();
  await settle();
  const c = h.conns[0];
  let dts = 0;
  const next = (key = false) => { dts += 33; h.clock.now += 33; target.write(frame(0, dts, key), dts); };
  next(true); next(); next();
  const before = c.sent.length;
  c.bufferedBytes = 12_000; // over maxQueueBytes
  next(); next(); next(true);
  t.equal(c.sent.length, before, 'nothing sent while behind, even a keyframe with the queue over half full');
  c.bufferedBytes = 4000;
  next(); next(true);
  t.equal(c.sent.length, before + 1, 'the next keyframe with the queue under half goes out');
  t.equal(target.status().framesDropped, 4, 'the frames skipped while behind are counted');
  c.bufferedBytes = 6000;
  next();
  h.clock.now += 5000;
  next();
  t.equal(c.closedWith, 'the target took no data for 5 s', 'dropped after the stall timeout');
  const st = target.status();
  t.equal(st.state, 'retrying');
  t.equal(st.lastError, 'the target took no data for 5 s');
  t.same(h.seen.at(-1), { name: 'restream.failed', payload: { channel: 'ch', target: 'r1', name: 'slow', url: 'rtmp://h/live/…', rendition: 'source', error: 'the target took no data for 5 s', retryInSec: 1, attempt: 1 } });
  target.stop('test over');
});

t.test('retries back off 1, 2, 4 … 30 s; a refusal is reported with the server\'s words; stop ends the tries', async (t) => {
  t.same([1, 2, 3, 4, 5, 6, 9].map(retryDelayMs), [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  const h = harness();
  h.refuse('refused: NetStream.Publish.BadName (bad key)');
  const target = new RestreamTarget({ id: 'r1', name: 'x', url: 'rtmp://h/live/k', rendition: 'source', enabled: true, origin: 'api' }, h.options);
  target.start();
  await settle();
  t.match(target.status(), { state: 'retrying', retries: 1, lastError: 'refused: NetStream.Publish.BadName (bad key)' });
  await new Promise((r) => setTimeout(r, 1100));
  t.equal(h.opens.length, 2, 'tried again after 1 s');
  t.equal(target.status().retries, 2);
  target.stop('operator');
  t.equal(target.status().state, 'stopped');
  await new Promise((r) => setTimeout(r, 2100));
  t.equal(h.opens.length, 2, 'no try after stop');
  t.same(h.seen.map((e) => e.name), ['restream.failed', 'restream.failed', 'restream.stopped']);
});

t.test('a connection the far side drops: restream.failed, retried, and the next connection starts at a keyframe again', async (t) => {
  const h = harness();
  const target = new RestreamTarget({ id: 'r1', name: 'x', url: 'rtmp://h/live/k', rendition: 'source', enabled: true, origin: 'api' }, h.options);
  target.setTracks(TRACKS);
  target.start();
  await settle();
  target.write(frame(0, 0, true), 0);
  h.conns[0].drop('the server closed the connection');
  t.match(target.status(), { state: 'retrying', lastError: 'connection lost: the server closed the connection' });
  await new Promise((r) => setTimeout(r, 1100));
  t.equal(h.conns.length, 2, 'reconnected');
  target.write(frame(0, 33), 33);
  target.write(frame(0, 66, true), 66);
  t.same(h.conns[1].sent.slice(3).map((m) => m.ts), [0], 'from the next keyframe, timestamps from 0 on the new connection');
  target.stop('done');
});

t.test('a channel\'s targets start with its stream, stay through a reconnect, stop when the stream ends; an operator stop holds for the stream', async (t) => {
  const h = harness();
  const restream = new ChannelRestream({ channelId: 'ch', logger: silentLogger(), events: h.events, reconnectWindowMs: 200,
    target: { maxQueueBytes: 10_000, stallTimeoutMs: 5000, connectTimeoutMs: 1000, open: h.options.open } });
  restream.setTargets([
    { id: 'a', name: 'a', url: 'rtmp://h/live/a', rendition: 'source', enabled: true, origin: 'api' },
    { id: 'b', name: 'b', url: 'rtmp://h/live/b', rendition: 'source', enabled: false, origin: 'api' },
  ]);
  t.same(restream.status().map((s) => s.state), ['idle', 'idle']);
  t.equal(restream.start('a'), 'not-live', 'an operator cannot start a target while the channel is not streaming');
  restream.setTracks(TRACKS);
  await settle();
  t.same(restream.status().map((s) => s.state), ['connected', 'idle'], 'enabled targets start with the stream');
  t.equal(restream.start('b'), 'started');
  await settle();
  t.equal(restream.stop('a'), true);
  restream.endSession();
  restream.setTracks(TRACKS); // the publisher came back within the reconnect window
  await settle();
  t.same(restream.status().map((s) => s.state), ['stopped', 'connected'], 'a reconnect keeps b, and a stays stopped by the operator');
  restream.endSession();
  await new Promise((r) => setTimeout(r, 300));
  t.same(restream.status().map((s) => s.state), ['stopped', 'stopped'], 'the stream ended: every target stopped');
  const stops = h.seen.filter((e) => e.name === 'restream.stopped').map((e) => `${e.payload.target}: ${e.payload.reason}`);
  t.same(stops, ['a: stopped by an operator', 'b: the channel\'s stream ended']);
  restream.setTargets([]);
  t.equal(restream.size, 0);
});

