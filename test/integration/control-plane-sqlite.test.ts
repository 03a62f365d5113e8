/** The control plane end to end on the embedded SQLite database (its default place in dataDir). */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlPlaneSuite } from './control-plane-suite.js';

const dir = mkdtempSync(join(tmpdir(), 'sigma-e2e-db-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
controlPlaneSuite(t, async () => `sqlite:${join(dir, 'sigma.db')}`);
