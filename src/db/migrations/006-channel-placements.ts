import type { Dialect } from '../sql/executor.js';
import type { Migration } from './index.js';

/**
 * Where each channel is live (issue 19): a lease row per channel, held by the origin that took
 * its publisher and renewed by that origin's heartbeat; a row past `expires_at` is free (its
 * origin died). On PostgreSQL each change is announced on `sigma_changes` as channel changes are
 * (migration 005), so every origin keeps the placements in memory and a playback request costs
 * no database round trip.
 */
export const channelPlacements: Migration = {
  version: 6,
  name: 'channel placements',
  statements: (d: Dialect) => [
    `CREATE TABLE channel_placements (
  channel_id TEXT PRIMARY KEY,
  origin_id TEXT NOT NULL,
  origin_url TEXT NOT NULL,
  expires_at ${d.bigint} NOT NULL
)`,
    // Not on a renewal that changes only expires_at: heartbeats would flood every listener.
    ...(d.name !== 'postgres' ? [] : [`CREATE TRIGGER channel_placements_notify AFTER INSERT OR DELETE OR UPDATE OF origin_id, origin_url
  ON channel_placements FOR EACH ROW EXECUTE FUNCTION sigma_notify_change('channel_id')`]),
  ],
};
