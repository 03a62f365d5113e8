import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { parseDatabaseUrl } from './database-url.js';
import { migrate } from './migrations/migrator.js';
import type { Database, Repositories } from './repository.js';
import type { Clock } from './repositories/clock.js';
import { SqlApiTokenRepository } from './repositories/api-token-repository.js';
import { SqlChannelRepository } from './repositories/channel-repository.js';
import { SqlDeliveryLog } from './repositories/delivery-log.js';
import { SqlEventRepository } from './repositories/event-repository.js';
import { SqlStreamKeyRepository } from './repositories/stream-key-repository.js';
import { SqlWebhookEndpointRepository } from './repositories/webhook-endpoint-repository.js';
import { SqlWebhookOutbox } from './repositories/webhook-outbox.js';
import type { SqlDriver, SqlExecutor } from './sql/executor.js';
import { PostgresDriver } from './sql/postgres-driver.js';
import { SqliteDriver } from './sql/sqlite-driver.js';

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
    streamKeys: new SqlStreamKeyRepository(sql, clock),
    apiTokens: new SqlApiTokenRepository(sql, clock),
    events: new SqlEventRepository(sql, clock),
    webhooks: new SqlWebhookEndpointRepository(sql, clock),
    outbox: new SqlWebhookOutbox(sql, clock),
    deliveryLog: new SqlDeliveryLog(sql),
  };
}

/**
 * Opens the database a connection URL names (see parseDatabaseUrl), creating the SQLite
 * file's folder when needed, and brings its schema up to date.
 */
export async function openDatabase(url: string, opts: OpenDatabaseOptions = {}): Promise<Database> {
  const target = parseDatabaseUrl(url);
  const clock = opts.clock ?? Date.now;
  let driver: SqlDriver;
  if (target.kind === 'sqlite') {
    if (target.file !== ':memory:') await mkdir(dirname(target.file), { recursive: true });
    driver = new SqliteDriver(target.file);
  } else {
    driver = new PostgresDriver({ connectionString: target.connectionString, max: opts.poolSize, logger: opts.logger });
  }
  const db: Database = {
    kind: target.kind,
    ...repositoriesOn(driver, clock),
    transaction: (fn) => driver.transaction((tx) => fn(repositoriesOn(tx, clock))),
    migrate: () => migrate(driver, undefined, clock),
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
