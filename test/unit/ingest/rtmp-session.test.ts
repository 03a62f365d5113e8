import t from 'tap';
import { Amf0EcmaArray } from '../../../src/ingest/rtmp/amf0.js';
import { RtmpSession, type PublishDecision, type PublishRequest } from '../../../src/ingest/rtmp/rtmp-session.js';
import { capturingLogger, FakeRtmpClient, RecordingSink } from './fake-rtmp-client.js';
import { avcc, h264Fixture } from './h264-fixtures.js';

const fx = h264Fixture({ width: 640, height: 360, profile: 'high', level: '3.0' });
const ASC = Buffer.from([0x11, 0x90]);
const SECRET = 'sk_live_9f8e7d6c';

const avcSeq = Buffer.concat([Buffer.from([0x17, 0, 0, 0, 0]), fx.avcC]);
const aacSeq = Buffer.concat([Buffer.from([0xaf, 0]), ASC]);
const keyframe = Buffer.concat([Buffer.from([0x17, 1, 0, 0, 0]), avcc(fx.frameNals)]);
const interFrame = (cto: number) => { const h = Buffer.from([0x27, 1, 0, 0, 0]); h.writeIntBE(cto, 2, 3); return Buffer.concat([h, Buffer.from([0, 0, 0, 2, 0x41, 0x9a])]); };
const aacFrame = Buffer.from([0xaf, 1, 0x21, 0x10, 0x04]);

interface Harness {
  session: RtmpSession;
  client: FakeRtmpClient;
  sink: RecordingSink;
  ended: string[];
  requests: PublishRequest[];
  log: ReturnType<typeof capturingLogger>;
  /** Sends bytes to the session, feeding its answers to the client. */
  send: (b: Buffer) => void;
}

function harness(decide?: (req: PublishRequest, sink: RecordingSink) => PublishDecision | Promise<PublishDecision>): Harness {
  const client = new FakeRtmpClient();
  const sink = new RecordingSink();
  const ended: string[] = [];
  const requests: PublishRequest[] = [];
  const log = capturingLogger();
  const session = new RtmpSession({
    logger: log.logger,
    remoteAddress: '127.0.0.1',
    onPublish: (req) => {
      requests.push(req);
      return decide ? decide(req, sink) : { accept: true, channelId: 'ch-1', sink };
    },
    send: (b) => client.receive(b),
    end: (reason) => ended.push(reason),
  });
  return { session, client, sink, ended, requests, log, send: (b) => session.receive(b) };
}

function connect(h: Harness, app = 'live'): void {
  h.send(h.client.c0c1());
  h.send(h.client.c2());
  h.send(h.client.command(0, 'connect', 1, { app, type: 'nonprivate', flashVer: 'FMLE/3.0', tcUrl: `rtmp://127.0.0.1/${app}` }));
}

function publish(h: Harness, name = SECRET): void {
  connect(h);
  h.send(h.client.command(0, 'releaseStream', 2, null, name));
  h.send(h.client.command(0, 'FCPublish', 3, null, name));
  h.send(h.client.command(0, 'createStream', 4, null));
  h.send(h.client.command(1, 'publish', 5, null, name, 'live'));
}

t.test('connect is answered with window ack size, peer bandwidth, chunk size and Connect.Success', async (t) => {
  const h = harness();
  connect(h);
  const types = h.client.messages.map((m) => m.type);
  t.same(types, [5, 6, 1, 20]);
  t.equal(h.client.messages[2].payload.readUInt32BE(0), 4096, 'Set Chunk Size 4096');
  const [name, txn, props, info] = h.client.commands()[0] as [string, number, Record<string, unknown>, Record<string, unknown>];
  t.equal(name, '_result');
  t.equal(txn, 1);
  t.match(props, { fmsVer: String });
  t.match(info, { level: 'status', code: 'NetConnection.Connect.Success' });
  t.same(h.ended, []);
});

