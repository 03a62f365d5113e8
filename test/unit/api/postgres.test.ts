/**
 * The API suite on a real PostgreSQL server that this test starts (Debian's postgresql, a
 * throwaway cluster; test/helpers/postgres.ts) and stops: a new database for each subtest.
 */
import t from 'tap';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.js';
import { apiSuite } from './api-suite.js';

let server: PostgresServer;
t.before(async () => { server = await startPostgres(); });
t.teardown(() => server?.stop());
let n = 0;

apiSuite(t, { kind: 'postgres', freshUrl: () => server.createDatabase(`api_${++n}`) });
