import pg from 'pg';
import type { Logger } from 'pino';
import { constraintError, type ConstraintKind } from '../errors.js';
import { POSTGRES, type Param, type Row, type SqlDriver, type SqlExecutor } from './executor.js';

const INT8_OID = 20;
/** Any constant: the key of the advisory lock that serializes migrations across origins. */
const MIGRATION_LOCK_KEY = 5_105_173;

/** BIGINT columns hold epoch milliseconds and counters, all below 2^53: read them as numbers. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export interface PostgresDriverOptions {
  connectionString: string;
  /** Connections in the pool (default 10). */
  max?: number;
  logger?: Logger;
}

/** How long opening a connection may take before the query fails. */
const CONNECT_TIMEOUT_MS = 5000;

/**
 * PostgreSQL through a pg Pool. A statement borrows any connection; a transaction holds one
 * from BEGIN to COMMIT. Several origins may share the database: claims use FOR UPDATE SKIP
 * LOCKED and migrations an advisory lock.
 */
export class PostgresDriver implements SqlDriver {
  readonly dialect = POSTGRES;
  private readonly pool: pg.Pool;
  private closing: Promise<void> | undefined;

  constructor(opts: PostgresDriverOptions) {
    // A server that stops answering (not refusing) would otherwise hold each new connection
    // attempt for the OS's TCP timeout, minutes: readiness probes and API calls would pile up.
    this.pool = new pg.Pool({ connectionString: opts.connectionString, max: opts.max ?? 10, types, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    // An idle connection the server dropped (restart, failover) must not crash the process;
    // the pool replaces it on the next query.
    this.pool.on('error', (err) => opts.logger?.warn({ err }, 'idle database connection failed'));
  }

  query<T extends Row = Row>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    return queryOn<T>(this.pool, sql, params);
  }

  async run(sql: string, params: readonly Param[] = []): Promise<number> {
    return runOn(this.pool, sql, params);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(clientExecutor(client));
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => { broken = true; });
      throw e;
    } finally {
      client.release(broken);
    }
  }

  async lockForMigration(tx: SqlExecutor): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
  }

  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }
}

type Queryable = pg.Pool | pg.PoolClient;

async function queryOn<T>(on: Queryable, sql: string, params: readonly Param[]): Promise<T[]> {
  return (await translateErrors(() => on.query(sql, params as unknown[]))).rows as T[];
}

async function runOn(on: Queryable, sql: string, params: readonly Param[]): Promise<number> {
  return (await translateErrors(() => on.query(sql, params as unknown[]))).rowCount ?? 0;
}

/** The executor of one transaction: every statement on its connection; nesting joins it. */
function clientExecutor(client: pg.PoolClient): SqlExecutor {
  const tx: SqlExecutor = {
    dialect: POSTGRES,
    query: (sql, params = []) => queryOn(client, sql, params),
    run: (sql, params = []) => runOn(client, sql, params),
    transaction: (fn) => fn(tx),
  };
  return tx;
}

/** SQLSTATE class 23, integrity constraint violation. */
const PG_CONSTRAINTS: Record<string, ConstraintKind> = {
  23505: 'unique',
  23503: 'foreign-key',
  23502: 'not-null',
  23514: 'check',
};

async function translateErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const { code = '', table } = e as { code?: string; table?: string };
    throw constraintError(PG_CONSTRAINTS[code], table, e) ?? e;
  }
}