t.test('a full publish: tracks, access units, unpublish closes the sink once', async (t) => {
  const h = harness();
  publish(h, `${SECRET}?foo=bar`);
  t.equal(h.requests.length, 1);
  t.match(h.requests[0], { app: 'live', streamKey: SECRET, remoteAddress: '127.0.0.1', disconnect: Function }, 'query string stripped');
  const cmds = h.client.commands();
  t.same(cmds.find((c) => c[1] === 4), ['_result', 4, null, 1], 'createStream → stream id 1');
  t.match(h.client.statuses().at(-1), { name: 'onStatus', level: 'status', code: 'NetStream.Publish.Start' });
  t.ok(h.client.messages.some((m) => m.type === 4 && m.payload.readUInt16BE(0) === 0), 'StreamBegin sent');

  h.send(h.client.data(1, '@setDataFrame', 'onMetaData', new Amf0EcmaArray({ width: 640, height: 360, framerate: 30, videocodecid: 7, audiocodecid: 10, stereo: true })));
  h.send(h.client.media(9, 0, avcSeq));
  t.same(h.sink.tracks, [], 'waits for the announced audio');
  h.send(h.client.media(8, 0, aacSeq));
  t.equal(h.sink.tracks.length, 1, 'setTracks once both sequence headers arrived');
  t.match(h.sink.tracks[0], [
    { kind: 'video', id: 0, codec: 'h264', timescale: 1000, width: 640, height: 360, frameRate: 30 },
    { kind: 'audio', id: 1, codec: 'aac', timescale: 1000, sampleRate: 48000, channels: 2 },
  ]);
  t.ok((h.sink.tracks[0][0].codecConfig as Buffer).equals(fx.avcC));

  h.send(h.client.media(9, 40, keyframe));
  h.send(h.client.media(8, 41, aacFrame));
  h.send(h.client.media(9, 73, interFrame(66)));
  h.send(h.client.media(9, 106, interFrame(-33)));
  t.same(h.sink.units.map((u) => [u.trackId, u.dts, u.pts, u.keyframe]), [
    [0, 40, 40, true], [1, 41, 41, true], [0, 73, 139, false], [0, 106, 73, false],
  ]);

  h.send(h.client.command(0, 'FCUnpublish', 6, null, SECRET));
  h.send(h.client.command(0, 'deleteStream', 7, null, 1));
  h.session.close('connection closed');
  t.same(h.sink.closes, ['unpublished by the publisher'], 'sink closed exactly once');
  t.notOk(h.log.text().includes(SECRET), 'the stream key never reaches the logs');
});

t.test('refused publish: onStatus error BadName with the reason, then the connection ends', async (t) => {
  const h = harness(() => ({ accept: false, reason: 'unknown stream key' }));
  publish(h);
  t.match(h.client.statuses().at(-1), { name: 'onStatus', level: 'error', code: 'NetStream.Publish.BadName', description: /unknown stream key/ });
  t.same(h.ended, ['publish refused: unknown stream key']);
  t.ok(h.log.lines().some((l) => l.msg === 'publish refused' && l.reason === 'unknown stream key'), 'reason logged');
  t.notOk(h.log.text().includes(SECRET));
  h.send(h.client.media(9, 0, avcSeq));
  t.same(h.sink.closes, [], 'no sink was ever opened');
});

t.test('refusal code Denied is passed through', async (t) => {
  const h = harness(() => ({ accept: false, reason: 'channel disabled', code: 'NetStream.Publish.Denied' }));
  publish(h);
  t.match(h.client.statuses().at(-1), { level: 'error', code: 'NetStream.Publish.Denied' });
});

t.test('empty stream key is refused without asking', async (t) => {
  const h = harness();
  publish(h, '');
  t.same(h.requests, []);
  t.match(h.client.statuses().at(-1), { level: 'error', code: 'NetStream.Publish.BadName', description: /empty stream key/ });
});

