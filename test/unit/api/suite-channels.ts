/** Channels: create (with the first key), list with config channels, get, update, delete; validation. */
import type { Test } from 'tap';
import { ControlError } from '../../../src/control/channel-runtime.js';
import { Harness, isError, T0, type ApiTarget } from './api-harness.js';

export function channelSuite(t: Test, target: ApiTarget): void {
  t.test('create: defaults, the first stream key shown once, applied to the origin; get answers the same', async (t) => {
    const h = await Harness.open(t, target);
    const r = await h.post('/v1/channels', { id: 'news', name: 'News', transcode: 'sd' });
    t.equal(r.status, 201);
    t.match(r.json, {
      id: 'news', name: 'News', source: 'api', latencyMode: 'ultra-low', transcode: 'sd', dvrWindowSec: null, record: false,
      retentionHours: null, autoStart: false, ipAllowList: [], playbackTokenPolicy: 'none',
      createdAt: new Date(T0).toISOString(), updatedAt: new Date(T0).toISOString(),
      status: { state: 'idle', sessionId: null }, urls: { publishServer: 'rtmp://origin.test:1935/live', playback: /\/live\/news\/index\.m3u8$/ },
    });
    const key = r.json.streamKey;
    t.match(key, { channelId: 'news', name: 'default', revokedAt: null, lastUsedAt: null });
    t.match(key.secret, /^sk_[A-Za-z0-9_-]{43}$/, 'a 256-bit URL-safe key');
    t.equal(key.publishUrl, `rtmp://origin.test:1935/live/${key.secret}`, 'the URL a broadcaster publishes to');
    t.equal(key.hint, key.secret.slice(-4));
    t.equal((await h.db.streamKeys.findActiveByHash(h.keys.streamKeys.digest(key.secret)))?.channelId, 'news',
      'the ingest finds the channel by the key\'s digest');
    t.equal(h.runtime.callsOf('apply').length, 1, 'applied to the origin once');
    t.match(h.runtime.applied.get('news'), { id: 'news', transcodeProfile: { ladder: 'sd' } });

    const got = await h.get('/v1/channels/news');
    t.equal(got.status, 200);
    const { streamKey: _, ...created } = r.json;
    t.same(got.json, created, 'GET answers what POST did, less the key');
    t.notOk(got.body.includes(key.secret), 'the secret is not shown again');
    t.notOk((await h.get('/v1/channels/news/stream-keys')).body.includes(key.secret), 'nor in the key list');
    t.notOk((await h.get('/v1/channels')).body.includes(key.secret), 'nor in the channel list');
  });

  t.test('create: every setting, a generated id, a custom ladder; round trip', async (t) => {
    const h = await Harness.open(t, target);
    const settings = {
      name: 'Sport ⚽', latencyMode: 'low', dvrWindowSec: 600, record: true, retentionHours: 48, autoStart: true,
      ipAllowList: ['192.0.2.7', '198.51.100.0/24', '2001:db8::/32'], playbackTokenPolicy: 'required',
      transcode: { rungs: ['720p', { name: 'tiny', height: 144, videoBitrateKbps: 150 }], keepSource: false },
    };
    const r = await h.post('/v1/channels', settings);
    t.equal(r.status, 201, r.body);
    t.match(r.json.id, /^ch_[a-z0-9_]+$/, 'an id is generated');
    t.match(r.json, { ...settings, source: 'api' });
    t.same((await h.get(`/v1/channels/${r.json.id}`)).json.transcode, settings.transcode, 'the ladder as written');
    t.equal((await h.post('/v1/channels', { name: 'Named ladder', transcode: 'studio' })).status, 201, 'a ladder of the config');
    t.equal((await h.post('/v1/channels', { name: 'Presets', transcode: '720p/360p' })).status, 201, 'a slash list of presets');
  });

  t.test('create: validation errors name the field', async (t) => {
    const h = await Harness.open(t, target);
    const bad = async (body: unknown, path: string, what: string) => {
      const r = await h.post('/v1/channels', body);
      isError(t, r, 400, 'VALIDATION_FAILED', what);
      t.ok(r.json?.error?.details?.some((d: { path: string }) => d.path === path), `${what}: details point at ${path} (${r.body.slice(0, 300)})`);
    };
    await bad({}, 'body.name', 'no name');
    await bad({ name: 'x', id: 'Has Caps' }, 'body.id', 'an id outside ^[a-z0-9][a-z0-9_-]{0,63}$');
    await bad({ name: 'x', id: 'a'.repeat(65) }, 'body.id', 'an id too long');
    await bad({ name: 'x', latencyMode: 'instant' }, 'body.latencyMode', 'an unknown latency mode');
    await bad({ name: 'x', ipAllowList: ['10.0.0.0/8', '10.0.0.1/33'] }, 'body.ipAllowList.1', 'a CIDR with too many bits');
    await bad({ name: 'x', ipAllowList: ['example.com'] }, 'body.ipAllowList.0', 'a host name');
    await bad({ name: 'x', transcode: 'ultra-hd' }, 'body.transcode', 'an unknown ladder');
    await bad({ name: 'x', transcode: { rungs: [{ name: 'source', height: 360, videoBitrateKbps: 500 }] } }, 'body.transcode.rungs.0.name',
      'a reserved rung name');
    await bad({ name: 'x', dvrWindowSec: 7200, retentionHours: 1 }, 'body.dvrWindowSec', 'a DVR window longer than the retention');
    await bad({ name: 'x', dvrWindowSec: -1 }, 'body.dvrWindowSec', 'a negative window');
    await bad({ name: 'x', recrod: true }, 'body', 'an unknown field (a typo is not ignored)');
    await bad([1, 2], 'body', 'not an object');
    t.equal(h.runtime.callsOf('apply').length, 0, 'nothing applied');
    t.same((await h.db.channels.list()).items, [], 'nothing stored');
  });

  t.test('ids are unique across config and API channels (409)', async (t) => {
    const h = await Harness.open(t, target);
    h.runtime.addConfigChannel('demo');
    isError(t, await h.post('/v1/channels', { id: 'demo', name: 'Demo' }), 409, 'CHANNEL_ID_TAKEN', 'a config channel\'s id');
    await h.channel({ id: 'news', name: 'News' });
    isError(t, await h.post('/v1/channels', { id: 'news', name: 'Again' }), 409, 'CHANNEL_ID_TAKEN', 'an API channel\'s id');
    t.equal((await h.db.streamKeys.listForChannel('news')).items.length, 1, 'the refused create made no key');
  });

  t.test('list: config and API channels by id, cursor pages; config channels read-only', async (t) => {
    const h = await Harness.open(t, target);
    h.runtime.addConfigChannel('demo', { record: true, transcode: 'hd' });
    h.runtime.addConfigChannel('lobby');
    for (const id of ['alpha', 'kitchen', 'zulu']) await h.channel({ id, name: id.toUpperCase() });
    const { pages, items } = await h.allPages('/v1/channels?limit=2');
    t.same(pages.map((p) => p.length), [2, 2, 1], 'pages of two');
    t.same(items.map((c) => c.id), ['alpha', 'demo', 'kitchen', 'lobby', 'zulu'], 'each once, by id');
    t.same(items.map((c) => c.source), ['api', 'config', 'api', 'config', 'api']);
    t.match(items[1], { id: 'demo', name: 'demo', record: true, transcode: 'hd', autoStart: true, createdAt: null, status: { state: 'idle' } });
    t.same((await h.allPages('/v1/channels?limit=500')).pages.length, 1, 'one page when it fits');
    isError(t, await h.get('/v1/channels?cursor=not-a-cursor'), 400, 'INVALID_CURSOR');
    isError(t, await h.get('/v1/channels?limit=0'), 400, 'VALIDATION_FAILED', 'limit below 1');
    isError(t, await h.get('/v1/channels?limit=501'), 400, 'VALIDATION_FAILED', 'limit above 500');

    t.equal((await h.get('/v1/channels/demo')).json.source, 'config', 'a config channel can be read');
    isError(t, await h.patch('/v1/channels/demo', { name: 'x' }), 409, 'CONFIG_CHANNEL_READ_ONLY', 'but not changed');
    isError(t, await h.delete('/v1/channels/demo'), 409, 'CONFIG_CHANNEL_READ_ONLY', 'nor deleted');
    isError(t, await h.post('/v1/channels/demo/stream-keys'), 409, 'CONFIG_CHANNEL_READ_ONLY', 'nor given keys');
    isError(t, await h.get('/v1/channels/demo/stream-keys'), 409, 'CONFIG_CHANNEL_READ_ONLY', 'its key lives in the config');
    t.equal(h.runtime.callsOf('remove').length, 0);
  });

  t.test('update: applied to the origin, null resets to the server default; 404 and validation', async (t) => {
    const h = await Harness.open(t, target);
    await h.channel({ id: 'news', name: 'News', dvrWindowSec: 60, retentionHours: 2 });
    h.now += 5000;
    const r = await h.patch('/v1/channels/news', { name: 'World news', record: true, transcode: 'mobile', dvrWindowSec: null, autoStart: true });
    t.equal(r.status, 200, r.body);
    t.match(r.json, { name: 'World news', record: true, transcode: 'mobile', dvrWindowSec: null, retentionHours: 2, autoStart: true,
      updatedAt: new Date(T0 + 5000).toISOString(), createdAt: new Date(T0).toISOString() });
    t.match(h.runtime.applied.get('news'), { name: 'World news', transcodeProfile: { ladder: 'mobile' }, dvrWindowSec: null });
    t.equal((await h.patch('/v1/channels/news', { transcode: 'passthrough' })).json.transcode, 'passthrough');
    t.equal(h.runtime.applied.get('news')?.transcodeProfile, null, 'passthrough is stored as no profile');

    isError(t, await h.patch('/v1/channels/news', { dvrWindowSec: 9000 }), 400, 'VALIDATION_FAILED',
      'the window checked against the stored retention');
    isError(t, await h.patch('/v1/channels/news', { id: 'other' }), 400, 'VALIDATION_FAILED', 'the id cannot change');
    isError(t, await h.patch('/v1/channels/news', { transcode: 'nope' }), 400, 'VALIDATION_FAILED');
    isError(t, await h.patch('/v1/channels/nope', { name: 'x' }), 404, 'CHANNEL_NOT_FOUND');
    t.equal(h.runtime.callsOf('apply').length, 3, 'refused changes are not applied');
  });

  t.test('an origin that refuses a channel: create leaves nothing, update is undone', async (t) => {
    const h = await Harness.open(t, target);
    h.runtime.failNextApply = new ControlError(503, 'ORIGIN_BUSY', 'the origin cannot take another channel');
    isError(t, await h.post('/v1/channels', { id: 'news', name: 'News' }), 503, 'ORIGIN_BUSY', 'the runtime\'s status and code');
    t.equal(await h.db.channels.get('news'), undefined, 'no channel left behind');
    await h.channel({ id: 'news', name: 'News' });
    h.runtime.failNextApply = new Error('boom: /secret/path');
    const r = await h.patch('/v1/channels/news', { name: 'Renamed', record: true });
    isError(t, r, 500, 'INTERNAL', 'an unexpected failure');
    t.notOk(r.body.includes('boom'), 'its message is not shown');
    t.ok(h.logs.some((l) => l.msg === 'API request failed'), 'but logged');
    t.match(await h.db.channels.get('news'), { name: 'News', record: false }, 'the change was undone');
  });

  t.test('delete: removed from the origin with its keys; its events stay', async (t) => {
    const h = await Harness.open(t, target);
    const created = await h.channel({ id: 'news', name: 'News' });
    await h.db.events.append({ type: 'channel.live', channelId: 'news', payload: { channel: 'news' } });
    t.equal((await h.delete('/v1/channels/news')).status, 204);
    t.same(h.runtime.callsOf('remove'), [['news']], 'removed from the origin');
    isError(t, await h.get('/v1/channels/news'), 404, 'CHANNEL_NOT_FOUND');
    isError(t, await h.delete('/v1/channels/news'), 404, 'CHANNEL_NOT_FOUND', 'a second delete');
    t.equal(await h.db.streamKeys.findActiveByHash(h.keys.streamKeys.digest(created.streamKey.secret)), undefined, 'its keys are gone');
    t.equal((await h.get('/v1/events?channelId=news')).json.items.length, 1, 'its events are still queryable');
  });
}
