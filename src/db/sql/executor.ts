/**
 * The seam between the repositories (one SQL text for both databases) and a driver. SQL is
 * written with PostgreSQL's `$1, $2, …` placeholders; the SQLite driver rewrites them. Rows come
 * back as plain objects keyed by column name; the repositories convert the few types the two
 * databases return differently (booleans, JSON) through src/db/sql/values.ts.
 */
export type Row = Record<string, unknown>;
export type Param = string | number | boolean | null | undefined;

export interface SqlExecutor {
  readonly dialect: Dialect;
  /** Runs one statement; returns its rows (SELECT, or … RETURNING), [] otherwise. */
  query<T extends Row = Row>(sql: string, params?: readonly Param[]): Promise<T[]>;
  /** Runs one statement; returns how many rows it changed. */
  run(sql: string, params?: readonly Param[]): Promise<number>;
  /**
   * Runs fn in one transaction: committed when fn resolves, rolled back when it throws. Inside,
   * use only the executor fn receives. A transaction inside a transaction joins the outer one.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
}

/** A driver: the executor plus the life cycle the database object needs. */
export interface SqlDriver extends SqlExecutor {
  /** Serializes migrations across processes, inside a transaction. */
  lockForMigration(tx: SqlExecutor): Promise<void>;
  close(): Promise<void>;
}

/** The words the two databases spell differently; migrations and a few statements use them. */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** Column types. */
  readonly bigint: string;
  readonly bool: string;
  readonly json: string;
  readonly double: string;
  /** An integer primary key the database assigns. */
  readonly serialKey: string;
  /** Appended to the SELECT of a claim: rows another transaction holds are skipped. */
  readonly skipLocked: string;
}

export const SQLITE: Dialect = {
  name: 'sqlite', bigint: 'INTEGER', bool: 'INTEGER', json: 'TEXT', double: 'REAL',
  serialKey: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  // One writer at a time: the claim runs in a BEGIN IMMEDIATE transaction, so nothing to skip.
  skipLocked: '',
};

export const POSTGRES: Dialect = {
  name: 'postgres', bigint: 'BIGINT', bool: 'BOOLEAN', json: 'JSONB', double: 'DOUBLE PRECISION',
  serialKey: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
  skipLocked: ' FOR UPDATE SKIP LOCKED',
};