t.test('unknown application is rejected at connect', async (t) => {
  const h = harness();
  connect(h, 'vod');
  t.match(h.client.statuses().at(-1), { name: '_error', level: 'error', code: 'NetConnection.Connect.Rejected' });
  t.same(h.ended, ['unknown application']);
});

t.test('play is refused (ingest only)', async (t) => {
  const h = harness();
  connect(h);
  h.send(h.client.command(0, 'createStream', 2, null));
  h.send(h.client.command(1, 'play', 3, null, 'x'));
  t.match(h.client.statuses().at(-1), { name: 'onStatus', level: 'error', code: 'NetStream.Play.Failed' });
  t.same(h.ended, ['play refused']);
});

t.test('Ping Request is answered with Ping Response carrying the same timestamp', async (t) => {
  const h = harness();
  connect(h);
  const p = Buffer.from([0, 6, 0xde, 0xad, 0xbe, 0xef]);
  h.send(h.client.control(4, p));
  const last = h.client.messages.at(-1)!;
  t.equal(last.type, 4);
  t.same([...last.payload], [0, 7, 0xde, 0xad, 0xbe, 0xef]);
});

t.test('Acknowledgement sent when the peer window is reached', async (t) => {
  const h = harness();
  connect(h);
  const w = Buffer.alloc(4);
  w.writeUInt32BE(5000, 0);
  h.send(h.client.control(5, w));
  t.notOk(h.client.messages.some((m) => m.type === 3), 'no ack yet');
  h.send(h.client.command(0, 'noop', 0, null, 'x'.repeat(3000)));
  const acks = h.client.messages.filter((m) => m.type === 3);
  t.equal(acks.length, 1, 'one ack');
  t.ok(acks[0].payload.readUInt32BE(0) >= 5000, 'sequence number = bytes received');
});

t.test('unsupported codec: status error, connection ends, sink closed once with the reason', async (t) => {
  const h = harness();
  publish(h);
  h.send(h.client.media(9, 0, Buffer.from([0x1c, 0, 0, 0, 0, 1, 2, 3])));
  t.match(h.client.statuses().at(-1), { name: 'onStatus', level: 'error', description: /unsupported video codec id 12 \(HEVC\); this origin accepts H.264 \+ AAC/ });
  t.equal(h.ended.length, 1);
  t.same(h.sink.closes, ['unsupported video codec id 12 (HEVC); this origin accepts H.264 + AAC']);
  h.session.close('connection closed');
  t.equal(h.sink.closes.length, 1);
  t.ok(h.log.lines().some((l) => l.msg === 'publish refused: unsupported codec' && l.channel === 'ch-1'));
});

t.test('without metadata, tracks are declared at the first media frame', async (t) => {
  const h = harness();
  publish(h);
  h.send(h.client.media(9, 0, avcSeq));
  h.send(h.client.media(8, 0, aacSeq));
  t.same(h.sink.tracks, []);
  h.send(h.client.media(9, 0, keyframe));
  t.same(h.sink.tracks.map((ts) => ts.map((x) => x.kind)), [['video', 'audio']]);
  t.equal(h.sink.units.length, 1);
});

t.test('metadata without audio: tracks declared at the video sequence header', async (t) => {
  const h = harness();
  publish(h);
  h.send(h.client.data(1, 'onMetaData', { width: 640, height: 360, videocodecid: 7, framerate: 25 }));
  h.send(h.client.media(9, 0, avcSeq));
  t.same(h.sink.tracks.map((ts) => ts.map((x) => x.kind)), [['video']]);
  h.send(h.client.media(8, 0, aacSeq));
  h.send(h.client.media(8, 10, aacFrame));
  h.send(h.client.media(9, 0, keyframe));
  t.same(h.sink.units.map((u) => u.trackId), [0], 'audio of an undeclared track is dropped');
});

