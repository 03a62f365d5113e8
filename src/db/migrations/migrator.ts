import { SchemaTooNewError } from '../errors.js';
import type { SqlDriver } from '../sql/executor.js';
import { MIGRATIONS, type Migration } from './index.js';

export interface MigrationReport {
  /** Versions applied by this call, in order (empty when the schema was current). */
  applied: number[];
  /** The schema version after this call. */
  version: number;
}

/**
 * Brings the schema to the newest version: each pending migration runs in its own transaction
 * together with its row in schema_migrations, so a failure leaves the previous version whole.
 * Safe to call from several processes at once (the driver's migration lock), and a no-op when
 * the schema is current.
 */
export async function migrate(driver: SqlDriver, migrations: readonly Migration[] = MIGRATIONS, now = Date.now): Promise<MigrationReport> {
  const d = driver.dialect;
  const known = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    const ran = await driver.transaction(async (tx) => {
      await driver.lockForMigration(tx);
      await tx.run(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ${d.bigint} NOT NULL)`);
      const current = await currentVersion(tx);
      if (current > known) throw new SchemaTooNewError(current, known);
      if (current >= m.version) return false;
      for (const sql of m.statements(d)) await tx.run(sql);
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, now()]);
      return true;
    });
    if (ran) applied.push(m.version);
  }
  return { applied, version: await currentVersion(driver) };
}

async function currentVersion(on: Pick<SqlDriver, 'query'>): Promise<number> {
  const [row] = await on.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
  return Number(row?.v ?? 0);
}
