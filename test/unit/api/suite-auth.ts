/** Authentication, scopes, the failed-auth limit, lastUsedAt, the first admin token, request logs. */
import type { Test } from 'tap';
import { pino } from 'pino';
import { ensureAdminToken } from '../../../src/api/index.js';
import { openDatabase } from '../../../src/db/index.js';
import { Harness, isError, testKeys, type ApiTarget } from './api-harness.js';

/** Polls until check() returns something truthy; fails after `ms`. */
async function eventually<T>(check: () => Promise<T>, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function authSuite(t: Test, target: ApiTarget): void {
  t.test('401: no token, a wrong one, a malformed header, a revoked token; WWW-Authenticate set', async (t) => {
    const h = await Harness.open(t, target);
    const none = await h.get('/v1/channels', { token: null });
    isError(t, none, 401, 'UNAUTHORIZED', 'no Authorization header');
    t.equal(none.headers['www-authenticate'], 'Bearer realm="sigma-live"');

    const wrong = await h.get('/v1/channels', { token: 'sgl_' + 'A'.repeat(43) });
    isError(t, wrong, 401, 'UNAUTHORIZED', 'an unknown token');
    t.equal(wrong.headers['www-authenticate'], 'Bearer realm="sigma-live", error="invalid_token"');

    isError(t, await h.get('/v1/channels', { token: null, headers: { authorization: `Basic ${h.adminToken}` } }), 401, 'UNAUTHORIZED',
      'another scheme');
    isError(t, await h.get('/v1/channels', { token: null, headers: { authorization: 'Bearer' } }), 401, 'UNAUTHORIZED', 'Bearer and nothing');

    const { secret, id } = await h.token(['read']);
    t.equal((await h.get('/v1/channels', { token: secret })).status, 200, 'a new token works');
    t.equal((await h.delete(`/v1/api-tokens/${id}`)).status, 204);
    isError(t, await h.get('/v1/channels', { token: secret }), 401, 'UNAUTHORIZED', 'a revoked token, from the next request on');
    t.equal((await h.get('/v1/openapi.json', { token: null })).status, 200, 'the OpenAPI document needs no token');
  });

  t.test('GET /v1/token: the token of the request, its name and scopes (what the console offers)', async (t) => {
    const h = await Harness.open(t, target);
    const { secret, id } = await h.token(['read'], 'dashboard');
    const me = await h.get('/v1/token', { token: secret });
    t.equal(me.status, 200);
    t.match(me.json, { id, name: 'dashboard', scopes: ['read'], source: 'api', revokedAt: null });
    t.notOk('secret' in me.json, 'never the secret');
    isError(t, await h.get('/v1/token', { token: null }), 401, 'UNAUTHORIZED', 'no token: 401, like every route');
  });

  t.test('403: scopes nest read < write < admin', async (t) => {
    const h = await Harness.open(t, target);
    const read = (await h.token(['read'])).secret;
    const write = (await h.token(['write'])).secret;
    t.equal((await h.get('/v1/channels', { token: read })).status, 200, 'read: GET');
    const refused = await h.post('/v1/channels', { name: 'x' }, { token: read });
    isError(t, refused, 403, 'FORBIDDEN', 'read: no channel changes');
    t.equal(refused.headers['www-authenticate'], 'Bearer realm="sigma-live", error="insufficient_scope", scope="write"');
    t.equal((await h.post('/v1/channels', { name: 'x' }, { token: write })).status, 201, 'write: channel changes');
    t.equal((await h.get('/v1/channels', { token: write })).status, 200, 'write implies read');
    isError(t, await h.get('/v1/api-tokens', { token: write }), 403, 'FORBIDDEN', 'write: no API tokens');
    isError(t, await h.post('/v1/webhooks', { url: 'http://127.0.0.1/x', eventTypes: ['*'] }, { token: write }), 403, 'FORBIDDEN',
      'write: no webhooks');
    t.equal((await h.get('/v1/webhooks')).status, 200, 'admin: everything');
  });

  t.test('failed authentications are limited per address: 429 with Retry-After, for any token, until the minute ends', async (t) => {
    const h = await Harness.open(t, target, { maxFailedAuthPerMinute: 3 });
    const attacker = '203.0.113.9';
    for (let i = 0; i < 3; i++) {
      isError(t, await h.get('/v1/channels', { token: `sgl_guess${i}`, remoteAddress: attacker }), 401, 'UNAUTHORIZED', `guess ${i + 1}`);
    }
    h.now += 20_000;
    const limited = await h.get('/v1/channels', { token: 'sgl_guess4', remoteAddress: attacker });
    isError(t, limited, 429, 'TOO_MANY_FAILED_AUTH', 'the fourth try within the minute');
    t.equal(limited.headers['retry-after'], '40', 'Retry-After: the seconds left in the window');
    isError(t, await h.get('/v1/channels', { remoteAddress: attacker }), 429, 'TOO_MANY_FAILED_AUTH',
      'even the right token: a guesser learns nothing while limited');
    t.equal((await h.get('/v1/channels', { remoteAddress: '198.51.100.1' })).status, 200, 'other addresses are not affected');
    t.equal((await h.get('/v1/openapi.json', { token: null, remoteAddress: attacker })).status, 200, 'public routes are not limited');
    h.now += 40_000;
    t.equal((await h.get('/v1/channels', { remoteAddress: attacker })).status, 200, 'a new minute: the address may try again');
    isError(t, await h.get('/v1/channels', { token: null, remoteAddress: '198.51.100.2' }), 401, 'UNAUTHORIZED');
    isError(t, await h.get('/v1/channels', { token: null, remoteAddress: '198.51.100.2' }), 401, 'UNAUTHORIZED');
    isError(t, await h.get('/v1/channels', { token: null, remoteAddress: '198.51.100.2' }), 401, 'UNAUTHORIZED',
      'a missing header is not counted as a guess');
  });

  t.test('lastUsedAt is recorded, at most once a minute per token', async (t) => {
    const h = await Harness.open(t, target);
    const { secret, id } = await h.token(['read']);
    const lastUsed = async () => (await h.db.apiTokens.get(id))?.lastUsedAt ?? null;
    t.equal(await lastUsed(), null, 'never used');
    await h.get('/v1/channels', { token: secret });
    t.equal(await eventually(lastUsed), h.now, 'the first use is recorded');
    const first = h.now;
    h.now += 30_000;
    for (let i = 0; i < 5; i++) await h.get('/v1/channels', { token: secret });
    await new Promise((r) => setTimeout(r, 50));
    t.equal(await lastUsed(), first, 'uses within the minute write nothing');
    h.now += 31_000;
    await h.get('/v1/channels', { token: secret });
    t.equal(await eventually(async () => ((await lastUsed()) === h.now ? h.now : null)), h.now, 'a use a minute later is recorded');
  });

  t.test('ensureAdminToken: a first token printed once; a configured token stored once, replaced when the config changes', async (t) => {
    const logger = pino({ level: 'silent' });
    const keys = testKeys();
    const db = await openDatabase(await target.freshUrl());
    t.teardown(() => db.close());
    const printed: string[] = [];
    const print = (line: string) => printed.push(line);
    const first = await ensureAdminToken({ db, keys, logger, print });
    t.equal(first.created, true);
    const secret = printed.map((l) => l.trim()).find((l) => /^sgl_[A-Za-z0-9_-]{43}$/.test(l));
    t.ok(secret, 'the token is printed');
    t.match(printed.join('\n'), /shown ONCE and never again/, 'with a clear warning');
    t.same((await db.apiTokens.findActiveByHash(keys.apiTokens.digest(secret!)))?.scopes, ['admin'], 'stored as its digest, admin scope');
    const n = printed.length;
    t.same(await ensureAdminToken({ db, keys, logger, print }), { tokenId: null, created: false }, 'a second start makes none');
    t.equal(printed.length, n, 'and prints nothing');

    const configured = 'c'.repeat(40);
    const c1 = await ensureAdminToken({ db, keys, configured, logger, print });
    t.equal(c1.created, true, 'the configured token gets its row');
    t.same(await ensureAdminToken({ db, keys, configured, logger, print }), { tokenId: c1.tokenId, created: false }, 'idempotent');
    t.equal(printed.length, n, 'a configured token is never printed');
    const row = await db.apiTokens.findActiveByHash(keys.apiTokens.digest(configured));
    t.same(row?.scopes, ['admin']);

    const c2 = await ensureAdminToken({ db, keys, configured: 'd'.repeat(40), logger, print });
    t.not(c2.tokenId, c1.tokenId, 'a new configured token, a new row');
    t.equal(await db.apiTokens.findActiveByHash(keys.apiTokens.digest(configured)), undefined, 'the old configured token stops working');
    t.same(await ensureAdminToken({ db, keys, configured, logger, print }), { tokenId: null, created: false },
      'going back to a retired token does not bring it back');
    t.ok(await db.apiTokens.findActiveByHash(keys.apiTokens.digest(secret!)), 'the printed token is untouched by all this');
  });

  t.test('one log line per request, with no secret in any line', async (t) => {
    const h = await Harness.open(t, target);
    const created = await h.channel({ id: 'news', name: 'News' });
    const { secret } = await h.token(['read']);
    await h.get('/v1/channels/news', { token: secret });
    await h.get('/v1/channels', { token: 'sgl_wrong-token-value' });
    const requests = h.logs.filter((l) => l.msg === 'api request');
    t.equal(requests.length, 4, 'four requests, four lines');
    t.match(requests[0], { method: 'POST', url: '/v1/channels', status: 201, component: 'api' });
    t.match(requests[3], { method: 'GET', status: 401 });
    const text = JSON.stringify(h.logs);
    for (const s of [h.adminToken, secret, created.streamKey.secret, 'sgl_wrong-token-value']) {
      t.notOk(text.includes(s), 'no token nor stream key in the logs');
    }
  });
}