t.test('an announced track that never comes does not stall the channel', async (t) => {
  const h = harness();
  publish(h);
  h.send(h.client.data(1, '@setDataFrame', 'onMetaData', { videocodecid: 7, audiocodecid: 10 }));
  h.send(h.client.media(9, 0, avcSeq));
  for (let ts = 0; ts <= 2100; ts += 100) h.send(h.client.media(9, ts, ts === 0 ? keyframe : interFrame(0)));
  t.same(h.sink.tracks.map((ts) => ts.map((x) => x.kind)), [['video']]);
  t.equal(h.sink.units.length, 22, 'the held frames are all delivered');
  t.same(h.sink.units.map((u) => u.dts), Array.from({ length: 22 }, (_, i) => i * 100));
});

const hostile: { name: string; bytes: (c: FakeRtmpClient) => Buffer[]; match: RegExp }[] = [
  { name: 'bad handshake version', bytes: (c) => [c.c0c1(6)], match: /unsupported RTMP version byte 6/ },
  { name: 'garbage chunks', bytes: (c) => [c.c0c1(), c.c2(), Buffer.from([0x47, 0x45, 0x54, 0x20, 0x2f, 0x20])], match: /protocol error/ },
  { name: 'bad AMF in a command', bytes: (c) => [c.c0c1(), c.c2(), c.writer.write({ csid: 3, type: 20, streamId: 0, timestamp: 0, payload: Buffer.from([0x02, 0, 50, 0x61]) })], match: /protocol error: amf: truncated string/ },
  { name: 'a command before connect', bytes: (c) => [c.c0c1(), c.c2(), c.command(0, 'publish', 1, null, 'x')], match: /"publish" before connect/ },
  {
    name: 'oversized message',
    bytes: (c) => [c.c0c1(), c.c2(), Buffer.from([0x06, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0])],
    match: /exceeds the 1048576-byte limit/,
  },
];
for (const c of hostile) {
  t.test(`hostile input closes only this connection: ${c.name}`, async (t) => {
    const client = new FakeRtmpClient();
    const ended: string[] = [];
    const session = new RtmpSession({
      logger: capturingLogger().logger, remoteAddress: 'x', maxMessageLength: 1 << 20,
      onPublish: () => ({ accept: false, reason: 'no' }), send: (b) => client.receive(b), end: (r) => ended.push(r),
    });
    t.doesNotThrow(() => { for (const b of c.bytes(client)) session.receive(b); });
    t.equal(ended.length, 1);
    t.match(ended[0], c.match);
    t.ok(session.closed);
    t.doesNotThrow(() => session.receive(Buffer.from([1, 2, 3])), 'input after close is ignored');
  });
}

t.test('a throwing sink ends the publish without throwing out of receive()', async (t) => {
  const h = harness();
  const boom = new RecordingSink();
  boom.write = () => { throw new Error('disk full'); };
  const h2 = harness(() => ({ accept: true, channelId: 'c', sink: boom }));
  publish(h2);
  h2.send(h2.client.media(9, 0, avcSeq));
  t.doesNotThrow(() => h2.send(h2.client.media(9, 0, keyframe)));
  t.same(boom.closes, ['sink error: disk full']);
  t.same(h2.ended, ['sink error: disk full']);
  t.ok(h);
});

