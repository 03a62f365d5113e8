import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { startOrigin, waitUntil, type RunningOrigin } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { parseM3u8 } from '../helpers/m3u8.js';
import { startObjectStore, type ObjectStoreServer } from '../helpers/object-store.js';
import { missingCommand, testNeeding } from '../helpers/ci.js';
import { ArchiveSweeper } from '../../src/store/archive/archive-sweeper.js';
import { silentLogger } from '../../src/log.js';

/**
 * Issue 19, point 4: the archive and the recordings in a real S3-compatible object store (Ceph
 * RADOS Gateway, started by scripts/s3/start-rgw.sh). An origin archives and records a session;
 * its data dir is then deleted, and another origin with an empty disk serves the catchup range,
 * the session list and the recording from the store alone, byte for byte. The sweeper deletes
 * expired objects; uploads that failed while the bucket was missing go up once it exists, and
 * what a stop left waiting goes up at the next start.
 */

const KEY = 'object-archive-key';
const ADMIN = 'object-archive-admin-token-0123456789abcdef';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const run = promisify(execFile);

async function keysUnder(store: ObjectStoreServer, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await store.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of out.Contents ?? []) keys.push(o.Key!);
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

interface Listed { msn: number; uri: string; durationSec: number; discontinuity: boolean }

async function playlist(url: string): Promise<{ status: number; segments: Listed[]; map?: string; text: string }> {
  const res = await fetch(url);
  const text = await res.text();
  if (res.status !== 200) return { status: res.status, segments: [], text };
  const { manifest } = parseM3u8(text);
  const segments = (manifest.segments as any[]).map((s, i) => ({ msn: manifest.mediaSequence + i, uri: new URL(s.uri, url).href, durationSec: s.duration, discontinuity: s.discontinuity === true }));
  const map = (manifest.segments as any[])[0]?.map?.uri;
  return { status: res.status, segments, map: map && new URL(map, url).href, text };
}

async function bytesOf(url: string): Promise<Buffer> {
  const r = await fetch(url);
  if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
  return Buffer.from(await r.arrayBuffer());
}

const objectStoreConfig = (store: ObjectStoreServer, bucket: string) =>
  ({ bucket, endpoint: store.endpoint, region: store.region, localRetentionMinutes: 0 });

