/** The API suite on SQLite: a new database file in a temp dir for each subtest. */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiSuite } from './api-suite.js';

const dir = mkdtempSync(join(tmpdir(), 'sigma-api-sqlite-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

apiSuite(t, { kind: 'sqlite', freshUrl: async () => `sqlite:${join(dir, `db-${++n}`, 'sigma.db')}` });
