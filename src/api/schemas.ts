import { z } from 'zod';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '../db/pagination.js';
import type { Page } from '../db/types.js';

/** Schemas and conversions every resource uses. Times go out as ISO 8601 (UTC). */

export const isoTime = z.string().datetime().describe('ISO 8601 time, UTC');

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

/** 2026-11-25, 2026-11-25T12:00Z, 2026-11-25T12:00:00.250+01:00, … */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** A point in time given in a query: ISO 8601, or epoch milliseconds. Parsed to epoch ms. */
export const instant = z.string().max(40).transform((s, ctx) => {
  const ms = /^\d{1,15}$/.test(s) ? Number(s) : ISO_8601.test(s) ? Date.parse(s) : Number.NaN;
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: 'expected an ISO 8601 time (2026-11-25T12:00:00Z) or epoch milliseconds' });
    return z.NEVER;
  }
  return ms;
}).describe('ISO 8601 time or epoch milliseconds');

/** Checks from < to on a query with optional `from` and `to` (already parsed to ms). */
export function fromBeforeTo<T extends { from?: number; to?: number }>(q: T, ctx: z.RefinementCtx): void {
  if (q.from !== undefined && q.to !== undefined && q.from >= q.to) {
    ctx.addIssue({ code: 'custom', path: ['to'], message: '`to` must be after `from`' });
  }
}

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT).default(DEFAULT_PAGE_LIMIT).describe('Items per page'),
  cursor: z.string().min(1).max(1000).optional().describe('nextCursor of the previous page'),
};

/** A query string: unknown parameters are refused (a typo must not silently widen a listing). */
export const query = <T extends z.ZodRawShape>(shape: T) => z.object(shape).strict();

/** A page of a cursor-paginated listing. */
export const page = <T extends z.ZodTypeAny>(item: T) => z.object({
  items: z.array(item),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
});

/** A page of records as a page of their views. */
export const pageOf = <T, V>(p: Page<T>, view: (record: T) => V): { items: V[]; nextCursor: string | null } =>
  ({ items: p.items.map(view), nextCursor: p.nextCursor });

/** A listing that comes whole. */
export const list = <T extends z.ZodTypeAny>(item: T) => z.object({ items: z.array(item) });

/** Path ids: anything up to 128 characters; what does not exist answers 404. */
export const pathId = z.string().min(1).max(128);

export const idParams = z.object({ id: pathId });

/** The body of POST routes whose body is optional: none at all, or an empty one, is `{}`. */
export const optionalBody = <T extends z.ZodRawShape>(shape: T) =>
  z.preprocess((body) => body ?? {}, z.object(shape).strict());
