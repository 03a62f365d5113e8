import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import t from 'tap';
import { RtmpServer, type PublishDecision, type PublishRequest } from '../../src/ingest/rtmp/rtmp-server.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { capturingLogger, FakeRtmpClient, RecordingSink } from '../unit/ingest/fake-rtmp-client.js';

const KEY = 'sk_test_4b1d2c3e';

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function waitExit(p: ReturnType<typeof startPublisher>, timeoutMs: number): Promise<number | null> {
  if (p.exitCode !== null || p.signalCode !== null) return p.exitCode;
  const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
  const [code] = await once(p, 'exit');
  clearTimeout(timer);
  return code as number | null;
}

/** A server whose onPublish accepts KEY once at a time (like the channel registry would). */
async function startServer(t: { teardown: (fn: () => unknown) => void }, opts: { idleTimeoutMs?: number } = {}) {
  const log = capturingLogger();
  const sinks: RecordingSink[] = [];
  const live = new Set<string>();
  const requests: PublishRequest[] = [];
  const server = new RtmpServer({
    port: 0, host: '127.0.0.1', idleTimeoutMs: opts.idleTimeoutMs ?? 10_000, logger: log.logger,
    onPublish: (req): PublishDecision => {
      requests.push(req);
      if (req.streamKey !== KEY) return { accept: false, reason: 'unknown stream key' };
      if (live.has(req.streamKey)) return { accept: false, reason: 'stream key already live', code: 'NetStream.Publish.Denied' };
      live.add(req.streamKey);
      const sink = new RecordingSink();
      const close = sink.close.bind(sink);
      sink.close = (reason) => { live.delete(req.streamKey); close(reason); };
      sinks.push(sink);
      return { accept: true, channelId: 'ch-test', sink };
    },
  });
  await server.start();
  t.teardown(() => server.close());
  const url = (key = KEY) => `rtmp://127.0.0.1:${server.address()}/live/${key}`;
  return { server, sinks, log, url, requests };
}


t.test('ffmpeg publishes H.264 + AAC: tracks, keyframes every GOP, monotonic dts, one close on stop', async (t) => {
  const { sinks, url, log } = await startServer(t);
  const p = startPublisher(url(), { width: 640, height: 360, fps: 30, gop: 30 });
  t.teardown(() => stopPublisher(p));
  await waitFor(() => sinks[0]?.units.filter((u) => u.trackId === 0 && u.keyframe).length >= 4, 15_000, '4 keyframes');
  const sink = sinks[0];
  t.equal(sink.tracks.length, 1, 'setTracks called once');
  t.match(sink.tracks[0], [
    { kind: 'video', id: 0, codec: 'h264', timescale: 1000, width: 640, height: 360, frameRate: 30 },
    { kind: 'audio', id: 1, codec: 'aac', timescale: 1000, sampleRate: 48000, channels: 2 },
  ]);
  for (const trackId of [0, 1]) {
    const dts = sink.units.filter((u) => u.trackId === trackId).map((u) => u.dts);
    t.ok(dts.length > 20, `track ${trackId} has frames`);
    t.ok(dts.every((d, i) => i === 0 || d >= dts[i - 1]), `track ${trackId} dts monotonic`);
  }
  const video = sink.units.filter((u) => u.trackId === 0);
  t.ok(video[0].keyframe, 'first video frame is a keyframe');
  const kf = video.filter((u) => u.keyframe).map((u) => u.dts);
  const gaps = kf.slice(1).map((d, i) => d - kf[i]);
  t.ok(gaps.every((g) => Math.abs(g - 1000) <= 40), `keyframes every ~1000 ms: ${gaps.join(',')}`);
  t.ok(video.every((u) => u.data.readUInt32BE(0) + 4 <= u.data.length), 'AVCC length-prefixed data');

  await stopPublisher(p);
  await waitFor(() => sink.closes.length > 0, 5000, 'sink.close');
  await new Promise((r) => setTimeout(r, 200));
  t.equal(sink.closes.length, 1, `sink closed exactly once (${sink.closes.join('; ')})`);
  t.notOk(log.text().includes(KEY), 'stream key never logged');
});

t.test('unknown key: ffmpeg exits non-zero, the reason is logged', async (t) => {
  const { url, log, sinks } = await startServer(t);
  const p = startPublisher(url('not-a-key?x=1'), { durationSec: 30 });
  const code = await waitExit(p, 15_000);
  t.not(code, 0, `ffmpeg exit code ${code}`);
  t.ok(log.lines().some((l) => l.msg === 'publish refused' && l.reason === 'unknown stream key' && l.component === 'rtmp'), 'refusal logged with reason');
  t.notOk(log.text().includes('not-a-key'), 'the refused key is not logged either');
  t.equal(sinks.length, 0);
});

