import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startOrigin, waitUntil, type RunningOrigin } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { captureLogs } from '../helpers/log-capture.js';
import { freePorts } from '../helpers/origin-process.js';
import { missingNginxRtmp, startNginxRtmp } from '../helpers/nginx-rtmp.js';
import { testNeeding } from '../helpers/ci.js';
import { parseM3u8 } from '../helpers/m3u8.js';

const run = promisify(execFile);
const ADMIN = 'restream-admin-token-0123456789abcdef0123';
const NGINX_KEY = 'nginx-secret-key-7f3a9c';

/** ffmpeg reads `seconds` of a URL (RTMP or HLS) and decodes it: what a viewer of that target gets. */
async function decodes(url: string, seconds = 2): Promise<{ ok: boolean; stderr: string }> {
  try {
    const { stderr } = await run('ffmpeg', ['-hide_banner', '-v', 'error', '-rw_timeout', '8000000', '-i', url, '-t', String(seconds), '-f', 'null', '-'], { timeout: 30_000 });
    return { ok: true, stderr: stderr.trim() };
  } catch (err) {
    return { ok: false, stderr: String((err as { stderr?: string }).stderr ?? err) };
  }
}

/** The newest part's (msn, index) of a channel's LL-HLS playlist, as a number that grows by one per part. */
async function edge(o: RunningOrigin, channel: string): Promise<string | undefined> {
  const r = await fetch(`${o.http}/live/${channel}/source.m3u8`);
  if (r.status !== 200) return undefined;
  const m = parseM3u8(await r.text()).manifest;
  const parts = m.preloadSegment?.parts?.length ?? 0;
  return `${m.mediaSequence + m.segments.length}.${parts}`;
}

/** Polls the playlists every 100 ms for ms; the longest time any of them went without a new part. */
async function longestStillMs(watch: { o: RunningOrigin; channel: string }[], ms: number): Promise<number[]> {
  const last = watch.map(() => ({ edge: '', at: Date.now() }));
  const worst = watch.map(() => 0);
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const edges = await Promise.all(watch.map((w) => edge(w.o, w.channel)));
    const now = Date.now();
    edges.forEach((e, i) => {
      if (e !== undefined && e !== last[i].edge) { last[i] = { edge: e, at: now }; return; }
      worst[i] = Math.max(worst[i], now - last[i].at);
    });
    await new Promise((r) => setTimeout(r, 100));
  }
  return worst;
}

