import t, { type Test } from 'tap';
import { waitUntil } from '../../helpers/origin.js';
import { cpSync, mkdtempSync, readdirSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeChannel, request, bodyText } from '../../helpers/fake-channel.js';
import { parseM3u8 } from '../../helpers/m3u8.js';
import { silentLogger } from '../../../src/log.js';
import { ChannelArchive } from '../../../src/store/archive/channel-archive.js';
import { OriginHandler } from '../../../src/delivery/handler.js';
import { parseTimeSpec } from '../../../src/delivery/archive-responder.js';
import { renderArchivePlaylist } from '../../../src/packager/hls/archive-playlist.js';
import { hourKey } from '../../../src/store/archive/archive-layout.js';

t.test('time specs: epoch seconds, ISO 8601 basic UTC, now; impossible dates refused', async (t) => {
  t.equal(parseTimeSpec('1764095160', 0), 1764095160_000);
  t.equal(parseTimeSpec('20261125T182600Z', 0), Date.UTC(2026, 10, 25, 18, 26, 0));
  t.equal(parseTimeSpec('now', 42), 42);
  t.equal(parseTimeSpec('20260231T000000Z', 0), undefined, 'February 31st');
  t.equal(parseTimeSpec('2026-11-25', 0), undefined);
  t.equal(parseTimeSpec('12abc', 0), undefined);
});

