/** The API's pure parts: the failed-auth limiter, allow-list entries, times, error mapping, secrets. */
import t from 'tap';
import { FailedAuthLimiter, grants } from '../../../src/api/auth.js';
import { errorReply } from '../../../src/api/errors.js';
import { isIpOrCidr } from '../../../src/ingest/allow-list.js';
import { instant } from '../../../src/api/schemas.js';
import { hintOf, newSecret } from '../../../src/api/secrets.js';
import { ControlError } from '../../../src/control/channel-runtime.js';
import { InvalidCursorError, UniqueViolationError } from '../../../src/db/errors.js';
import { OriginError } from '../../../src/errors.js';

t.test('FailedAuthLimiter: a fixed window per address, a limit, bounded memory', async (t) => {
  let now = 0;
  const limiter = new FailedAuthLimiter(2, () => now);
  t.equal(limiter.retryAfterSec('a'), 0, 'an unknown address may try');
  limiter.fail('a');
  t.equal(limiter.retryAfterSec('a'), 0, 'under the limit');
  now = 1500;
  limiter.fail('a');
  t.equal(limiter.retryAfterSec('a'), 59, 'at the limit: the rest of the window, rounded up');
  t.equal(limiter.retryAfterSec('b'), 0, 'per address');
  now = 60_000;
  t.equal(limiter.retryAfterSec('a'), 0, 'a new window');
  t.equal(limiter.size, 0, 'the ended window was dropped');
  limiter.fail('a');
  t.equal(limiter.retryAfterSec('a'), 0, 'counting starts over');

  const big = new FailedAuthLimiter(1, () => now);
  for (let i = 0; i < 100_010; i++) big.fail(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
  t.ok(big.size <= 100_000, `at most 100 000 addresses tracked (${big.size})`);
  t.equal(big.retryAfterSec('10.1.134.153'), 60, 'the newest are kept');
});

t.test('scopes nest', async (t) => {
  t.ok(grants(['admin'], 'write'));
  t.ok(grants(['write'], 'read'));
  t.notOk(grants(['read'], 'write'));
  t.notOk(grants(['write', 'read'], 'admin'));
  t.notOk(grants([], 'read'));
});

t.test('allow-list entries: addresses and CIDR blocks, v4 and v6', async (t) => {
  for (const ok of ['192.0.2.1', '0.0.0.0/0', '10.0.0.0/8', '198.51.100.7/32', '::1', '2001:db8::/32', '::/0', 'fe80::1/128']) {
    t.ok(isIpOrCidr(ok), ok);
  }
  for (const bad of ['', 'localhost', '256.1.1.1', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8/8', '2001:db8::/129', '/24',
    '10.0.0.0/08x', '1.2.3']) {
    t.notOk(isIpOrCidr(bad), `not: "${bad}"`);
  }
});

t.test('instants: ISO 8601 or epoch ms', async (t) => {
  t.equal(instant.parse('1700000000000'), 1_700_000_000_000);
  t.equal(instant.parse('2026-11-25T12:00:00Z'), Date.UTC(2026, 10, 25, 12));
  t.equal(instant.parse('2026-11-25T13:00:00+01:00'), Date.UTC(2026, 10, 25, 12));
  t.equal(instant.parse('2026-11-25'), Date.UTC(2026, 10, 25));
  for (const bad of ['now', '', '12:00', 'Nov 25 2026', '2026-02-30T25:00Z', '1e12', '-5', '2026-11-25T12:00:00Zjunk']) {
    t.notOk(instant.safeParse(bad).success, `not: "${bad}"`);
  }
});

t.test('errors become JSON answers; unexpected ones say nothing', async (t) => {
  t.match(errorReply(new ControlError(409, 'NOT_PUBLISHING', 'nobody publishes')),
    { status: 409, body: { error: { code: 'NOT_PUBLISHING', message: 'nobody publishes' } }, internal: false });
  t.match(errorReply(new OriginError('CHANNEL_NOT_FOUND')), { status: 404, body: { error: { code: 'CHANNEL_NOT_FOUND' } } });
  t.match(errorReply(new InvalidCursorError()), { status: 400, body: { error: { code: 'INVALID_CURSOR' } } });
  t.match(errorReply(new UniqueViolationError('channels')), { status: 409, body: { error: { code: 'CONFLICT' } } });
  const internal = errorReply(new Error('password=hunter2'));
  t.same(internal, { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } }, headers: {}, internal: true });
  t.match(errorReply(Object.assign(new Error('bad length'), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_CONTENT_LENGTH' })),
    { status: 400, body: { error: { code: 'BAD_REQUEST', message: 'bad length' } } });
  t.match(errorReply(Object.assign(new Error('x'), { statusCode: 502 })), { status: 500, internal: true }, 'a 5xx from elsewhere is ours');
});

t.test('secrets: prefixed, 256 bits, URL-safe, never twice', async (t) => {
  const keys = Array.from({ length: 1000 }, () => newSecret('streamKey'));
  t.ok(keys.every((k) => /^sk_[A-Za-z0-9_-]{43}$/.test(k)), 'sk_ and 43 base64url characters');
  t.equal(new Set(keys).size, 1000, 'no repeats');
  t.match(newSecret('apiToken'), /^sgl_[A-Za-z0-9_-]{43}$/);
  t.match(newSecret('webhook'), /^whsec_[A-Za-z0-9_-]{43}$/);
  t.equal(hintOf('sk_abcdefgh'), 'efgh');
});