testNeeding(t, 'restream to nginx-rtmp and to a second origin at once; one target killed, paused and back; the other and the channel\'s HLS carry on', missingNginxRtmp(), async (t) => {
  const [nginxPort] = await freePorts(1);
  const nginx = await startNginxRtmp(nginxPort);
  t.teardown(() => nginx.stop());
  const b = await startOrigin({ channels: [{ id: 'relay', streamKey: 'relay-key-123456', latencyMode: 'ultra-low' }] });
  t.teardown(() => b.close());
  const { logger, lines } = captureLogs('debug');
  const a = await startOrigin({
    api: { port: 0, host: '127.0.0.1', adminToken: ADMIN },
    reconnectWindowSec: 3,
    restream: { maxQueueKb: 256, stallTimeoutSec: 4, connectTimeoutSec: 3 },
    channels: [{
      id: 'main', streamKey: 'main-key-123456', latencyMode: 'ultra-low',
      restream: [
        { name: 'nginx', url: nginx.url(NGINX_KEY) },
        { name: 'origin B', url: `rtmp://127.0.0.1:${b.ports.rtmp}/live/relay-key-123456` },
      ],
    }],
  }, { logger });
  t.teardown(() => a.close());
  const api = (path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${a.ports.api}${path}`,
    { ...init, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', ...init.headers } });
  const targets = async () => ((await (await api('/v1/channels/main/restream')).json()) as { items: any[] }).items;

  t.same((await targets()).map((x) => [x.id, x.state]), [['config-1', 'idle'], ['config-2', 'idle']], 'two config targets, idle before the stream');
  const publisher = startPublisher(a.rtmp('main-key-123456'), { fps: 30, gop: 30, audio: true });
  t.teardown(() => stopPublisher(publisher));

  const connected = await waitUntil(async () => {
    const list = await targets();
    return list.every((x) => x.state === 'connected') ? list : undefined;
  }, 20_000, 'both targets connected');
  t.pass('both targets connected');
  t.notOk(JSON.stringify(connected).includes(NGINX_KEY), 'the API never shows a target\'s stream key');
  t.equal(connected[0].url, `rtmp://127.0.0.1:${nginxPort}/live/…${NGINX_KEY.slice(-4)}`, 'the URL masked to the key\'s last 4 characters');

  await waitUntil(async () => (await edge(b, 'relay')) !== undefined, 20_000, 'origin B lists the relayed channel');
  const [fromNginx, fromB] = await Promise.all([decodes(nginx.url(NGINX_KEY)), decodes(`${b.http}/live/relay/source.m3u8`)]);
  t.ok(fromNginx.ok && fromNginx.stderr === '', `played back from nginx-rtmp (ffmpeg decodes 2 s) ${fromNginx.stderr.slice(0, 300)}`);
  t.ok(fromB.ok && fromB.stderr === '', `played back from origin B's HLS ${fromB.stderr.slice(0, 300)}`);
  const bMv = parseM3u8(await (await fetch(`${b.http}/live/relay/index.m3u8`)).text()).manifest.playlists[0];
  t.match(bMv.attributes.CODECS, /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/, `B sees H.264 and AAC (${bMv.attributes.CODECS})`);
  t.same(bMv.attributes.RESOLUTION, { width: 640, height: 360 }, 'at the source\'s size');

  await t.test('nginx-rtmp killed mid-stream: origin B and the channel\'s HLS go on without a stall; the target retries and comes back', async (t) => {
    await nginx.kill();
    const still = await longestStillMs([{ o: a, channel: 'main' }, { o: b, channel: 'relay' }], 6000);
    t.ok(still[0] <= 1500, `the channel's playlist got a new part at least every ${still[0]} ms (≤ 1500) while the target was down`);
    t.ok(still[1] <= 1500, `origin B's playlist too (${still[1]} ms)`);
    const down = (await targets())[0];
    t.equal(down.state, 'retrying', 'the dead target is retrying');
    t.ok(down.retries >= 1 && down.lastError, `retries ${down.retries}, last error "${down.lastError}"`);
    t.equal((await targets())[1].state, 'connected', 'the other target stayed connected');
    await nginx.restart();
    const back = await waitUntil(async () => {
      const x = (await targets())[0];
      return x.state === 'connected' ? x : undefined;
    }, 40_000, 'the target reconnected');
    t.pass(`reconnected after ${back.retries} retries`);
    const again = await decodes(nginx.url(NGINX_KEY));
    t.ok(again.ok && again.stderr === '', `played back from nginx-rtmp again ${again.stderr.slice(0, 300)}`);
  });

  await t.test('nginx-rtmp paused (SIGSTOP: it stops reading, the connection stays open): the channel and origin B go on; the target goes on after', async (t) => {
    nginx.pause();
    const still = await longestStillMs([{ o: a, channel: 'main' }, { o: b, channel: 'relay' }], 7000);
    t.ok(still[0] <= 1500 && still[1] <= 1500, `the channel and origin B got a new part at least every ${still[0]} / ${still[1]} ms (≤ 1500)`);
    const paused = (await targets())[0];
    t.comment(`paused target: ${JSON.stringify({ state: paused.state, queuedBytes: paused.queuedBytes, framesDropped: paused.framesDropped })} (the kernel's socket buffers take seconds of a stream this small)`);
    t.ok(paused.queuedBytes <= 256 * 1024 + 200_000, `what waits in user space stays bounded (${paused.queuedBytes} B; maxQueueKb 256 plus a frame)`);
    nginx.resume();
    await waitUntil(async () => (await targets())[0].state === 'connected', 40_000, 'the target connected after resuming');
    const again = await decodes(nginx.url(NGINX_KEY));
    t.ok(again.ok && again.stderr === '', `played back from nginx-rtmp after the pause ${again.stderr.slice(0, 300)}`);
  });

  await t.test('events and logs: restream.started / failed, never a stream key', async (t) => {
    const events = ((await (await api('/v1/events?limit=100')).json()) as { items: { type: string; payload: any }[] }).items;
    const started = events.filter((e) => e.type === 'restream.started');
    const failed = events.filter((e) => e.type === 'restream.failed');
    t.ok(started.filter((e) => e.payload.target === 'config-1').length >= 2, `restream.started for nginx at each connection (${started.length} in all)`);
    t.ok(started.some((e) => e.payload.target === 'config-2' && e.payload.name === 'origin B' && e.payload.rendition === 'source'), 'restream.started for origin B');
    t.ok(failed.some((e) => e.payload.target === 'config-1' && e.payload.retryInSec > 0), 'restream.failed with the next try');
    t.notOk(JSON.stringify(events).includes(NGINX_KEY), 'no event carries the stream key');
    t.notOk(lines.some((l) => JSON.stringify(l).includes(NGINX_KEY) || JSON.stringify(l).includes('relay-key-123456')), 'no log line carries a stream key');
    const metrics = await (await fetch(`http://127.0.0.1:${a.ports.api}/metrics`)).text();
    t.match(metrics, /sigma_restream_connected\{channel="main",target="config-2",name="origin B"\} 1/, '/metrics: connected per target');
    t.match(metrics, /sigma_restream_retries_total\{channel="main",target="config-1",name="nginx"\} [1-9]/, '/metrics: retries');
  });

  await stopPublisher(publisher);
  const stopped = await waitUntil(async () => {
    const list = await targets();
    return list.every((x) => x.state === 'stopped') ? list : undefined;
  }, 15_000, 'targets stopped after the reconnect window');
  t.ok(stopped, 'both targets stopped with the channel\'s stream');
  const events = ((await (await api('/v1/events?type=restream.stopped')).json()) as { items: { payload: any }[] }).items;
  t.ok(events.length >= 2 && events.every((e) => /ended/.test(e.payload.reason)), `restream.stopped for each (${events.map((e) => e.payload.reason).join('; ')})`);
});

t.test('a target pushing an ABR rung: origin B receives the 240p rung, not the source', async (t) => {
  const b = await startOrigin({ channels: [{ id: 'rung', streamKey: 'rung-key-1234567', latencyMode: 'low' }] });
  t.teardown(() => b.close());
  const a = await startOrigin({
    channels: [{
      id: 'main', streamKey: 'main-key-123456', latencyMode: 'low', transcode: '240p',
      restream: [{ name: 'B at 240p', url: `rtmp://127.0.0.1:${b.ports.rtmp}/live/rung-key-1234567`, rendition: '240p' }],
    }],
  });
  t.teardown(() => a.close());
  const publisher = startPublisher(a.rtmp('main-key-123456'), { fps: 30, gop: 30, audio: true, bframes: 2 });
  t.teardown(() => stopPublisher(publisher));
  const mv = await waitUntil(async () => {
    const r = await fetch(`${b.http}/live/rung/index.m3u8`);
    return r.status === 200 ? parseM3u8(await r.text()).manifest.playlists[0] : undefined;
  }, 30_000, 'origin B lists the rung channel');
  t.equal(mv.attributes.RESOLUTION.height, 240, `B receives the rung (${mv.attributes.RESOLUTION.width}x${mv.attributes.RESOLUTION.height}), not the 360p source`);
  t.match(mv.attributes.CODECS, /mp4a\.40\.2/, 'with its audio');
  await waitUntil(async () => parseM3u8(await (await fetch(`${b.http}/live/rung/source.m3u8`)).text()).manifest.segments.length >= 2, 20_000, 'two segments on B');
  const played = await decodes(`${b.http}/live/rung/source.m3u8`);
  t.ok(played.ok && played.stderr === '', `played back from origin B ${played.stderr.slice(0, 300)}`);
  const status = a.origin.restream.status('main')!;
  t.match(status, [{ name: 'B at 240p', rendition: '240p', state: 'connected' }]);
  t.ok(status[0].bitrateKbps > 100 && status[0].bitrateKbps < 800, `the rung's rate (${status[0].bitrateKbps} kb/s; the rung is 400 kb/s of video)`);
});
