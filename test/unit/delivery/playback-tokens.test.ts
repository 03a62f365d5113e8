import t from 'tap';
import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { missingCommand, testNeeding } from '../../helpers/ci.js';
import { CLOCK_TOLERANCE_SEC, MAX_TOKEN_LENGTH, PlaybackTokens } from '../../../src/delivery/access/playback-tokens.js';

const KEY = Buffer.from('k'.repeat(32));
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const b64url = (v: object | Buffer) => (Buffer.isBuffer(v) ? v : Buffer.from(JSON.stringify(v))).toString('base64url');
/** A JWT made by hand, as any other library or a shell script would make it. */
function handMade(header: object, claims: object, key: Uint8Array = KEY): string {
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}
const claims = (o: object = {}) => ({ sub: 'demo', iat: T0 / 1000, exp: T0 / 1000 + 60, ...o });

t.test('sign ▶ verify: claims sub, iat, exp, jti (and prv for previews), HS256', async (t) => {
  const tokens = new PlaybackTokens(KEY);
  const { token, expiresAt } = await tokens.sign('demo', { expiresInSec: 600, now: T0 + 400 });
  t.equal(expiresAt, T0 + 600_000, 'whole seconds, as exp');
  t.same(decodeProtectedHeader(token), { alg: 'HS256', typ: 'JWT' });
  const { jti, ...rest } = decodeJwt(token);
  t.same(rest, { sub: 'demo', iat: T0 / 1000, exp: T0 / 1000 + 600 });
  t.match(jti, /^[A-Za-z0-9_-]{16}$/, 'a random jti: the viewer session of analytics');
  t.same(await tokens.verify(token, 'demo', T0 + 1000), { ok: true, preview: false, expiresAt, sessionId: jti });
  const preview = await tokens.sign('demo', { expiresInSec: 60, preview: true, now: T0 });
  t.equal(decodeJwt(preview.token).prv, true);
  t.not(decodeJwt(preview.token).jti, jti, 'one jti per token');
  t.same(await tokens.verify(preview.token, 'demo', T0), { ok: true, preview: true, expiresAt: T0 + 60_000, sessionId: decodeJwt(preview.token).jti });
  const foreign = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('demo').setExpirationTime(T0 / 1000 + 60).sign(KEY);
  t.same(await tokens.verify(foreign, 'demo', T0), { ok: true, preview: false, expiresAt: T0 + 60_000 }, 'a token minted elsewhere without jti: no session id');
  await t.rejects(tokens.sign('demo', { expiresInSec: 0 }));
  await t.rejects(tokens.sign('', { expiresInSec: 10 }));
  t.throws(() => new PlaybackTokens(Buffer.alloc(16)), 'a short key is refused');
});

t.test('expiry: the clock tolerance, and a cached token expires on time', async (t) => {
  const tokens = new PlaybackTokens(KEY);
  const { token } = await tokens.sign('demo', { expiresInSec: 60, now: T0 });
  const exp = T0 + 60_000;
  t.match(await tokens.verify(token, 'demo', exp - 1), { ok: true, preview: false, expiresAt: exp });
  t.equal(tokens.cacheSize, 1, 'verified once, then cached');
  t.same((await tokens.verify(token, 'demo', exp + (CLOCK_TOLERANCE_SEC - 1) * 1000)).ok, true, 'within the tolerance');
  t.same(await tokens.verify(token, 'demo', exp + CLOCK_TOLERANCE_SEC * 1000), { ok: false, code: 'TOKEN_EXPIRED' }, 'cached, then expired');
  t.equal(tokens.cacheSize, 0, 'an expired token leaves the cache');
  t.same(await tokens.verify(token, 'demo', exp + 3_600_000), { ok: false, code: 'TOKEN_EXPIRED' }, 'expired, never cached');
  t.equal(tokens.cacheSize, 0, 'an expired token is not cached');
  const later = handMade({ alg: 'HS256' }, claims({ nbf: T0 / 1000 + 30 }));
  t.same(await tokens.verify(later, 'demo', T0), { ok: false, code: 'TOKEN_INVALID' }, 'nbf honoured');
  t.same((await tokens.verify(later, 'demo', T0 + 30_000)).ok, true);
});

t.test('wrong channel: refused, cached or not', async (t) => {
  const tokens = new PlaybackTokens(KEY);
  const { token } = await tokens.sign('demo', { expiresInSec: 60, now: T0 });
  t.same(await tokens.verify(token, 'other', T0), { ok: false, code: 'TOKEN_WRONG_CHANNEL' }, 'first use');
  t.same((await tokens.verify(token, 'demo', T0)).ok, true);
  t.same(await tokens.verify(token, 'other', T0), { ok: false, code: 'TOKEN_WRONG_CHANNEL' }, 'from the cache');
  t.same(await tokens.verify(token, 'dem', T0), { ok: false, code: 'TOKEN_WRONG_CHANNEL' }, 'no prefix match');
});

