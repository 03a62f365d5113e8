/** API tokens, webhook endpoints with their deliveries, and stored events. */
import type { Test } from 'tap';
import { pino } from 'pino';
import { ensureAdminToken } from '../../../src/api/index.js';
import { recordEvent } from '../../../src/db/index.js';
import { Harness, isError, T0, type ApiTarget } from './api-harness.js';

export function adminSuite(t: Test, target: ApiTarget): void {
  t.test('API tokens: secret once, list without secrets, revocation rules', async (t) => {
    const h = await Harness.open(t, target);
    h.now += 1;
    const r = await h.post('/v1/api-tokens', { name: 'CI deploys', scopes: ['write'] });
    t.equal(r.status, 201);
    t.match(r.json, { name: 'CI deploys', scopes: ['write'], source: 'api', revokedAt: null, lastUsedAt: null, secret: /^sgl_[A-Za-z0-9_-]{43}$/ });
    const list = await h.get('/v1/api-tokens');
    t.same(list.json.items.map((x: { name: string }) => x.name), ['first admin token', 'CI deploys'], 'oldest first');
    t.notOk(list.body.includes(r.json.secret) || list.body.includes('secret'), 'no secrets, no digests');
    const one = await h.get(`/v1/api-tokens/${r.json.id}`);
    const { secret: _, ...view } = r.json;
    t.same(one.json, view);
    isError(t, await h.get('/v1/api-tokens/tok_nope'), 404, 'API_TOKEN_NOT_FOUND');

    isError(t, await h.post('/v1/api-tokens', { name: 'x', scopes: [] }), 400, 'VALIDATION_FAILED', 'no scope');
    isError(t, await h.post('/v1/api-tokens', { name: 'x', scopes: ['root'] }), 400, 'VALIDATION_FAILED', 'an unknown scope');
    isError(t, await h.post('/v1/api-tokens', { name: 'x', scopes: ['read', 'read'] }), 400, 'VALIDATION_FAILED', 'a repeated scope');
    isError(t, await h.post('/v1/api-tokens', { scopes: ['read'] }), 400, 'VALIDATION_FAILED', 'no name');

    const first = list.json.items[0].id;
    isError(t, await h.delete(`/v1/api-tokens/${first}`), 409, 'LAST_ADMIN_TOKEN', 'the only admin token stays');
    const second = await h.token(['admin', 'read']);
    t.equal((await h.delete(`/v1/api-tokens/${first}`, { token: second.secret })).status, 204, 'with another admin, it can go');
    isError(t, await h.get('/v1/channels'), 401, 'UNAUTHORIZED', 'and no longer works');
    t.equal((await h.delete(`/v1/api-tokens/${first}`, { token: second.secret })).status, 204, 'revoking again is fine');
    t.equal((await h.delete(`/v1/api-tokens/${r.json.id}`, { token: second.secret })).status, 204, 'a write token can go');
    isError(t, await h.delete(`/v1/api-tokens/${second.id}`, { token: second.secret }), 409, 'LAST_ADMIN_TOKEN', 'not the last admin, even itself');
    const third = await h.token(['admin'], 'third').catch(() => undefined);
    t.equal(third, undefined, 'the harness\'s admin token is revoked');
    const fourth = await h.post('/v1/api-tokens', { name: 'fourth', scopes: ['admin'] }, { token: second.secret });
    t.equal((await h.delete(`/v1/api-tokens/${second.id}`, { token: second.secret })).status, 204, 'a token may revoke itself');
    t.equal((await h.get('/v1/api-tokens', { token: fourth.json.secret })).json.items.filter((x: { revokedAt: null }) => x.revokedAt === null)
      .length, 1, 'one active token left');

    await ensureAdminToken({ db: h.db, keys: h.keys, configured: 'k'.repeat(40), logger: pino({ level: 'silent' }), print: () => {} });
    const configured = (await h.get('/v1/api-tokens', { token: fourth.json.secret })).json.items
      .find((x: { source: string }) => x.source === 'config');
    t.ok(configured, 'the configured token shows as source "config"');
    isError(t, await h.delete(`/v1/api-tokens/${configured.id}`, { token: fourth.json.secret }), 409, 'CONFIG_TOKEN_READ_ONLY');
  });

  t.test('webhooks: CRUD, the secret shown at creation only, URL and event type checks', async (t) => {
    const h = await Harness.open(t, target);
    const r = await h.post('/v1/webhooks', { url: 'https://hooks.example.test/sigma', eventTypes: ['channel.live', 'channel.ended'] });
    t.equal(r.status, 201, r.body);
    t.match(r.json, { url: 'https://hooks.example.test/sigma', eventTypes: ['channel.ended', 'channel.live'], enabled: true,
      secret: /^whsec_[A-Za-z0-9_-]{43}$/, createdAt: new Date(T0).toISOString() });
    t.equal((await h.db.webhooks.get(r.json.id))?.secret, r.json.secret, 'stored for signing');
    h.now += 1;
    const given = await h.post('/v1/webhooks', { url: 'http://127.0.0.1:9000/in', eventTypes: ['*'], secret: 'a-secret-of-my-own-choice', enabled: false });
    t.match(given.json, { secret: 'a-secret-of-my-own-choice', enabled: false, eventTypes: ['*'] });

    const got = await h.get(`/v1/webhooks/${r.json.id}`);
    t.notOk('secret' in got.json, 'never returned afterwards');
    const list = await h.get('/v1/webhooks');
    t.same(list.json.items.map((e: { id: string }) => e.id), [r.json.id, given.json.id]);
    t.notOk(list.body.includes(r.json.secret) || list.body.includes('a-secret-of-my-own-choice'), 'not in the list either');

    h.now += 1000;
    const patched = await h.patch(`/v1/webhooks/${r.json.id}`, { eventTypes: ['*'], enabled: false, secret: 'rotated-secret-value-1' });
    t.match(patched.json, { eventTypes: ['*'], enabled: false, updatedAt: new Date(T0 + 1001).toISOString() });
    t.notOk(patched.body.includes('rotated-secret-value-1'), 'a new secret is accepted, not shown');
    t.equal((await h.db.webhooks.get(r.json.id))?.secret, 'rotated-secret-value-1');

    const bad = async (body: unknown, what: string) => isError(t, await h.post('/v1/webhooks', body), 400, 'VALIDATION_FAILED', what);
    await bad({ url: 'ftp://example.test/x', eventTypes: ['*'] }, 'not http(s)');
    await bad({ url: 'not a url', eventTypes: ['*'] }, 'not a URL');
    await bad({ url: 'https://example.test/x', eventTypes: ['channel.exploded'] }, 'an unknown event type');
    await bad({ url: 'https://example.test/x', eventTypes: [] }, 'no event type');
    await bad({ url: 'https://example.test/x', eventTypes: ['*'], secret: 'short' }, 'a short secret');
    isError(t, await h.patch(`/v1/webhooks/${r.json.id}`, { url: 'javascript:alert(1)' }), 400, 'VALIDATION_FAILED', 'PATCH checks too');
    isError(t, await h.patch('/v1/webhooks/wh_nope', { enabled: true }), 404, 'WEBHOOK_NOT_FOUND');
    isError(t, await h.get('/v1/webhooks/wh_nope'), 404, 'WEBHOOK_NOT_FOUND');

    t.equal((await h.delete(`/v1/webhooks/${given.json.id}`)).status, 204);
    isError(t, await h.delete(`/v1/webhooks/${given.json.id}`), 404, 'WEBHOOK_NOT_FOUND');
    t.equal((await h.get('/v1/webhooks')).json.items.length, 1);
  });

  t.test('webhook deliveries, the delivery log, manual redelivery', async (t) => {
    const h = await Harness.open(t, target);
    const endpoint = (await h.post('/v1/webhooks', { url: 'http://127.0.0.1:9/hook', eventTypes: ['channel.live'] })).json;
    const { event } = await recordEvent(h.db, { type: 'channel.live', channelId: 'news', payload: { channel: 'news' } });
    const other = await h.db.events.append({ type: 'channel.ended', channelId: 'news', payload: {} });
    const deliveries = await h.get(`/v1/webhooks/${endpoint.id}/deliveries`);
    t.match(deliveries.json, { items: [{ eventId: event.id, state: 'pending', attempts: 0, lastStatus: null }], nextCursor: null });

    const [claimed] = await h.db.outbox.claim({ owner: 'test', leaseMs: 10_000 });
    await h.db.outbox.fail(claimed.delivery.id, 'test', { status: 500, durationMs: 12 }, null);
    t.match((await h.get(`/v1/webhooks/${endpoint.id}/deliveries?state=failed`)).json.items, [{ state: 'failed', attempts: 1, lastStatus: 500 }]);
    t.same((await h.get(`/v1/webhooks/${endpoint.id}/deliveries?state=pending`)).json.items, []);
    const attempts = await h.get(`/v1/webhooks/${endpoint.id}/attempts`);
    t.match(attempts.json.items, [{ eventId: event.id, attempt: 1, ok: false, status: 500, durationMs: 12 }]);

    const again = await h.post(`/v1/webhooks/${endpoint.id}/deliveries/${event.id}/redeliver`);
    t.equal(again.status, 202);
    t.match(again.json, { eventId: event.id, state: 'pending', attempts: 0 });
    t.equal(h.redelivered, 1, 'the sender was woken');
    t.equal((await h.post(`/v1/webhooks/${endpoint.id}/deliveries/${other.id}/redeliver`)).status, 202,
      'any stored event can be sent, subscribed or not');
    isError(t, await h.post(`/v1/webhooks/${endpoint.id}/deliveries/evt_nope/redeliver`), 404, 'EVENT_NOT_FOUND');
    isError(t, await h.post(`/v1/webhooks/wh_nope/deliveries/${event.id}/redeliver`), 404, 'WEBHOOK_NOT_FOUND');
    isError(t, await h.get('/v1/webhooks/wh_nope/deliveries'), 404, 'WEBHOOK_NOT_FOUND');
    isError(t, await h.get('/v1/webhooks/wh_nope/attempts'), 404, 'WEBHOOK_NOT_FOUND');
    isError(t, await h.get(`/v1/webhooks/${endpoint.id}/deliveries?state=lost`), 400, 'VALIDATION_FAILED');
    t.equal(h.redelivered, 2, 'refused redeliveries wake nothing');
  });

  t.test('events: filters, time range, pages, one event, a channel\'s events', async (t) => {
    const h = await Harness.open(t, target);
    await h.channel({ id: 'news', name: 'News' });
    const at = (min: number) => T0 + min * 60_000;
    for (let i = 0; i < 5; i++) {
      await h.db.events.append({ type: i % 2 ? 'channel.live' : 'channel.preview', channelId: 'news', occurredAt: at(i), payload: { i } });
    }
    await h.db.events.append({ type: 'storage.low', channelId: null, occurredAt: at(10), payload: { freeBytes: 1 } });
    const all = await h.get('/v1/events');
    t.same(all.json.items.map((e: { type: string }) => e.type)[0], 'storage.low', 'newest first');
    t.equal(all.json.items.length, 6);
    t.match(all.json.items[1], { type: 'channel.preview', channelId: 'news', occurredAt: new Date(at(4)).toISOString(), payload: { i: 4 } });
    t.equal((await h.get('/v1/events?type=channel.live')).json.items.length, 2);
    t.equal((await h.get('/v1/events?channelId=news')).json.items.length, 5);
    const range = await h.get(`/v1/events?from=${new Date(at(1)).toISOString()}&to=${at(3)}`);
    t.same(range.json.items.map((e: { payload: { i: number } }) => e.payload.i), [2, 1], 'from inclusive, to exclusive');
    const pages = await h.allPages('/v1/events?limit=4');
    t.same(pages.pages.map((p) => p.length), [4, 2]);
    isError(t, await h.get(`/v1/events?from=${at(3)}&to=${at(1)}`), 400, 'VALIDATION_FAILED', 'from after to');
    isError(t, await h.get('/v1/events?from=noon'), 400, 'VALIDATION_FAILED');
    isError(t, await h.get('/v1/events?cursor=xyz'), 400, 'INVALID_CURSOR');

    const one = await h.get(`/v1/events/${all.json.items[0].id}`);
    t.same(one.json, all.json.items[0]);
    isError(t, await h.get('/v1/events/evt_nope'), 404, 'EVENT_NOT_FOUND');
    const channel = await h.get('/v1/channels/news/events?type=channel.preview&limit=2');
    t.same(channel.json.items.map((e: { payload: { i: number } }) => e.payload.i), [4, 2]);
    t.type(channel.json.nextCursor, 'string');
    isError(t, await h.get('/v1/channels/nope/events'), 404, 'CHANNEL_NOT_FOUND');
    isError(t, await h.get('/v1/channels/news/events?channelId=other'), 400, 'VALIDATION_FAILED', 'the path names the channel');
  });

  t.test('alerts: active and cleared, filtered, paged, one alert; subscribable as webhook event types', async (t) => {
    const h = await Harness.open(t, target);
    const payload = (alertId: string, rule: string, channel: string | null) =>
      ({ alertId, rule, channel, value: 7, threshold: 5, unit: 's', message: `${rule} raised` });
    await recordEvent(h.db, { type: 'alert.raised', channelId: 'news', occurredAt: T0 + 1000, payload: payload('alr_a', 'publisherStalled', 'news') });
    await recordEvent(h.db, { type: 'alert.raised', channelId: null, occurredAt: T0 + 2000, payload: payload('alr_b', 'diskLow', null) });
    await recordEvent(h.db, { type: 'alert.cleared', channelId: 'news', occurredAt: T0 + 5000,
      payload: { ...payload('alr_a', 'publisherStalled', 'news'), value: 0.1, message: 'cleared: frames again', raisedAt: new Date(T0 + 1000).toISOString(), durationMs: 4000 } });

    const all = await h.get('/v1/alerts');
    t.equal(all.status, 200);
    t.same(all.json.items.map((a: { id: string }) => a.id), ['alr_b', 'alr_a'], 'newest raise first');
    t.same(all.json.items[1], {
      id: 'alr_a', rule: 'publisherStalled', channelId: 'news', state: 'cleared', raisedAt: new Date(T0 + 1000).toISOString(),
      clearedAt: new Date(T0 + 5000).toISOString(), value: 7, threshold: 5, unit: 's', message: 'publisherStalled raised',
      clearValue: 0.1, clearMessage: 'cleared: frames again',
    });
    t.same((await h.get('/v1/alerts?state=active')).json.items.map((a: { id: string }) => a.id), ['alr_b']);
    t.same((await h.get('/v1/alerts?state=cleared&channelId=news&rule=publisherStalled')).json.items.map((a: { id: string }) => a.id), ['alr_a']);
    t.same((await h.allPages('/v1/alerts?limit=1')).pages.map((p) => p.length), [1, 1]);
    t.same((await h.get('/v1/alerts/alr_b')).json.state, 'active');
    isError(t, await h.get('/v1/alerts/alr_nope'), 404, 'ALERT_NOT_FOUND');
    isError(t, await h.get('/v1/alerts?state=open'), 400, 'VALIDATION_FAILED');
    t.equal((await h.post('/v1/webhooks', { url: 'https://example.com/hooks', eventTypes: ['alert.raised', 'alert.cleared'] })).status, 201,
      'a webhook endpoint subscribes to the alert events');
  });
}