t.test('a second publisher on a live key is refused while the first keeps going', async (t) => {
  const { url, sinks, log } = await startServer(t);
  const p1 = startPublisher(url());
  t.teardown(() => stopPublisher(p1));
  await waitFor(() => (sinks[0]?.units.length ?? 0) > 10, 15_000, 'first publisher flowing');
  const p2 = startPublisher(url(), { durationSec: 30 });
  const code = await waitExit(p2, 15_000);
  t.not(code, 0, 'second publisher fails');
  t.ok(log.lines().some((l) => l.msg === 'publish refused' && l.reason === 'stream key already live'));
  const before = sinks[0].units.length;
  await new Promise((r) => setTimeout(r, 1000));
  t.ok(sinks[0].units.length > before + 20, 'first publisher still flowing');
  t.same(sinks[0].closes, [], 'first publication untouched');
  t.equal(p1.exitCode, null, 'first ffmpeg still running');
  t.equal(sinks.length, 1);
});

async function rawConnect(port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  await once(s, 'connect');
  s.on('error', () => {});
  return s;
}

/** Reads from the socket until `n` bytes arrived. */
async function readBytes(s: Socket, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let got = 0;
  while (got < n) {
    const [d] = (await once(s, 'data')) as [Buffer];
    parts.push(d);
    got += d.length;
  }
  return Buffer.concat(parts);
}

t.test('a client silent after the handshake is closed after idleTimeoutMs', async (t) => {
  const { server, log } = await startServer(t, { idleTimeoutMs: 500 });
  const c = new FakeRtmpClient();
  const s = await rawConnect(server.address());
  s.write(c.c0c1());
  await readBytes(s, 1 + 2 * 1536);
  s.write(c.c2());
  const start = Date.now();
  await once(s, 'close');
  const elapsed = Date.now() - start;
  t.ok(elapsed >= 400 && elapsed < 2500, `closed after ${elapsed} ms`);
  t.ok(log.lines().some((l) => l.msg === 'closing connection' && /idle timeout/.test(String(l.reason))));
});

t.test('a publisher going silent mid-publish is timed out and its sink closed once', async (t) => {
  const { server, sinks } = await startServer(t, { idleTimeoutMs: 500 });
  const c = new FakeRtmpClient();
  const s = await rawConnect(server.address());
  s.on('data', (d: Buffer) => c.receive(d));
  s.write(c.c0c1());
  s.write(c.c2());
  s.write(c.command(0, 'connect', 1, { app: 'live', tcUrl: 'rtmp://127.0.0.1/live' }));
  s.write(c.command(0, 'createStream', 2, null));
  s.write(c.command(1, 'publish', 3, null, KEY, 'live'));
  await waitFor(() => c.statuses().some((x) => x.code === 'NetStream.Publish.Start'), 3000, 'Publish.Start');
  await once(s, 'close');
  await new Promise((r) => setTimeout(r, 100));
  t.equal(sinks.length, 1);
  t.equal(sinks[0].closes.length, 1);
  t.match(sinks[0].closes[0], /idle timeout/);
});

t.test('a garbage client is closed while a concurrent ffmpeg publisher keeps flowing', async (t) => {
  const { server, sinks, url, log } = await startServer(t);
  const p = startPublisher(url());
  t.teardown(() => stopPublisher(p));
  await waitFor(() => (sinks[0]?.units.length ?? 0) > 10, 15_000, 'publisher flowing');
  const bad = [
    Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), // wrong version byte
    Buffer.concat([new FakeRtmpClient().c0c1(), Buffer.alloc(1536), Buffer.from([0x46, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7])]), // bad chunk
    Buffer.concat([new FakeRtmpClient().c0c1(), Buffer.alloc(1536), Buffer.from([0x06, 0, 0, 0, 0, 0, 0x80, 20, 0, 0, 0, 0]), Buffer.alloc(128, 0x02)]), // bad AMF: a string longer than its message
  ];
  for (const g of bad) {
    const s = await rawConnect(server.address());
    s.resume();
    s.write(g);
    const closed = once(s, 'close');
    await Promise.race([closed, new Promise((_, rej) => setTimeout(() => rej(new Error('garbage client not closed')), 3000))]);
  }
  await new Promise((r) => setTimeout(r, 100));
  const protocolErrors = log.lines().filter((l) => l.msg === 'closing connection: protocol error').length;
  t.ok(protocolErrors >= 2, `protocol errors logged (${protocolErrors})`);
  const before = sinks[0].units.length;
  await new Promise((r) => setTimeout(r, 700));
  t.ok(sinks[0].units.length > before + 10, 'publisher still flowing');
  t.same(sinks[0].closes, []);
});

t.test('server close ends a live publication once with a reason', async (t) => {
  const { server, sinks, url } = await startServer(t);
  const p = startPublisher(url());
  t.teardown(() => stopPublisher(p));
  await waitFor(() => (sinks[0]?.units.length ?? 0) > 5, 15_000, 'publisher flowing');
  await server.close();
  await server.close();
  t.same(sinks[0].closes, ['server closing']);
  t.equal(server.connectionCount, 0);
});
