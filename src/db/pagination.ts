import { InvalidCursorError } from './errors.js';
import type { Page, PageRequest } from './types.js';

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 500;

type Key = string | number;

/**
 * Keyset pagination: a cursor is the sort key of the last row of a page (opaque base64url
 * JSON), and the next page starts after it with a row-value comparison, so pages stay stable
 * while rows are added and cost the same however deep one reads.
 */
export function pageLimit(req: PageRequest): number {
  return clampLimit(req.limit, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT);
}

/** A row limit: whole, 1…max, `fallback` when absent or not a number. */
export function clampLimit(limit: number | undefined, fallback: number, max: number): number {
  const n = limit === undefined || !Number.isFinite(limit) ? fallback : Math.floor(limit);
  return Math.min(max, Math.max(1, n));
}

export function encodeCursor(key: Key[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The sort key in a cursor; `shape` gives the type of each element ('s' string, 'n' number). */
export function decodeCursor(cursor: string, shape: ('s' | 'n')[]): Key[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  const ok = Array.isArray(key) && key.length === shape.length &&
    key.every((v, i) => (shape[i] === 's' ? typeof v === 'string' : Number.isSafeInteger(v)));
  if (!ok) throw new InvalidCursorError();
  return key as Key[];
}

/** Rows were fetched with limit + 1: the extra row only says whether a next page exists. */
export function toPage<T>(rows: T[], limit: number, keyOf: (last: T) => Key[]): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null };
}
