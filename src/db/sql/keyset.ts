import { decodeCursor, pageLimit, toPage } from '../pagination.js';
import type { Page, PageRequest } from '../types.js';
import type { Param, Row, SqlExecutor } from './executor.js';

export interface KeysetQuery<T> {
  /** Table (or table with alias). */
  from: string;
  /** Conditions, ANDed, with placeholders numbered into params. */
  where?: string[];
  params?: Param[];
  /** The sort key: columns and their types ('s' text, 'n' integer); unique together. */
  keys: [column: string, type: 's' | 'n'][];
  descending?: boolean;
  page: PageRequest;
  map: (row: Row) => T;
  keyOf: (item: T) => (string | number)[];
}

/**
 * One page of rows ordered by a unique key, starting after the cursor's key: a row-value
 * comparison `(a, b) > ($1, $2)` that SQLite and PostgreSQL both evaluate on the index.
 */
export async function keysetPage<T>(sql: SqlExecutor, q: KeysetQuery<T>): Promise<Page<T>> {
  const limit = pageLimit(q.page);
  const params = [...(q.params ?? [])];
  const where = [...(q.where ?? [])];
  const columns = q.keys.map(([c]) => c);
  if (q.page.cursor) {
    const key = decodeCursor(q.page.cursor, q.keys.map(([, type]) => type));
    const placeholders = key.map((v) => { params.push(v); return `$${params.length}`; });
    where.push(`(${columns.join(', ')}) ${q.descending ? '<' : '>'} (${placeholders.join(', ')})`);
  }
  params.push(limit + 1);
  const order = columns.map((c) => (q.descending ? `${c} DESC` : c)).join(', ');
  const rows = await sql.query(
    `SELECT * FROM ${q.from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT $${params.length}`, params);
  return toPage(rows.map(q.map), limit, q.keyOf);
}