testNeeding(t, 'archive and recordings in the object store', missingCommand('bash', ['-c', 'true']), async (t) => {
  const store = await startObjectStore();
  t.teardown(() => store.stop());
  Object.assign(process.env, store.env); // the origin reads its credentials from the environment
  const bucket = await store.createBucket('sigma-archive');
  const channel = { id: 'arc', streamKey: KEY, latencyMode: 'low', record: true, dvrWindowSec: 120 };

  // Origin A archives and records one session.
  const dirA = mkdtempSync(join(tmpdir(), 'sigma-s3-a-'));
  t.teardown(() => rmSync(dirA, { recursive: true, force: true }));
  let a: RunningOrigin | undefined = await startOrigin({ dataDir: dirA, channels: [channel], objectStore: objectStoreConfig(store, bucket),
    analytics: { originId: 'origin-a' } });
  const startedAt = Math.floor(Date.now() / 1000) - 1;
  const pub = startPublisher(a.rtmp(KEY), { width: 320, height: 180, fps: 30, gop: 30, videoBitrate: '300k' });
  await sleep(9000);
  await stopPublisher(pub);
  const chA = a.origin.channels.get('arc')!;
  await waitUntil(() => chA.state !== 'live' && chA.state !== 'preview', 10_000, 'the session to end');
  await sleep(1500);
  const endedAt = Math.ceil(Date.now() / 1000);
  const range = `${startedAt}-${endedAt}`;
  const before = await playlist(`${a.http}/live/arc/archive/${range}.m3u8`);
  t.equal(before.status, 200, 'A serves the catchup range');
  t.ok(before.segments.length >= 3, `${before.segments.length} archived segments`);
  const bytesBefore = await Promise.all(before.segments.map((s) => bytesOf(s.uri)));
  const initBefore = before.map ? await bytesOf(before.map) : undefined;
  const vttBefore = await (await fetch(`${a.http}/live/arc/archive/${range}.vtt`)).text();
  const imageUrl = (vtt: string, base: string) => { const m = /^(\S+\.jpg)/m.exec(vtt); return m && new URL(m[1], `${base}/live/arc/archive/${range}.vtt`).href; };
  const imageBefore = imageUrl(vttBefore, a.http);
  const imageBytes = imageBefore ? await bytesOf(imageBefore) : undefined;
  await a.close(); // a clean stop waits for the uploads
  a = undefined;

  await t.test('the bucket holds every segment, its index, the init, the session log and the recording', async (t) => {
    const keys = await keysUnder(store, bucket, '');
    const segments = keys.filter((k) => /^archive\/arc\/source\/\d{10}\/\d+\.m4s$/.test(k));
    t.equal(segments.length, before.segments.length, `${segments.length} segment objects for ${before.segments.length} listed segments`);
    t.ok(keys.some((k) => /^archive\/arc\/source\/\d{10}\/segments\.log@origin-a~0$/.test(k)), 'the hour index, as origin-a\'s copy (its first chunk)');
    t.ok(keys.some((k) => /^archive\/arc\/source\/init\/\d+\.mp4$/.test(k)), 'the init segment');
    t.ok(keys.includes('archive/arc/sessions.log@origin-a~0'), 'the session log');
    t.notOk(keys.some((k) => k.endsWith('parts.log')), 'the open segment\'s journal stays local');
    t.equal(keys.filter((k) => /^recordings\/arc\/.+\.mp4$/.test(k)).length, 1, 'the recording');
    t.equal(keys.filter((k) => /^recordings\/arc\/.+\.json$/.test(k)).length, 1, 'its sidecar');
  });

  // A's machine is gone: its data dir is deleted. B has an empty disk and the same bucket.
  rmSync(dirA, { recursive: true, force: true });
  const dirB = mkdtempSync(join(tmpdir(), 'sigma-s3-b-'));
  t.teardown(() => rmSync(dirB, { recursive: true, force: true }));
  const b = await startOrigin({ dataDir: dirB, channels: [channel], objectStore: objectStoreConfig(store, bucket), analytics: { originId: 'origin-b' },
    api: { port: 0, host: '127.0.0.1', adminToken: ADMIN } });
  t.teardown(() => b.close());

  await t.test('another origin serves the catchup range from the store alone, byte for byte, and it plays', async (t) => {
    const after = await playlist(`${b.http}/live/arc/archive/${range}.m3u8`);
    t.equal(after.status, 200, after.text.slice(0, 200));
    t.same(after.segments.map((s) => [s.msn, s.durationSec, s.discontinuity]), before.segments.map((s) => [s.msn, s.durationSec, s.discontinuity]),
      'the same segments, durations and discontinuities');
    const bytesAfter = await Promise.all(after.segments.map((s) => bytesOf(s.uri)));
    t.same(bytesAfter.map((x, i) => x.equals(bytesBefore[i])).filter((same) => !same).length, 0, 'every segment\'s bytes are the ones A served');
    if (after.map) t.ok((await bytesOf(after.map)).equals(initBefore!), 'the init segment too');
    const probe = await run('ffprobe', ['-v', 'error', '-select_streams', 'v', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0',
      `${b.http}/live/arc/archive/${range}.m3u8`]);
    const extinf = before.segments.reduce((s, x) => s + x.durationSec, 0);
    const frames = parseInt(probe.stdout, 10); // one line per program and per stream: the same count
    t.ok(Math.abs(frames / 30 - extinf) < 0.5, `ffprobe decodes ${frames} frames through B (${(frames / 30).toFixed(2)} s; EXTINF sum ${extinf.toFixed(3)} s)`);
    t.equal(probe.stderr, '', 'without an error');
  });

  await t.test('the thumbnails track of the range comes from the store too', async (t) => {
    t.ok(imageBefore, `A's thumbnails track lists pictures (${vttBefore.split('\n').length} lines)`);
    const vttAfter = await (await fetch(`${b.http}/live/arc/archive/${range}.vtt`)).text();
    t.equal(vttAfter, vttBefore, 'B serves the same WebVTT track');
    const image = imageUrl(vttAfter, b.http);
    t.ok(image && (await bytesOf(image)).equals(imageBytes!), 'and the same picture bytes');
  });

  await t.test('sessions and recordings come from the store too', async (t) => {
    const sessions = await (await fetch(`${b.http}/live/arc/archive/sessions.json`)).json() as { sessions: { startedAt: string; endedAt: string | null }[] };
    t.equal(sessions.sessions.length, 1, 'the session A archived');
    t.ok(sessions.sessions[0].endedAt !== null, 'ended');
    const api = `http://127.0.0.1:${b.ports.api}/v1/channels/arc/recordings`;
    const auth = { authorization: `Bearer ${ADMIN}` };
    const list = await (await fetch(api, { headers: auth })).json() as { items: { name: string; bytes: number; complete: boolean }[] };
    t.equal(list.items.length, 1, 'B lists the recording A made');
    const rec = list.items[0];
    t.ok(rec.complete && rec.bytes > 0, `${rec.name}, ${rec.bytes} bytes`);
    const whole = await fetch(`${api}/${rec.name}`, { headers: auth });
    t.equal(whole.status, 200);
    const body = Buffer.from(await whole.arrayBuffer());
    t.equal(body.length, rec.bytes, 'the download has every byte');
    const part = await fetch(`${api}/${rec.name}`, { headers: { ...auth, range: 'bytes=100-199' } });
    t.equal(part.status, 206, 'a range of it');
    t.equal(part.headers.get('content-range'), `bytes 100-199/${rec.bytes}`);
    t.ok(Buffer.from(await part.arrayBuffer()).equals(body.subarray(100, 200)), 'the bytes of that range');
    const beyond = await fetch(`${api}/${rec.name}`, { headers: { ...auth, range: `bytes=${rec.bytes}-` } });
    t.equal(beyond.status, 416, 'a range past the end: 416');
    const file = join(dirB, 'download.mp4');
    await import('node:fs/promises').then((fs) => fs.writeFile(file, body));
    const probe = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
    t.ok(Number(probe.stdout) > 7, `the download plays: ${probe.stdout.trim()} s`);
    t.equal((await fetch(`${api}/${rec.name}`, { method: 'DELETE', headers: auth })).status, 204, 'deleted through B');
    t.same(await keysUnder(store, bucket, 'recordings/arc/'), [], 'the file and its sidecar are gone from the store');
  });

  await t.test('a log\'s copy goes up in 8-KiB chunks: an append sends only the last; a read joins them; a rewrite drops the rest', async (t) => {
    const files = b.origin.objects!.files;
    const path = join(dirB, 'archive', 'logtest', 'source', '2026120700', 'segments.log');
    const line = (i: number) => `${1000 + i} 1 0 ${1_796_000_000_000 + i * 2000} ${i * 2000} 2000 123456\n`;
    let text = '';
    for (let i = 0; i < 400; i++) { text += line(i); await files.appendText(path, line(i)); }
    await b.origin.objects!.lanes.idle();
    const puts = b.origin.objects!.bucket.tally.puts;
    await files.appendText(path, line(400));
    text += line(400);
    await b.origin.objects!.lanes.idle();
    t.equal(b.origin.objects!.bucket.tally.puts - puts, 1, 'one append: one PUT (of the last chunk)');
    const chunks = (await keysUnder(store, bucket, 'archive/logtest/')).sort();
    t.equal(chunks.length, Math.ceil(Buffer.byteLength(text) / 8192), `${Buffer.byteLength(text)} bytes in ${chunks.length} chunks`);
    rmSync(path);
    t.equal(await files.readText(path), text, 'with the local file gone, the chunks read back as the log');
    await files.writeAtomic(path, line(7));
    await b.origin.objects!.lanes.idle();
    t.same(await keysUnder(store, bucket, 'archive/logtest/'), ['archive/logtest/source/2026120700/segments.log@origin-b~0'], 'a rewrite leaves one chunk');
    rmSync(path);
    t.equal(await files.readText(path), line(7), 'holding the new content');
    await files.removeTree(join(dirB, 'archive', 'logtest'));
  });

  await t.test('the sweeper deletes expired objects from the store', async (t) => {
    const archive = b.origin.channels.get('arc')!.archive!;
    const sweeper = new ArchiveSweeper({ archives: () => [{ archive, retentionMs: 3_600_000 }], intervalMs: 60_000, logger: silentLogger(),
      now: () => Date.now() + 3 * 3_600_000 });
    const result = await sweeper.sweepOnce();
    t.ok(result.hoursDeleted >= 1, `${result.hoursDeleted} hour(s) deleted`);
    await b.origin.objects!.lanes.idle();
    const left = (await keysUnder(store, bucket, 'archive/arc/')).filter((k) => !k.includes('sessions.log'));
    t.same(left, [], 'no segment, index or init is left in the store');
    const sessions = await (await fetch(`${b.http}/live/arc/archive/sessions.json`)).json() as { sessions: unknown[] };
    t.same(sessions.sessions, [], 'and the session is gone from the session log');
  });

  await t.test('uploads that fail while the bucket is missing wait on the local disk; the next start sends them', async (t) => {
    const dirC = mkdtempSync(join(tmpdir(), 'sigma-s3-c-'));
    t.teardown(() => rmSync(dirC, { recursive: true, force: true }));
    const late = { id: 'late', streamKey: 'object-archive-late', latencyMode: 'low' };
    const config = { dataDir: dirC, channels: [late], objectStore: objectStoreConfig(store, 'sigma-later'), analytics: { originId: 'origin-c' } };
    const c = await startOrigin(config);
    const p = startPublisher(c.rtmp(late.streamKey), { width: 320, height: 180, fps: 30, gop: 30, videoBitrate: '300k' });
    await sleep(6000);
    await stopPublisher(p);
    const m = c.origin.objects!.metered();
    t.ok(m.uploadsWaiting > 0 && m.tally.errors > 0, `uploads wait (${m.uploadsWaiting}) after ${m.tally.errors} failed requests`);
    const metrics = await (await fetch(`http://127.0.0.1:${c.ports.api}/metrics`)).text();
    t.match(metrics, /^sigma_object_store_oldest_upload_age_seconds [1-9]/m, '/metrics shows how far the store is behind');
    await c.close(); // gives up waiting after 10 s: the local copies keep them
    t.same(await keysUnder(store, 'sigma-later', '').catch(() => []), [], 'nothing reached the store');
    await store.createBucket('sigma-later');
    const again = await startOrigin(config);
    t.teardown(() => again.close());
    await again.origin.objects!.lanes.idle();
    const keys = await keysUnder(store, 'sigma-later', 'archive/late/');
    const local = (await import('node:fs')).readdirSync(join(dirC, 'archive', 'late', 'source'), { recursive: true }) as string[];
    const localSegments = local.filter((f) => f.endsWith('.m4s'));
    t.ok(localSegments.length >= 2, `${localSegments.length} segments on the local disk`);
    t.same(localSegments.filter((f) => !keys.includes(`archive/late/source/${f}`)), [], 'every one of them is in the store after the restart');
    t.ok(keys.some((k) => k.endsWith('segments.log@origin-c~0')), 'with its index');
  });
});
