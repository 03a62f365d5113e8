import BetterSqlite3 from 'better-sqlite3';
import { constraintError, type ConstraintKind } from '../errors.js';
import { SerialQueue } from './serial-queue.js';
import { SQLITE, type Param, type Row, type SqlDriver, type SqlExecutor } from './executor.js';

type Statement = BetterSqlite3.Statement<unknown[], Row>;

/** Statements are prepared once; the SQL texts are a fixed set (IN lists up to the claim limit). */
const MAX_CACHED_STATEMENTS = 500;

/**
 * SQLite through better-sqlite3: one connection, WAL (readers never wait for the writer),
 * foreign keys on, a 5 s busy timeout when another process holds the write lock. Calls are
 * synchronous underneath and each is one short statement; a SerialQueue keeps a transaction's
 * statements together while its callback awaits.
 */
export class SqliteDriver implements SqlDriver {
  readonly dialect = SQLITE;
  private readonly db: BetterSqlite3.Database;
  private readonly statements = new Map<string, { stmt: Statement; order: number[] }>();
  private readonly queue = new SerialQueue();
  private closed = false;

  /** `file` is a path, or `:memory:`. */
  constructor(file: string) {
    this.db = new BetterSqlite3(file, { timeout: 5000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
  }

  query<T extends Row = Row>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    return this.queue.run(() => this.queryNow<T>(sql, params));
  }

  run(sql: string, params: readonly Param[] = []): Promise<number> {
    return this.queue.run(() => this.runNow(sql, params));
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      // IMMEDIATE takes the write lock at once: a transaction that reads then writes never
      // fails half-way because another process wrote in between.
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.inTransaction);
        this.db.exec('COMMIT');
        return result;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    });
  }

  async lockForMigration(): Promise<void> {
    // BEGIN IMMEDIATE already excludes every other writer of the file.
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.drain();
    this.db.close();
  }

  /** The executor a transaction's callback gets: runs at once, the queue is already held. */
  private readonly inTransaction: SqlExecutor = {
    dialect: SQLITE,
    query: async <T extends Row>(sql: string, params: readonly Param[] = []) => this.queryNow<T>(sql, params),
    run: async (sql, params = []) => this.runNow(sql, params),
    transaction: (fn) => fn(this.inTransaction),
  };

  private queryNow<T>(sql: string, params: readonly Param[]): T[] {
    const { stmt, args } = this.prepare(sql, params);
    return translateErrors(() => (stmt.reader ? stmt.all(args) : (stmt.run(args), [])) as T[]);
  }

  private runNow(sql: string, params: readonly Param[]): number {
    const { stmt, args } = this.prepare(sql, params);
    return translateErrors(() => stmt.run(args).changes);
  }

  /** Rewrites `$n` placeholders to `?` (reordering the values) and caches the statement. */
  private prepare(sql: string, params: readonly Param[]): { stmt: Statement; args: unknown[] } {
    let entry = this.statements.get(sql);
    if (!entry) {
      const order: number[] = [];
      const text = sql.replace(/\$(\d+)/g, (_, n: string) => { order.push(Number(n) - 1); return '?'; });
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.clear();
      entry = { stmt: this.db.prepare<unknown[], Row>(text), order };
      this.statements.set(sql, entry);
    }
    return { stmt: entry.stmt, args: entry.order.map((i) => bindable(params[i])) };
  }
}

/** better-sqlite3 binds numbers, strings, bigints, buffers and null; booleans become 0/1. */
function bindable(v: Param): unknown {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

const SQLITE_CONSTRAINTS: Record<string, ConstraintKind> = {
  SQLITE_CONSTRAINT_UNIQUE: 'unique',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'unique',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'foreign-key',
  SQLITE_CONSTRAINT_NOTNULL: 'not-null',
  SQLITE_CONSTRAINT_CHECK: 'check',
};

function translateErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    // "UNIQUE constraint failed: channels.id" names the table; a foreign key failure does not.
    const table = /constraint failed: (\w+)\./.exec((e as Error).message ?? '')?.[1];
    throw constraintError(SQLITE_CONSTRAINTS[code], table, e) ?? e;
  }
}

const openFiles = new Map<string, { driver: SqliteDriver; handles: number }>();

/**
 * A handle on the one connection this process keeps per SQLite file. Two connections to one
 * file in one process would deadlock: a transaction awaiting between statements holds the
 * write lock while the other connection's BEGIN blocks the event loop in SQLite's busy wait.
 * Sharing the connection makes its SerialQueue order them instead. The file closes with its
 * last handle. `:memory:` is a new database each time.
 */
export function openSqlite(file: string): SqlDriver {
  if (file === ':memory:') return new SqliteDriver(file);
  let entry = openFiles.get(file);
  if (!entry) {
    entry = { driver: new SqliteDriver(file), handles: 0 };
    openFiles.set(file, entry);
  }
  entry.handles++;
  const { driver } = entry;
  let closed = false;
  return {
    dialect: SQLITE,
    query: (sql, params) => driver.query(sql, params),
    run: (sql, params) => driver.run(sql, params),
    transaction: (fn) => driver.transaction(fn),
    lockForMigration: () => driver.lockForMigration(),
    async close() {
      if (closed) return;
      closed = true;
      if (--entry.handles > 0) return;
      openFiles.delete(file);
      await driver.close();
    },
  };
}