t.test('catchup playlist: discontinuity and a new MAP at a hole or a new init, PDT on every segment', async (t) => {
  const seg = (msn: number, initId: number, pdt: number) => ({ msn, initId, discontinuity: false, programDateTimeMs: pdt, durationMs: 2000 });
  const text = renderArchivePlaylist([seg(10, 1, 0), seg(11, 1, 2000), seg(20, 2, 60_000), seg(21, 2, 62_000)],
    { type: 'VOD', minTargetDurationSec: 2, initUri: (id) => `source/init-${id}.mp4`, segmentUri: (s) => `source/h/${s.msn}.m4s`, querySuffix: '?token=x' });
  const { manifest, warnings } = parseM3u8(text);
  t.same(warnings, []);
  t.equal(manifest.playlistType, 'VOD');
  t.equal(manifest.endList, true);
  t.equal(manifest.segments.length, 4);
  t.same(manifest.segments.map((s: any) => Boolean(s.discontinuity)), [false, false, true, false]);
  t.ok(manifest.segments.every((s: any) => s.programDateTime !== undefined));
  t.ok(manifest.segments.every((s: any) => s.uri.endsWith('?token=x') && s.map.uri.endsWith('?token=x')), 'tokens carried');
  t.equal(text.match(/#EXT-X-MAP/g)?.length, 2);
});

function archived(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-routes-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const archive = new ChannelArchive(dir, 'test', { writable: true, reportWriteError: () => {} }, silentLogger());
  const f = fakeChannel('ultra-low', { archive, dvrWindowMs: 60_000 });
  const handler = new OriginHandler({ get: (id) => (id === 'test' ? f.channel : undefined) }, silentLogger());
  return { f, archive, handler };
}

t.test('archive routes: playlist by time range, segments and init from disk, sessions, clear errors', async (t) => {
  const { f, handler } = archived(t);
  const t0 = Date.now();
  f.parts(10 * 4 + 1); // four 2 s segments closed
  await f.pub.finish('test over');
  const from = Math.floor(t0 / 1000) - 1, to = Math.ceil(Date.now() / 1000) + 20;
  const pl = await handler.handle(request(`/live/test/archive/${from}-${to}.m3u8`));
  t.equal(pl.status, 200);
  const text = await bodyText(pl.body);
  const { manifest, warnings } = parseM3u8(text);
  t.same(warnings, []);
  t.ok(manifest.segments.length >= 5, `${manifest.segments.length} segments`);
  const uri = manifest.segments[0].uri as string;
  const seg = await handler.handle(request(`/live/test/archive/${uri}`));
  t.equal(seg.status, 200);
  t.equal(seg.headers['cache-control'], 'public, max-age=31536000, immutable');
  const msn = Number(/(\d+)\.m4s$/.exec(uri)![1]);
  const inRam = f.channel.rendition()!.window.segment(msn)!;
  t.equal((seg.body as Buffer).length, inRam.bytes);
  const ranged = await handler.handle(request(`/live/test/archive/${uri}`, { headers: { range: 'bytes=10-19' } }));
  t.equal(ranged.status, 206);
  t.equal((ranged.body as Buffer).length, 10);
  const head = await handler.handle(request(`/live/test/archive/${uri}`, { method: 'HEAD' }));
  t.equal(head.headers['content-length'], String(inRam.bytes));
  const init = await handler.handle(request(`/live/test/archive/${manifest.segments[0].map.uri}`));
  t.equal(init.status, 200);
  t.equal((init.body as Buffer).toString(), 'INIT');
  const sessions = JSON.parse(await bodyText((await handler.handle(request('/live/test/archive/sessions.json'))).body));
  t.equal(sessions.sessions.length, 1);
  t.ok(sessions.sessions[0].endedAt);
  const cases: [string, number, string][] = [
    [`/live/test/archive/${to}-${from}.m3u8`, 400, 'BAD_TIME_RANGE'],
    [`/live/test/archive/${from}-${from + 49 * 3600}.m3u8`, 400, 'BAD_TIME_RANGE'],
    [`/live/test/archive/now-${to}.m3u8`, 400, 'BAD_TIME_RANGE'],
    [`/live/test/archive/100-200.m3u8`, 404, 'ARCHIVE_EMPTY'],
    [`/live/test/archive/source/2026112518/1.m4s`, 404, 'NOT_FOUND'],
    [`/live/test/archive/source/init-7.mp4`, 404, 'NOT_FOUND'],
    [`/live/nope/archive/sessions.json`, 404, 'CHANNEL_NOT_FOUND'],
  ];
  for (const [path, status, code] of cases) {
    const r = await handler.handle(request(path));
    t.equal(r.status, status, path);
    t.equal(JSON.parse(await bodyText(r.body)).error.code, code, path);
  }
});

t.test('a channel without the archive answers its archive routes with a clear 404', async (t) => {
  const f = fakeChannel();
  const handler = new OriginHandler({ get: () => f.channel }, silentLogger());
  const r = await handler.handle(request('/live/test/archive/sessions.json'));
  t.equal(r.status, 404);
  t.equal(JSON.parse(await bodyText(r.body)).error.code, 'ARCHIVE_DISABLED');
});

t.test('DVR: a segment beyond the hot edge is served from the archive file, byte for byte', async (t) => {
  const { f, handler } = archived(t);
  f.parts(10 * 16 + 1); // 32 s of 2 s segments; the hot edge is 20 s
  const w = f.channel.rendition()!.window;
  const old = await waitUntil(() => w.segments.find((s) => s.parts.length === 0 && s.archive === 'stored'), 5000, 'an archived segment to leave RAM');
  t.ok(old, 'an old segment left RAM');
  const r = await handler.handle(request(`/live/test/source/${old!.msn}.m4s`));
  t.equal(r.status, 200);
  t.same(r.body, readFileSync(f.channel.rendition()!.archive!.segmentPath({ hour: hourKey(old!.programDateTimeMs), msn: old!.msn })));
  t.equal(w.segments[0].msn, f.firstMsn, 'the DVR window still lists the first segment');
});

t.test('a long catchup playlist comes out in pieces that join seamlessly', async (t) => {
  const segs = Array.from({ length: 1234 }, (_, i) => ({ msn: 100 + i, initId: 1, discontinuity: i === 700, programDateTimeMs: i * 2000, durationMs: 2000 }));
  const text = renderArchivePlaylist(segs, { type: 'VOD', minTargetDurationSec: 2, initUri: () => 'init.mp4', segmentUri: (s) => `${s.msn}.m4s`, querySuffix: '' });
  const { manifest, warnings } = parseM3u8(text);
  t.same(warnings, []);
  t.equal(manifest.segments.length, 1234);
  t.same(manifest.segments.map((s: any) => s.uri), segs.map((s) => `${s.msn}.m4s`));
  t.same(manifest.segments.flatMap((s: any, i: number) => (s.discontinuity ? [i] : [])), [700]);
});

t.test('catchup of a ladder: a multivariant playlist over every archived rendition, each playable from its own directory', async (t) => {
  const { f, archive, handler } = archived(t);
  const t0 = Date.now();
  f.parts(10 * 3 + 1);
  await f.pub.finish('test over');
  // A second rendition on disk, as the transcoder's 360p rung would leave it: same segments, its own tracks.
  cpSync(join(archive.dir, 'source'), join(archive.dir, '360p'), { recursive: true });
  for (const name of readdirSync(join(archive.dir, '360p', 'init')).filter((n) => n.endsWith('.json'))) {
    const file = join(archive.dir, '360p', 'init', name);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"width":1280', '"width":640').replace('"height":720', '"height":360'));
  }
  t.same(await archive.renditions(), ['source', '360p'], 'renditions found on disk, source first');
  const from = Math.floor(t0 / 1000) - 1, to = Math.ceil(Date.now() / 1000) + 20;
  const mv = await handler.handle(request(`/live/test/archive/${from}-${to}/index.m3u8?token=abc`));
  t.equal(mv.status, 200);
  const { manifest, warnings } = parseM3u8(await bodyText(mv.body));
  t.same(warnings, []);
  t.same(manifest.playlists.map((p: any) => [p.uri, p.attributes.RESOLUTION.width, p.attributes.RESOLUTION.height]),
    [['source.m3u8?token=abc', 1280, 720], ['360p.m3u8?token=abc', 640, 360]], 'one variant per rendition, tokens carried');
  t.ok(manifest.playlists.every((p: any) => p.attributes.CODECS === 'avc1.64001f,mp4a.40.2' && p.attributes.BANDWIDTH > 0), 'CODECS from the archived tracks, measured BANDWIDTH');
  const media = parseM3u8(await bodyText((await handler.handle(request(`/live/test/archive/${from}-${to}/360p.m3u8`))).body)).manifest;
  t.ok(media.segments.length >= 3, `${media.segments.length} segments of the rung`);
  const uri = media.segments[0].uri as string;
  t.match(uri, /^\.\.\/360p\/\d{10}\/\d+\.m4s$/, 'segment URIs lead back to the rendition directory');
  // Resolved against /live/test/archive/<from>-<to>/, '../360p/…' is /live/test/archive/360p/….
  t.equal((await handler.handle(request(`/live/test/archive/${uri.slice(3)}`))).status, 200, 'and the segment is served');
  t.equal((await handler.handle(request(`/live/test/archive/${media.segments[0].map.uri.slice(3)}`))).status, 200, 'and its init');
  const sessions = JSON.parse(await bodyText((await handler.handle(request('/live/test/archive/sessions.json'))).body));
  t.match(sessions.sessions[0].multivariant, /^\/live\/test\/archive\/\d+-\d+\/index\.m3u8$/, 'sessions name the multivariant playlist');
  const missing = await handler.handle(request(`/live/test/archive/${from}-${to}/720p.m3u8`));
  t.equal(missing.status, 404, 'a rendition never archived is a 404');
});
