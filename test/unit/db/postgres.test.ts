/**
 * The repository contract on a real PostgreSQL server that this test starts (Debian's
 * postgresql, a throwaway cluster; test/helpers/postgres.ts) and stops: a new database for
 * each subtest. Then what only a server can do: restart under an open pool.
 */
import t from 'tap';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { openDatabase } from '../../../src/db/index.js';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.js';
import { repositoryContract } from './repository-contract.js';

let server: PostgresServer;
t.before(async () => { server = await startPostgres(); });
t.teardown(() => server?.stop());
let n = 0;

repositoryContract(t, { kind: 'postgres', freshUrl: () => server.createDatabase(`contract_${++n}`) });

t.test('a server restart cuts every pooled connection: logged, and the next call reconnects', async (t) => {
  const lines: { msg: string }[] = [];
  const logger = pino({ level: 'warn' }, new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } }));
  const db = await openDatabase(await server.createDatabase('restart_under_pool'), { logger });
  t.teardown(() => db.close());
  await db.channels.create({ id: 'news', name: 'News' });
  // Several calls at once leave several idle connections in the pool.
  await Promise.all(Array.from({ length: 4 }, () => db.channels.get('news')));

  await server.restart();
  await new Promise((r) => setTimeout(r, 200));
  t.equal((await db.channels.get('news'))?.name, 'News', 'the first call after the restart succeeds on a new connection');
  t.ok(lines.some((l) => l.msg === 'idle database connection failed'), 'the cut idle connections were logged, not thrown');
  t.equal((await db.channels.update('news', { name: 'After' }))?.name, 'After', 'writes go on');
});