t.test('a new video configuration mid-stream (resolution change) declares the tracks again; a repeat does not', async (t) => {
  const h = harness();
  publish(h);
  h.send(h.client.data(1, '@setDataFrame', 'onMetaData', new Amf0EcmaArray({ width: 640, height: 360, framerate: 30, videocodecid: 7, audiocodecid: 10 })));
  h.send(h.client.media(9, 0, avcSeq));
  h.send(h.client.media(8, 0, aacSeq));
  h.send(h.client.media(9, 0, keyframe));
  h.send(h.client.media(9, 33, avcSeq)); // OBS repeats the same header: nothing happens
  t.equal(h.sink.tracks.length, 1, 'a repeated sequence header is not a change');
  const small = h264Fixture({ width: 320, height: 180, profile: 'main', level: '3.0' });
  h.send(h.client.media(9, 66, Buffer.concat([Buffer.from([0x17, 0, 0, 0, 0]), small.avcC])));
  t.equal(h.sink.tracks.length, 2, 'the new configuration is declared');
  t.match(h.sink.tracks[1], [{ kind: 'video', width: 320, height: 180 }, { kind: 'audio', sampleRate: 48000 }], 'new video, same audio');
  h.send(h.client.media(9, 66, Buffer.concat([Buffer.from([0x17, 1, 0, 0, 0]), avcc(small.frameNals)])));
  t.same(h.sink.units.map((u) => [u.trackId, u.dts, u.keyframe]), [[0, 0, true], [0, 66, true]], 'frames go on after it');
  t.same(h.ended, [], 'the connection stays up');
});

t.test('a publish answered later (a database lookup): what the publisher sends meanwhile is handled after, in order', async (t) => {
  let answer!: (d: PublishDecision) => void;
  const h = harness((_req, sink) => new Promise((resolve) => { answer = () => resolve({ accept: true, channelId: 'ch-1', sink }); }));
  publish(h);
  t.notOk(h.client.statuses().some((s) => s.name === 'onStatus' && s.code === 'NetStream.Publish.Start'), 'not answered yet');
  h.send(h.client.data(1, '@setDataFrame', 'onMetaData', new Amf0EcmaArray({ width: 640, height: 360, framerate: 30, videocodecid: 7 })));
  h.send(h.client.media(9, 0, avcSeq));
  h.send(h.client.media(9, 40, keyframe));
  t.same(h.sink.units, [], 'held while the decision is pending');
  answer({ accept: true, channelId: 'ch-1', sink: h.sink });
  await new Promise((r) => setImmediate(r));
  t.match(h.client.statuses().at(-1), { code: 'NetStream.Publish.Start' });
  t.equal(h.sink.tracks.length, 1, 'the held sequence header declared the tracks');
  t.same(h.sink.units.map((u) => [u.trackId, u.dts, u.keyframe]), [[0, 40, true]]);
  h.send(h.client.media(9, 73, interFrame(0)));
  t.equal(h.sink.units.length, 2, 'later media goes straight through');
});

t.test('a publish refused later, or a lookup that fails, ends the connection with the reason', async (t) => {
  const refused = harness(async () => ({ accept: false, reason: 'unknown stream key' }));
  publish(refused);
  await new Promise((r) => setImmediate(r));
  t.match(refused.client.statuses().at(-1), { level: 'error', code: 'NetStream.Publish.BadName', description: /unknown stream key/ });
  t.same(refused.ended, ['publish refused: unknown stream key']);
  const failing = harness(async () => { throw new Error('database unreachable'); });
  publish(failing);
  await new Promise((r) => setImmediate(r));
  t.match(failing.client.statuses().at(-1), { level: 'error', code: 'NetStream.Publish.Denied' });
  t.same(failing.ended, ['publish refused: internal error']);
});

t.test('a publisher that leaves before the answer: an accepted publication is closed at once', async (t) => {
  let answer!: () => void;
  const h = harness((_req, sink) => new Promise((resolve) => { answer = () => resolve({ accept: true, channelId: 'ch-1', sink }); }));
  publish(h);
  h.session.close('connection closed');
  answer();
  await new Promise((r) => setImmediate(r));
  t.same(h.sink.closes, ['the publisher left before the publish was answered']);
  t.notOk(h.session.publishing);
});

t.test('disconnect() from the decision ends the connection (an operator stop)', async (t) => {
  const h = harness();
  publish(h);
  h.requests[0].disconnect('stopped by an operator');
  t.same(h.ended, ['stopped by an operator']);
  t.same(h.sink.closes, ['stopped by an operator']);
});
