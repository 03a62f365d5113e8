import type { Dialect } from '../sql/executor.js';
import type { Migration } from './index.js';

/**
 * Viewer analytics (issue 17): one row per origin, channel and UTC minute of counters (CCU
 * samples, sessions, views, new unique viewers, watch time per mode, beacon play and rebuffer
 * time) and the watch time by rendition / protocol / player / latency mode as JSON. Each origin
 * writes only its own rows (origin_id), so several origins on one PostgreSQL never contend, and
 * the API adds them up. No client address, user agent or session key is stored.
 * analytics_live holds each origin's latest CCU per channel, for the realtime figure.
 */
export const analyticsTables: Migration = {
  version: 3,
  name: 'viewer analytics',
  statements: (d: Dialect) => [
    `CREATE TABLE analytics_minutes (
      channel_id TEXT NOT NULL,
      minute ${d.bigint} NOT NULL,
      origin_id TEXT NOT NULL,
      ccu_samples INTEGER NOT NULL,
      ccu_sum ${d.bigint} NOT NULL,
      ccu_max INTEGER NOT NULL,
      sessions INTEGER NOT NULL,
      views INTEGER NOT NULL,
      new_uniques INTEGER NOT NULL,
      watch_live_ms ${d.bigint} NOT NULL,
      watch_dvr_ms ${d.bigint} NOT NULL,
      watch_catchup_ms ${d.bigint} NOT NULL,
      beacon_play_ms ${d.bigint} NOT NULL,
      rebuffer_ms ${d.bigint} NOT NULL,
      dimensions ${d.json} NOT NULL,
      PRIMARY KEY (channel_id, minute, origin_id)
    )`,
    // The retention sweep deletes by minute across channels.
    'CREATE INDEX analytics_minutes_minute ON analytics_minutes (minute)',
    `CREATE TABLE analytics_live (
      origin_id TEXT NOT NULL,
      channel_id TEXT NOT NULL,
      ccu INTEGER NOT NULL,
      sampled_at ${d.bigint} NOT NULL,
      PRIMARY KEY (origin_id, channel_id)
    )`,
  ],
};
