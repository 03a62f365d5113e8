/** Restream targets through the API: add (sealed, masked), list, change, remove; validation; operator start/stop. */
import type { Test } from 'tap';
import { Harness, isError, type ApiTarget } from './api-harness.js';

const KEY = 'live_998877_secretKEY42';
const URL_ = `rtmp://live.twitch.tv/app/${KEY}`;

export function restreamSuite(t: Test, target: ApiTarget): void {
  t.test('add, list, change, remove: the URL sealed in the database and masked in every answer', async (t) => {
    const h = await Harness.open(t, target);
    await h.post('/v1/channels', { id: 'news', name: 'News', transcode: 'sd' });
    const r = await h.post('/v1/channels/news/restream', { name: 'Twitch', url: URL_ });
    t.equal(r.status, 201);
    t.match(r.json, { id: /^rs_/, name: 'Twitch', url: 'rtmp://live.twitch.tv/app/…EY42', rendition: 'source', enabled: true, from: 'api', state: 'idle', retries: 0 });
    t.notOk(r.body.includes(KEY), 'the answer never shows the key');
    const row = await h.db.restreamTargets.get(r.json.id);
    t.notOk(JSON.stringify(row).includes(KEY), 'the database holds it sealed');
    t.equal(h.keys.restreamUrls.open(row!.sealedUrl), URL_, 'and the server key opens it');

    const list = await h.get('/v1/channels/news/restream');
    t.same(list.json.items.map((x: { id: string }) => x.id), [r.json.id]);
    t.notOk(list.body.includes(KEY));

    const rung = await h.post('/v1/channels/news/restream', { url: 'rtmps://a.rtmps.youtube.com/live2/yt-key-0001', rendition: '360p', enabled: false });
    t.equal(rung.status, 201, 'an ABR rung of the channel may be pushed');
    t.match(rung.json, { name: 'target 2', rendition: '360p', enabled: false, url: 'rtmps://a.rtmps.youtube.com/live2/…0001' });

    const patched = await h.patch(`/v1/channels/news/restream/${r.json.id}`, { enabled: false, url: 'rtmp://live.twitch.tv/app/another-key-9999' });
    t.equal(patched.status, 200);
    t.match(patched.json, { enabled: false, url: 'rtmp://live.twitch.tv/app/…9999' });
    t.equal(h.keys.restreamUrls.open((await h.db.restreamTargets.get(r.json.id))!.sealedUrl), 'rtmp://live.twitch.tv/app/another-key-9999');

    t.equal((await h.delete(`/v1/channels/news/restream/${r.json.id}`)).status, 204);
    t.same((await h.get('/v1/channels/news/restream')).json.items.map((x: { id: string }) => x.id), [rung.json.id]);
    isError(t, await h.delete(`/v1/channels/news/restream/${r.json.id}`), 404, 'RESTREAM_TARGET_NOT_FOUND', 'gone');
  });

  t.test('validation: a bad URL (without echoing the key), a rendition the channel lacks, an unknown channel; start needs a streaming channel', async (t) => {
    const h = await Harness.open(t, target);
    await h.post('/v1/channels', { id: 'news', name: 'News' });
    const bad = await h.post('/v1/channels/news/restream', { url: `http://example.com/app/${KEY}` });
    isError(t, bad, 400, 'VALIDATION_FAILED', 'http is not a target');
    t.notOk(bad.body.includes(KEY), 'the refusal does not repeat the key');
    isError(t, await h.post('/v1/channels/news/restream', { url: 'rtmp://example.com/onlykey' }), 400, 'VALIDATION_FAILED', 'no app');
    isError(t, await h.post('/v1/channels/news/restream', { url: URL_, rendition: '720p' }), 400, 'VALIDATION_FAILED', 'a passthrough channel has only its source');
    isError(t, await h.post('/v1/channels/news/restream', { url: URL_, color: 'red' }), 400, 'VALIDATION_FAILED', 'unknown field');
    isError(t, await h.post('/v1/channels/nope/restream', { url: URL_ }), 404, 'CHANNEL_NOT_FOUND');
    const r = await h.post('/v1/channels/news/restream', { url: URL_ });
    isError(t, await h.post(`/v1/channels/news/restream/${r.json.id}/start`), 404, 'RESTREAM_TARGET_NOT_FOUND', 'an origin without the restream runtime knows no target');
    isError(t, await h.post('/v1/channels/news/restream', { url: URL_ }, { token: (await h.token(['read'])).secret }), 403, 'FORBIDDEN', 'a read-only token cannot add');
  });
}

export function srtPassphraseSuite(t: Test, target: ApiTarget): void {
  t.test('an API channel\'s SRT passphrase: set, never shown (srtEncrypted), applied, cleared; checked', async (t) => {
    const h = await Harness.open(t, target);
    const r = await h.post('/v1/channels', { id: 'field', name: 'Field', srtPassphrase: 'a-long-passphrase' });
    t.equal(r.status, 201);
    t.equal(r.json.srtEncrypted, true);
    t.notOk(r.body.includes('a-long-passphrase'), 'the answer never shows it');
    t.notOk((await h.get('/v1/channels/field')).body.includes('a-long-passphrase'), 'nor GET');
    t.equal(h.runtime.applied.get('field')?.srtPassphrase, 'a-long-passphrase', 'the origin gets it');
    const cleared = await h.patch('/v1/channels/field', { srtPassphrase: null });
    t.equal(cleared.json.srtEncrypted, false);
    t.equal(h.runtime.applied.get('field')?.srtPassphrase, null);
    isError(t, await h.patch('/v1/channels/field', { srtPassphrase: 'short' }), 400, 'VALIDATION_FAILED', 'SRT needs 10 to 79 characters');
  });
}
