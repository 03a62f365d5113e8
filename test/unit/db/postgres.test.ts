/**
 * The repository contract on a real PostgreSQL server that this test starts (Debian's
 * postgresql, a throwaway cluster; test/helpers/postgres.ts) and stops: a new database for
 * each subtest.
 */
import t from 'tap';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.js';
import { repositoryContract } from './repository-contract.js';

let server: PostgresServer;
t.before(async () => { server = await startPostgres(); });
t.teardown(() => server?.stop());
let n = 0;

repositoryContract(t, { kind: 'postgres', freshUrl: () => server.createDatabase(`contract_${++n}`) });
