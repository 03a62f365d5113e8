import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { parseDatabaseUrl } from './database-url.js';
import { migrate } from './migrations/migrator.js';
import type { Database, Repositories } from './repository.js';
import type { Clock } from './repositories/clock.js';
import { SqlAlertRepository } from './repositories/alert-repository.js';
import { SqlAnalyticsRepository } from './repositories/analytics-repository.js';
import { SqlApiTokenRepository } from './repositories/api-token-repository.js';
import { SqlChannelRepository } from './repositories/channel-repository.js';
import { SqlPlacementRepository } from './repositories/placement-repository.js';
import { SqlRestreamTargetRepository } from './repositories/restream-target-repository.js';
import { SqlDeliveryLog } from './repositories/delivery-log.js';
import { SqlEventRepository } from './repositories/event-repository.js';
import { SqlStreamKeyRepository } from './repositories/stream-key-repository.js';
import { SqlWebhookEndpointRepository } from './repositories/webhook-endpoint-repository.js';
import { SqlWebhookOutbox } from './repositories/webhook-outbox.js';
import type { SqlDriver, SqlExecutor } from './sql/executor.js';
import { PostgresDriver } from './sql/postgres-driver.js';
import { openSqlite } from './sql/sqlite-driver.js';

export interface OpenDatabaseOptions {
  /** Default Date.now; tests inject one to drive leases and retries. */
  clock?: Clock;
  logger?: Logger;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
}

/** The repositories over one executor: the database's own, or a transaction's. */
function repositoriesOn(sql: SqlExecutor, clock: Clock): Repositories {
  return {
    channels: new SqlChannelRepository(sql, clock),
    placements: new SqlPlacementRepository(sql),
    restreamTargets: new SqlRestreamTargetRepository(sql, clock),
    streamKeys: new SqlStreamKeyRepository(sql, clock),
    apiTokens: new SqlApiTokenRepository(sql, clock),
    events: new SqlEventRepository(sql, clock),
    alerts: new SqlAlertRepository(sql),
    webhooks: new SqlWebhookEndpointRepository(sql, clock),
    outbox: new SqlWebhookOutbox(sql, clock),
    deliveryLog: new SqlDeliveryLog(sql),
    analytics: new SqlAnalyticsRepository(sql),
  };
}

/** The driver for a connection URL; the SQLite file's folder is created when missing. */
export async function createDriver(url: string, opts: Pick<OpenDatabaseOptions, 'poolSize' | 'logger'> = {}): Promise<SqlDriver> {
  const target = parseDatabaseUrl(url);
  if (target.kind === 'postgres') {
    return new PostgresDriver({ connectionString: target.connectionString, max: opts.poolSize, logger: opts.logger });
  }
  if (target.file !== ':memory:') await mkdir(dirname(target.file), { recursive: true });
  return openSqlite(target.file);
}

/**
 * Opens the database a connection URL names (see parseDatabaseUrl), creating the SQLite
 * file's folder when needed, and brings its schema up to date.
 */
export async function openDatabase(url: string, opts: OpenDatabaseOptions = {}): Promise<Database> {
  const clock = opts.clock ?? Date.now;
  const driver = await createDriver(url, opts);
  const db: Database = {
    kind: driver.dialect.name,
    ...repositoriesOn(driver, clock),
    transaction: (fn) => driver.transaction((tx) => fn(repositoriesOn(tx, clock))),
    migrate: () => migrate(driver, undefined, clock),
    ping: async () => { await driver.query('SELECT 1'); },
    close: () => driver.close(),
  };
  if (opts.migrate !== false) {
    try {
      const report = await db.migrate();
      if (report.applied.length > 0) opts.logger?.info({ applied: report.applied, version: report.version }, 'database migrated');
    } catch (e) {
      await driver.close();
      throw e;
    }
  }
  return db;
}
