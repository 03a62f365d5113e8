/**
 * Reading column values the two databases return differently: SQLite has no boolean (0/1) and
 * keeps JSON as text; PostgreSQL returns booleans and parsed JSONB. BIGINT arrives as a number
 * from both (the PostgreSQL driver installs a parser; epoch milliseconds fit in 2^53).
 */

export function bool(v: unknown): boolean {
  return v === true || v === 1 || v === '1' || v === 't';
}

export function json<T>(v: unknown): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}

export function jsonOrNull<T>(v: unknown): T | null {
  return v === null || v === undefined ? null : json<T>(v);
}

export function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

export function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

export function strOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

/** A JSON parameter: text on both databases (PostgreSQL casts it to JSONB on insert). */
export function toJson(v: unknown): string {
  return JSON.stringify(v);
}
