/** Stream keys, start/stop, sessions, catchup, playback tokens, recordings. */
import { writeFileSync } from 'node:fs';
import type { Test } from 'tap';
import { Harness, isError, T0, type ApiTarget } from './api-harness.js';

export function liveSuite(t: Test, target: ApiTarget): void {
  t.test('stream keys: several per channel, secret shown once, rotate, revoke', async (t) => {
    const h = await Harness.open(t, target);
    const first = (await h.channel({ id: 'news', name: 'News' })).streamKey;
    await h.channel({ id: 'other', name: 'Other' });
    h.now += 1;
    const r = await h.post('/v1/channels/news/stream-keys', { name: 'backup encoder' });
    t.equal(r.status, 201);
    t.match(r.json, { channelId: 'news', name: 'backup encoder', secret: /^sk_[A-Za-z0-9_-]{43}$/, revokedAt: null });
    t.not(r.json.secret, first.secret, 'a new secret');
    h.now += 1;
    t.equal((await h.post('/v1/channels/news/stream-keys')).status, 201, 'no body: a key without a name');
    h.now += 1;
    t.equal((await h.post('/v1/channels/news/stream-keys', '', { headers: { 'content-type': 'application/json' } })).status, 201,
      'an empty JSON body is no body');

    const list = await h.get('/v1/channels/news/stream-keys');
    t.equal(list.status, 200);
    t.same(list.json.items.map((k: { name: string | null }) => k.name), ['default', 'backup encoder', null, null], 'oldest first');
    t.same(Object.keys(list.json.items[0]).sort(), ['channelId', 'createdAt', 'hint', 'id', 'input', 'lastUsedAt', 'name', 'revokedAt'],
      'no secret, no digest');
    t.same(list.json.items.map((k: { input: string }) => k.input), ['primary', 'primary', 'primary', 'primary'], 'keys publish to the primary input by default');
    t.notOk(list.body.includes(r.json.secret) || list.body.includes(h.keys.streamKeys.digest(r.json.secret)));
    const paged = await h.allPages('/v1/channels/news/stream-keys?limit=3');
    t.same(paged.pages.map((p) => p.length), [3, 1], 'paginated');

    h.now += 1000;
    const rotated = await h.post(`/v1/channels/news/stream-keys/${r.json.id}/rotate`);
    t.equal(rotated.status, 201);
    t.match(rotated.json, { channelId: 'news', name: 'backup encoder', secret: /^sk_/, revokedAt: null });
    t.not(rotated.json.id, r.json.id, 'a new key');
    t.equal(await h.db.streamKeys.findActiveByHash(h.keys.streamKeys.digest(r.json.secret)), undefined, 'the old secret no longer publishes');
    t.equal((await h.db.streamKeys.findActiveByHash(h.keys.streamKeys.digest(rotated.json.secret)))?.id, rotated.json.id, 'the new one does');
    t.equal((await h.db.streamKeys.get(r.json.id))?.revokedAt, h.now, 'the old key is revoked, not deleted');
    isError(t, await h.post(`/v1/channels/news/stream-keys/${r.json.id}/rotate`), 409, 'STREAM_KEY_REVOKED', 'a revoked key cannot rotate');
    isError(t, await h.post(`/v1/channels/other/stream-keys/${rotated.json.id}/rotate`), 404, 'STREAM_KEY_NOT_FOUND',
      'another channel\'s key');

    t.equal((await h.delete(`/v1/channels/news/stream-keys/${first.id}`)).status, 204);
    t.equal(await h.db.streamKeys.findActiveByHash(h.keys.streamKeys.digest(first.secret)), undefined, 'revoked');
    t.equal((await h.delete(`/v1/channels/news/stream-keys/${first.id}`)).status, 204, 'revoking again is fine');
    isError(t, await h.delete('/v1/channels/news/stream-keys/sk_nope'), 404, 'STREAM_KEY_NOT_FOUND');
    isError(t, await h.post('/v1/channels/nope/stream-keys'), 404, 'CHANNEL_NOT_FOUND');
    isError(t, await h.post('/v1/channels/news/stream-keys', { name: 'x', extra: 1 }), 400, 'VALIDATION_FAILED');
  });

  t.test('start and stop: the runtime\'s answer, its refusals as JSON errors', async (t) => {
    const h = await Harness.open(t, target);
    h.runtime.addConfigChannel('demo');
    await h.channel({ id: 'news', name: 'News' });
    isError(t, await h.post('/v1/channels/news/start'), 409, 'NOT_PUBLISHING', 'nobody publishes');
    h.runtime.publish('news');
    t.match((await h.get('/v1/channels/news')).json.status, { state: 'preview', publisher: { remoteAddress: '192.0.2.10' } });
    h.now += 2000;
    const started = await h.post('/v1/channels/news/start');
    t.equal(started.status, 200);
    t.match(started.json, { state: 'live', since: new Date(T0 + 2000).toISOString(), renditions: ['source'] });
    const stopped = await h.post('/v1/channels/news/stop');
    t.match(stopped.json, { state: 'ended', publisher: null });
    isError(t, await h.post('/v1/channels/demo/stop'), 409, 'NOT_PUBLISHING', 'a config channel is controlled too');
    h.runtime.publish('demo');
    t.equal((await h.get('/v1/channels/demo')).json.status.state, 'live', 'config channels auto-start here');
    isError(t, await h.post('/v1/channels/nope/start'), 404, 'CHANNEL_NOT_FOUND');
    t.same(h.runtime.callsOf('start'), [['news'], ['news']], 'the runtime was asked, not for the unknown channel');

    const sessions = await h.get('/v1/channels/news/sessions');
    t.same(sessions.json, { items: [{ startedAt: new Date(T0).toISOString(), endedAt: new Date(T0 + 2000).toISOString(), slates: [] }] });
    isError(t, await h.get('/v1/channels/nope/sessions'), 404, 'CHANNEL_NOT_FOUND');
  });

  t.test('catchup: ISO 8601 or epoch ms, from before to', async (t) => {
    const h = await Harness.open(t, target);
    await h.channel({ id: 'news', name: 'News' });
    const from = '2026-11-25T10:00:00Z', to = Date.UTC(2026, 10, 25, 11);
    const r = await h.get(`/v1/channels/news/catchup?from=${from}&to=${to}`);
    t.equal(r.status, 200, r.body);
    t.same(r.json, { url: `http://origin.test:8080/live/news/archive.m3u8?from=${Date.parse(from)}&to=${to}` });
    t.same(h.runtime.callsOf('catchupUrl'), [['news', Date.parse(from), to]], 'the runtime got epoch ms');
    t.equal((await h.get('/v1/channels/news/catchup?from=2026-11-25T10:00:00.500%2B01:00&to=2026-11-25T10:00Z')).status, 200,
      'offsets and short forms');
    isError(t, await h.get(`/v1/channels/news/catchup?from=${to}&to=${from}`), 400, 'VALIDATION_FAILED', 'from after to');
    isError(t, await h.get(`/v1/channels/news/catchup?from=${to}&to=${to}`), 400, 'VALIDATION_FAILED', 'an empty range');
    isError(t, await h.get('/v1/channels/news/catchup?from=yesterday&to=today'), 400, 'VALIDATION_FAILED', 'words');
    isError(t, await h.get('/v1/channels/news/catchup?from=2026-13-45T99:00Z&to=2027-01-01'), 400, 'VALIDATION_FAILED', 'no such date');
    isError(t, await h.get('/v1/channels/news/catchup'), 400, 'VALIDATION_FAILED', 'missing');
    isError(t, await h.get(`/v1/channels/nope/catchup?from=${from}&to=${to}`), 404, 'CHANNEL_NOT_FOUND');
  });

  t.test('playback tokens: bounded lifetime, preview flag, the URL carries the token', async (t) => {
    const h = await Harness.open(t, target);
    await h.channel({ id: 'news', name: 'News', playbackTokenPolicy: 'required' });
    const r = await h.post('/v1/channels/news/playback-tokens');
    t.equal(r.status, 201, r.body);
    t.equal(r.json.expiresAt, new Date(T0 + 3600_000).toISOString(), 'an hour by default');
    t.equal(r.json.playbackUrl, `http://origin.test:8080/live/news/index.m3u8?token=${encodeURIComponent(r.json.token)}`);
    const preview = await h.post('/v1/channels/news/playback-tokens', { expiresInSec: 60, preview: true });
    t.equal(preview.json.expiresAt, new Date(T0 + 60_000).toISOString());
    t.same(h.runtime.callsOf('playbackToken'), [['news', { expiresInSec: 3600, preview: false }], ['news', { expiresInSec: 60, preview: true }]]);
    isError(t, await h.post('/v1/channels/news/playback-tokens', { expiresInSec: 5 }), 400, 'VALIDATION_FAILED', 'too short');
    isError(t, await h.post('/v1/channels/news/playback-tokens', { expiresInSec: 8 * 86400 }), 400, 'VALIDATION_FAILED', 'too long');
    isError(t, await h.post('/v1/channels/news/playback-tokens', { expiresInSec: 'soon' }), 400, 'VALIDATION_FAILED', 'not a number');
    isError(t, await h.post('/v1/channels/nope/playback-tokens'), 404, 'CHANNEL_NOT_FOUND');
  });

  t.test('recordings: list, download (streamed, with length and name, byte ranges, conditional), delete', async (t) => {
    const h = await Harness.open(t, target);
    await h.channel({ id: 'news', name: 'News', record: true });
    const recordingFile = h.runtime.addRecording('news', 'news-20261125T110000Z.mp4', 100_000);
    const list = await h.get('/v1/channels/news/recordings');
    t.same(list.json, { items: [{ name: 'news-20261125T110000Z.mp4', bytes: 100_000, durationMs: 60_000,
      startedAt: new Date(T0 - 60_000).toISOString(), endedAt: new Date(T0).toISOString(), complete: true }] });
    const file = await h.get('/v1/channels/news/recordings/news-20261125T110000Z.mp4');
    t.equal(file.status, 200);
    t.equal(file.headers['content-type'], 'video/mp4');
    t.equal(file.headers['content-length'], '100000');
    t.equal(file.headers['content-disposition'], 'attachment; filename="news-20261125T110000Z.mp4"');
    t.equal(file.raw.length, 100_000, 'the whole file');
    t.ok(file.raw.every((b) => b === 7), 'its bytes');
    t.equal(file.headers['accept-ranges'], 'bytes', 'ranges are announced');
    // Byte ranges: a resumed download, a <video> seeking in the file.
    const pattern = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 31) % 251));
    writeFileSync(recordingFile, pattern);
    const url = '/v1/channels/news/recordings/news-20261125T110000Z.mp4';
    const mid = await h.get(url, { headers: { range: 'bytes=10-19' } });
    t.equal(mid.status, 206, 'a range: 206');
    t.equal(mid.headers['content-range'], 'bytes 10-19/100000');
    t.equal(mid.headers['content-length'], '10');
    t.equal(mid.headers['content-type'], 'video/mp4');
    t.same(mid.raw, pattern.subarray(10, 20), 'exactly those bytes');
    const tail = await h.get(url, { headers: { range: 'bytes=99990-' } });
    t.same([tail.status, tail.headers['content-range']], [206, 'bytes 99990-99999/100000'], 'an open range runs to the end');
    t.same(tail.raw, pattern.subarray(99_990), 'the last bytes');
    const beyond = await h.get(url, { headers: { range: 'bytes=200000-' } });
    isError(t, beyond, 416, 'RANGE_NOT_SATISFIABLE', 'a range past the end');
    t.equal(beyond.headers['content-range'], 'bytes */100000', 'with the size');
    const etag = (await h.get(url)).headers.etag as string;
    t.ok(etag, 'an ETag');
    t.equal((await h.get(url, { headers: { 'if-none-match': etag } })).status, 304, 'a conditional GET with it: 304');
    const stale = await h.get(url, { headers: { range: 'bytes=0-9', 'if-range': '"another-version"' } });
    t.same([stale.status, stale.raw.length], [200, 100_000], 'If-Range with an old ETag: the whole file');
    isError(t, await h.get('/v1/channels/news/recordings/other.mp4'), 404, 'RECORDING_NOT_FOUND');
    isError(t, await h.get('/v1/channels/news/recordings/..%2F..%2Fsecret.key'), 400, 'VALIDATION_FAILED', 'a path is not a name');
    isError(t, await h.get('/v1/channels/news/recordings/.hidden'), 400, 'VALIDATION_FAILED', 'nor a dot file');
    t.equal(h.runtime.callsOf('recordingPath').length, 8, 'bad names never reach the runtime');
    const read = (await h.token(['read'])).secret;
    isError(t, await h.delete('/v1/channels/news/recordings/news-20261125T110000Z.mp4', { token: read }), 403, 'FORBIDDEN',
      'deleting needs write');
    t.equal((await h.delete('/v1/channels/news/recordings/news-20261125T110000Z.mp4')).status, 204);
    isError(t, await h.delete('/v1/channels/news/recordings/news-20261125T110000Z.mp4'), 404, 'RECORDING_NOT_FOUND');
    t.same((await h.get('/v1/channels/news/recordings')).json.items, []);
    h.runtime.addRecording('news', 'news-now.mp4', 10, false);
    isError(t, await h.delete('/v1/channels/news/recordings/news-now.mp4'), 409, 'RECORDING_IN_PROGRESS', 'not while it is written');
    isError(t, await h.get('/v1/channels/nope/recordings'), 404, 'CHANNEL_NOT_FOUND');
  });
}
