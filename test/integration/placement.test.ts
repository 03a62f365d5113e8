/**
 * Channel placement across origins on one PostgreSQL (issue 19, point 2): the origin that takes a
 * channel's publisher holds its placement lease; the others relay its live playback from it
 * (cluster.playback 'proxy', origin A) or send players there (302, 'redirect', origin C), so one
 * hostname in front of every origin plays any channel. Blocking playlist reloads and parts go
 * through the relay; when the owning origin stops, the others serve the channel themselves
 * within a second, and a publisher that moves to A makes A the owner.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../helpers/postgres.js';
import { startOrigin, waitUntil, type RunningOrigin } from '../helpers/origin.js';
import { freePorts } from '../helpers/origin-process.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { parseLivePlaylist } from '../helpers/part-continuity.js';

const ADMIN = 'placement-admin-token-0123456789abcdef012345';
const SECRET = 'placement-server-secret-0123456789abcdef0123';

const codeOf = async (r: Response) => (r.status === 200 ? 'ok' : r.headers.get('content-type')?.includes('json')
  ? ((await r.json()) as { error: { code: string } }).error.code : String(r.status));

t.test('a channel live on one origin plays through the others (relayed, or redirected), and moves with its publisher', async (t) => {
  const pg = await startPostgres();
  t.teardown(() => pg.stop());
  const url = await pg.createDatabase('sigma_placement');
  const ports = await freePorts(3);
  const start = async (name: string, port: number, playback: 'proxy' | 'redirect') => {
    const dataDir = mkdtempSync(join(tmpdir(), `sigma-place-${name}-`));
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    return startOrigin({ dataDir, channels: [], secret: SECRET, database: { url }, http: { port, host: '127.0.0.1' },
      api: { port: 0, host: '127.0.0.1', adminToken: ADMIN }, analytics: { originId: name },
      cluster: { originUrl: `http://127.0.0.1:${port}`, playback, leaseSec: 3 } });
  };
  const a = await start('a', ports[0], 'proxy');
  let b: RunningOrigin | undefined = await start('b', ports[1], 'proxy');
  const c = await start('c', ports[2], 'redirect');
  t.teardown(async () => { await Promise.all([a.close(), b?.close(), c.close()]); });

  const created = await fetch(`http://127.0.0.1:${a.ports.api}/v1/channels`, {
    method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'news', name: 'News', autoStart: true }),
  });
  t.equal(created.status, 201);
  const key = ((await created.json()) as { streamKey: { secret: string } }).streamKey.secret;

  let publisher = startPublisher(b.rtmp(key), { fps: 30, gop: 30 });
  t.teardown(() => stopPublisher(publisher));
  await waitUntil(async () => (await fetch(`${b!.http}/live/news/source.m3u8`)).status === 200, 20_000, 'the channel live on B');
  const placedAt = Date.now();
  await waitUntil(async () => (await fetch(`${a.http}/live/news/source.m3u8`)).status === 200, 5000, 'A relaying B', 20);
  t.ok(Date.now() - placedAt <= 1000, `A relays the channel ${Date.now() - placedAt} ms after it went live on B (≤ 1000 ms)`);

  // Relayed: the playlists, a blocking reload held at B, and the parts' bytes.
  const mv = await fetch(`${a.http}/live/news/index.m3u8`);
  t.equal(mv.status, 200);
  t.match(await mv.text(), /source\.m3u8/, 'the multivariant playlist through A');
  const viaB = parseLivePlaylist(await (await fetch(`${b.http}/live/news/source.m3u8`)).text());
  const hint = viaB.hint!;
  const blockingStarted = Date.now();
  const blocking = await fetch(`${a.http}/live/news/source.m3u8?_HLS_msn=${hint.msn}&_HLS_part=${hint.part}`);
  const blockingText = await blocking.text();
  t.equal(blocking.status, 200, `a blocking reload through A answered once B had the part (${Date.now() - blockingStarted} ms)`);
  t.match(blockingText, new RegExp(`${hint.msn}\\.${hint.part}\\.m4s`), 'and lists the part it waited for');
  const partPath = `/live/news/source/${hint.msn}.${hint.part}.m4s`;
  const [partA, partB] = await Promise.all([fetch(`${a.http}${partPath}`), fetch(`${b.http}${partPath}`)]);
  t.ok(Buffer.from(await partA.arrayBuffer()).equals(Buffer.from(await partB.arrayBuffer())), 'a part through A is B\'s part, byte for byte');
  t.equal(partA.headers.get('content-type'), partB.headers.get('content-type'));
  t.equal(partA.headers.get('cache-control'), partB.headers.get('cache-control'), 'with B\'s caching headers');

  const status = await (await fetch(`http://127.0.0.1:${a.ports.api}/v1/channels/news`, { headers: { authorization: `Bearer ${ADMIN}` } })).json() as
    { status: { state: string; liveOn: { originId: string; originUrl: string } | null } };
  t.same(status.status.liveOn, { originId: 'b', originUrl: b.http }, 'A\'s API says where the channel is live');

  // Redirected: C sends the player to B.
  const redirected = await fetch(`${c.http}/live/news/source.m3u8?x=1`, { redirect: 'manual' });
  t.equal(redirected.status, 302);
  t.equal(redirected.headers.get('location'), `${b.http}/live/news/source.m3u8?x=1`, 'C redirects to B with the same path and query');

  // B stops (its publisher goes with it): the lease is given up and A serves the channel itself.
  const bHttp = b.http;
  await b.close();
  b = undefined;
  const stoppedAt = Date.now();
  await waitUntil(async () => (await codeOf(await fetch(`${a.http}/live/news/source.m3u8`))) === 'CHANNEL_NOT_LIVE', 5000, 'A serving the channel itself', 20);
  t.ok(Date.now() - stoppedAt <= 1000, `A stops relaying ${Date.now() - stoppedAt} ms after B stopped (≤ 1000 ms)`);
  t.equal(await codeOf(await fetch(`${c.http}/live/news/source.m3u8`, { redirect: 'manual' })), 'CHANNEL_NOT_LIVE', 'C no longer redirects to B');

  // The publisher moves to A: A owns the channel, C redirects there.
  await stopPublisher(publisher);
  publisher = startPublisher(a.rtmp(key), { fps: 30, gop: 30 });
  await waitUntil(async () => (await fetch(`${a.http}/live/news/source.m3u8`)).status === 200, 20_000, 'the channel live on A');
  await waitUntil(async () => (await fetch(`${c.http}/live/news/source.m3u8`, { redirect: 'manual' })).headers.get('location')?.startsWith(a.http) ?? false,
    2000, 'C redirecting to A', 20);
  t.pass(`C redirects to A once the publisher moved there (B was ${bHttp})`);
});
