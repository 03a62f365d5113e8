import { randomBytes } from 'node:crypto';

/**
 * Ids of stored records: a type prefix, the creation time (base 36, fixed width, so ids sort
 * by time as text) and 64 random bits. `evt_lwz3k1c0a_9f1c2b3d4e5f6a7b`.
 */
export function newId(prefix: string, now = Date.now()): string {
  return `${prefix}_${now.toString(36).padStart(9, '0')}_${randomBytes(8).toString('hex')}`;
}
