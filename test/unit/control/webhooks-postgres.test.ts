/** The webhook suite on a real PostgreSQL server this test starts and stops: a new database for each subtest. */
import t from 'tap';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.js';
import { webhookSuite } from './webhooks-suite.js';

let server: PostgresServer;
t.before(async () => { server = await startPostgres(); });
t.teardown(() => server?.stop());
let n = 0;

webhookSuite(t, { kind: 'postgres', freshUrl: () => server.createDatabase(`webhooks_${++n}`) });
