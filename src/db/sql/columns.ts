import type { Param } from './executor.js';

/** How one field of a record is stored: its column and, when not as is, how to bind it. */
export interface Column<V> {
  name: string;
  bind?: (v: V) => Param;
}
export type Columns<T> = { [K in keyof T]-?: Column<T[K]> };

function bound<T, K extends keyof T>(columns: Columns<T>, key: K, value: T[K]): Param {
  const c = columns[key];
  return c.bind ? c.bind(value) : (value as Param);
}

/** `INSERT INTO table (…) VALUES ($1, …) RETURNING *` for every field of record. */
export function insertStatement<T extends object>(table: string, columns: Columns<T>, record: T): { sql: string; params: Param[] } {
  const keys = Object.keys(columns) as (keyof T)[];
  const params = keys.map((k) => bound(columns, k, record[k]));
  return {
    sql: `INSERT INTO ${table} (${keys.map((k) => columns[k].name).join(', ')}) VALUES (${keys.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
    params,
  };
}

/**
 * `col = $n` for each field present in patch, numbered after the params given; fields not in
 * columns or listed as immutable (ids, creation times) are ignored whatever the caller passed.
 */
export function assignments<T extends object>(columns: Columns<T>, patch: Partial<T>, params: Param[], immutable: (keyof T)[] = []): string[] {
  const set: string[] = [];
  for (const k of Object.keys(patch) as (keyof T)[]) {
    if (!(k in columns) || immutable.includes(k) || patch[k] === undefined) continue;
    params.push(bound(columns, k, patch[k] as T[keyof T]));
    set.push(`${columns[k].name} = $${params.length}`);
  }
  return set;
}

/** `IN ($n, $n+1, …)` for values, appended to params. */
export function inList(values: readonly Param[], params: Param[]): string {
  return `(${values.map((v) => { params.push(v); return `$${params.length}`; }).join(', ')})`;
}
