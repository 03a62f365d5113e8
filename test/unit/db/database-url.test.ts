/** The small pure parts of src/db: connection URLs, the keyed hash, page cursors. */
import t from 'tap';
import { resolve } from 'node:path';
import { configSchema } from '../../../src/config/schema.js';
import { databaseUrlOf, defaultDatabaseUrl, InvalidCursorError, KeyedHash, parseDatabaseUrl } from '../../../src/db/index.js';
import { decodeCursor, encodeCursor, pageLimit } from '../../../src/db/pagination.js';

t.test('connection URLs', async (t) => {
  const cases: [string, ReturnType<typeof parseDatabaseUrl>][] = [
    ['sqlite:./data/sigma.db', { kind: 'sqlite', file: resolve('data/sigma.db') }],
    ['sqlite:/var/lib/sigma/sigma.db', { kind: 'sqlite', file: '/var/lib/sigma/sigma.db' }],
    ['sqlite:///var/lib/sigma/sigma.db', { kind: 'sqlite', file: '/var/lib/sigma/sigma.db' }],
    ['sqlite::memory:', { kind: 'sqlite', file: ':memory:' }],
    ['postgres://sigma:pw@db.internal:5433/sigma', { kind: 'postgres', connectionString: 'postgres://sigma:pw@db.internal:5433/sigma' }],
    ['postgresql:///sigma?host=/run/postgresql', { kind: 'postgres', connectionString: 'postgresql:///sigma?host=/run/postgresql' }],
  ];
  for (const [url, target] of cases) t.same(parseDatabaseUrl(url), target, url);
  t.throws(() => parseDatabaseUrl('sqlite:'), /needs a file path/);
  t.throws(() => parseDatabaseUrl('mysql://x'), /expected sqlite:PATH or postgres/);
  t.equal(defaultDatabaseUrl('/srv/sigma'), 'sqlite:/srv/sigma/sigma.db');
});

t.test('config: database.url is optional and checked', async (t) => {
  t.same(configSchema.parse({}).database, {});
  t.equal(databaseUrlOf(configSchema.parse({ dataDir: '/srv/sigma' })), 'sqlite:/srv/sigma/sigma.db', 'absent: the SQLite file in dataDir');
  t.equal(databaseUrlOf(configSchema.parse({ database: { url: 'sqlite::memory:' } })), 'sqlite::memory:');
  t.equal(configSchema.parse({ database: { url: 'postgres://h/db' } }).database.url, 'postgres://h/db');
  const bad = configSchema.safeParse({ database: { url: 'mysql://h/db' } });
  t.equal(bad.success, false);
  t.match(bad.error?.issues[0], { path: ['database', 'url'], message: /sqlite:PATH or postgres/ });
});

t.test('keyed hash: deterministic per server key and purpose, compared in constant time', async (t) => {
  const a = new KeyedHash('server-key-0123456789', 'stream-key');
  t.equal(a.digest('demo-key'), a.digest('demo-key'));
  t.match(a.digest('demo-key'), /^[0-9a-f]{64}$/);
  t.not(a.digest('demo-key'), new KeyedHash('server-key-0123456789', 'api-token').digest('demo-key'), 'purpose separates');
  t.not(a.digest('demo-key'), new KeyedHash('another-server-key-99', 'stream-key').digest('demo-key'), 'server key separates');
  t.ok(a.matches('demo-key', a.digest('demo-key')));
  t.notOk(a.matches('demo-kex', a.digest('demo-key')));
  t.notOk(a.matches('demo-key', 'abcd'), 'a malformed digest is a mismatch, not an error');
  t.throws(() => new KeyedHash('short', 'x'), /at least 16 bytes/);
});

t.test('page cursors and limits', async (t) => {
  t.same(decodeCursor(encodeCursor([1795642286715, 'evt_1']), ['n', 's']), [1795642286715, 'evt_1']);
  for (const bad of ['', '!!!', encodeCursor(['x']), encodeCursor([1.5, 'a']), encodeCursor(['a', 'b'])]) {
    t.throws(() => decodeCursor(bad, ['n', 's']), InvalidCursorError, JSON.stringify(bad));
  }
  t.same([pageLimit({}), pageLimit({ limit: 0 }), pageLimit({ limit: 7.9 }), pageLimit({ limit: 10_000 }), pageLimit({ limit: NaN })],
    [50, 1, 7, 500, 50]);
});