t.test('tampered, alg none, other algorithms, wrong key, missing claims, garbage: TOKEN_INVALID', async (t) => {
  const tokens = new PlaybackTokens(KEY);
  const { token } = await tokens.sign('demo', { expiresInSec: 60, now: T0 });
  const [h, p, s] = token.split('.');
  const cases: [string, string][] = [
    ['another channel in the payload, the old signature', `${h}.${b64url(claims({ sub: 'other' }))}.${s}`],
    ['a longer lifetime in the payload', `${h}.${b64url(claims({ exp: T0 / 1000 + 86400 }))}.${s}`],
    ['preview added', `${h}.${b64url(claims({ prv: true }))}.${s}`],
    ['signature changed', `${h}.${p}.${s.slice(0, -4)}${s.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`],
    ['signature dropped', `${h}.${p}.`],
    ['alg none, unsigned', `${b64url({ alg: 'none', typ: 'JWT' })}.${p}.`],
    ['alg none, with a signature', `${b64url({ alg: 'none' })}.${p}.${s}`],
    ['HS512 with the right key', await new SignJWT(claims()).setProtectedHeader({ alg: 'HS512' }).sign(Buffer.from('k'.repeat(64)))],
    ['HS384 with the right key', handMade({ alg: 'HS384' }, claims())],
    ['RS256 header over an HMAC (alg confusion)', handMade({ alg: 'RS256' }, claims())],
    ['the wrong key', handMade({ alg: 'HS256' }, claims(), Buffer.from('x'.repeat(32)))],
    ['no exp', handMade({ alg: 'HS256' }, { sub: 'demo', iat: T0 / 1000 })],
    ['no sub', handMade({ alg: 'HS256' }, { exp: T0 / 1000 + 60 })],
    ['sub not a string', handMade({ alg: 'HS256' }, claims({ sub: 7 }))],
    ['exp not a number', handMade({ alg: 'HS256' }, claims({ exp: 'tomorrow' }))],
    ['empty', ''],
    ['not a JWT', 'hello'],
    ['three dots of nothing', 'a.b.c'],
    ['JSON garbage', `${Buffer.from('{').toString('base64url')}.${p}.${s}`],
    ['too long', `${h}.${p}.${s}${'A'.repeat(MAX_TOKEN_LENGTH)}`],
  ];
  for (const [what, bad] of cases) t.same(await tokens.verify(bad, 'demo', T0), { ok: false, code: 'TOKEN_INVALID' }, what);
  t.equal(tokens.cacheSize, 0, 'refused tokens are not cached');
  t.same((await tokens.verify(handMade({ alg: 'HS256', typ: 'JWT' }, claims({ prv: true })), 'demo', T0)),
    { ok: true, preview: true, expiresAt: T0 + 60_000 }, 'a token made by another JWT implementation plays');
});

t.test('the cache is bounded: the oldest verified token is forgotten first, and re-verified at its next use', async (t) => {
  const tokens = new PlaybackTokens(KEY, { cacheEntries: 3 });
  const list = await Promise.all([1, 2, 3, 4, 5].map((i) => tokens.sign('demo', { expiresInSec: 60 + i, now: T0 })));
  for (const { token } of list) t.equal((await tokens.verify(token, 'demo', T0)).ok, true);
  t.equal(tokens.cacheSize, 3);
  t.equal((await tokens.verify(list[0].token, 'demo', T0)).ok, true, 'an evicted token still plays');
  t.equal(tokens.cacheSize, 3);
});

testNeeding(t, 'scripts/playback-token.sh mints tokens the origin accepts', missingCommand('openssl', ['version']), async (t) => {
  const secret = 'a-platform-secret-of-at-least-32-chars';
  const tokens = new PlaybackTokens(Buffer.from(secret, 'utf8'));
  const mint = (...args: string[]) => execFileSync('bash', [join(process.cwd(), 'scripts', 'playback-token.sh'), ...args],
    { env: { ...process.env, SIGMA_PLAYBACK_SECRET: secret }, timeout: 10_000 }).toString().trim();
  const plain = mint('demo', '120');
  const r = await tokens.verify(plain, 'demo');
  t.equal(r.ok, true);
  t.equal(r.ok && r.preview, false);
  t.ok(r.ok && r.expiresAt > Date.now() + 100_000 && r.expiresAt <= Date.now() + 121_000);
  const preview = await tokens.verify(mint('demo', '120', 'preview'), 'demo');
  t.equal(preview.ok && preview.preview, true);
  t.same(await tokens.verify(plain, 'other'), { ok: false, code: 'TOKEN_WRONG_CHANNEL' });
  t.throws(() => mint('Bad Channel', '10'), 'a channel id outside [a-z0-9_-] is refused');
});

t.test('cost per check (printed): a known token is a synchronous Map lookup, a new one an HMAC verification', async (t) => {
  const tokens = new PlaybackTokens(KEY, { cacheEntries: 100_000 });
  const now = Date.now();
  const n = 20_000;
  // exp differs, so every token is a distinct string (the same claims signed twice are the same token).
  const fresh = await Promise.all(Array.from({ length: n }, (_, i) => tokens.sign(`ch${i % 10}`, { expiresInSec: 600 + i, now })));
  t.equal(tokens.known(fresh[0].token, 'ch0', now), undefined, 'not known before its first verification');
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await tokens.verify(fresh[i].token, `ch${i % 10}`, now);
  const newUs = Number(process.hrtime.bigint() - t0) / 1000 / n;
  let accepted = 0;
  t0 = process.hrtime.bigint();
  for (let round = 0; round < 10; round++) for (let i = 0; i < n; i++) if (tokens.known(fresh[i].token, `ch${i % 10}`, now)?.ok) accepted++;
  const knownUs = Number(process.hrtime.bigint() - t0) / 1000 / (10 * n);
  t.equal(accepted, 10 * n);
  t.comment(`playback token check: ${newUs.toFixed(2)} µs/op verifying a new token, ${knownUs.toFixed(3)} µs/op for a known one`);
  // Loose bounds (a shared CI machine, tap's async hooks): they fail only if the cache stopped working or verifying went pathological.
  t.ok(knownUs < 5, `known ${knownUs.toFixed(3)} µs/op`);
  t.ok(knownUs * 5 < newUs, 'the cache is several times cheaper than verifying');
  t.ok(newUs < 5000, `new ${newUs.toFixed(2)} µs/op`);
  t.equal(tokens.cacheSize, n, 'each verified once');
});
