/** The control plane end to end on a real PostgreSQL server that the test starts. */
import t from 'tap';
import { startPostgres } from '../helpers/postgres.js';
import { controlPlaneSuite } from './control-plane-suite.js';

const pg = await startPostgres();
t.teardown(() => pg.stop());
controlPlaneSuite(t, () => pg.createDatabase('sigma_e2e'));
