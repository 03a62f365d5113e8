import { emptyMinute, mergeMinute } from '../../analytics/minute-aggregator.js';
import type { AnalyticsRepository } from '../repository.js';
import type { Row, SqlExecutor } from '../sql/executor.js';
import { json, num, toJson } from '../sql/values.js';
import type { AnalyticsMinute, LiveCcu, StoredAnalyticsMinute } from '../types.js';

function fromRow(r: Row): StoredAnalyticsMinute {
  const m = emptyMinute(String(r.channel_id), num(r.minute));
  m.ccuSamples = num(r.ccu_samples);
  m.ccuSum = num(r.ccu_sum);
  m.ccuMax = num(r.ccu_max);
  m.sessions = num(r.sessions);
  m.views = num(r.views);
  m.newUniques = num(r.new_uniques);
  m.watchMs = { live: num(r.watch_live_ms), dvr: num(r.watch_dvr_ms), catchup: num(r.watch_catchup_ms) };
  m.beaconPlayMs = num(r.beacon_play_ms);
  m.rebufferMs = num(r.rebuffer_ms);
  m.dims = { ...m.dims, ...json<Partial<AnalyticsMinute['dims']>>(r.dimensions) };
  return { ...m, originId: String(r.origin_id) };
}

const COLUMNS = 'channel_id, minute, origin_id, ccu_samples, ccu_sum, ccu_max, sessions, views, new_uniques, '
  + 'watch_live_ms, watch_dvr_ms, watch_catchup_ms, beacon_play_ms, rebuffer_ms, dimensions';

const paramsOf = (originId: string, m: AnalyticsMinute) => [m.channel, m.minute, originId, m.ccuSamples, m.ccuSum, m.ccuMax, m.sessions,
  m.views, m.newUniques, Math.round(m.watchMs.live), Math.round(m.watchMs.dvr), Math.round(m.watchMs.catchup),
  Math.round(m.beaconPlayMs), Math.round(m.rebufferMs), toJson(m.dims)];

/**
 * analytics_minutes and analytics_live. A flush is one transaction per origin; a row that
 * exists already (a late slice of a minute flushed before, or a restart within the minute) is
 * read, merged and rewritten: rare, and the JSON of the dimensions merges the same way on both
 * databases.
 */
export class SqlAnalyticsRepository implements AnalyticsRepository {
  constructor(private readonly sql: SqlExecutor) {}

  addMinutes(originId: string, rows: readonly AnalyticsMinute[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return this.sql.transaction(async (tx) => {
      for (const m of rows) {
        const [existing] = await tx.query('SELECT * FROM analytics_minutes WHERE channel_id = $1 AND minute = $2 AND origin_id = $3',
          [m.channel, m.minute, originId]);
        if (existing) {
          const merged = mergeMinute(fromRow(existing), m);
          await tx.run('DELETE FROM analytics_minutes WHERE channel_id = $1 AND minute = $2 AND origin_id = $3', [m.channel, m.minute, originId]);
          await tx.run(`INSERT INTO analytics_minutes (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
            paramsOf(originId, merged));
        } else {
          await tx.run(`INSERT INTO analytics_minutes (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
            paramsOf(originId, m));
        }
      }
    });
  }

  async minutes(channelId: string, from: number, to: number): Promise<StoredAnalyticsMinute[]> {
    const rows = await this.sql.query('SELECT * FROM analytics_minutes WHERE channel_id = $1 AND minute >= $2 AND minute < $3 ORDER BY minute, origin_id',
      [channelId, from, to]);
    return rows.map(fromRow);
  }

  async minutesOfAll(from: number, to: number): Promise<StoredAnalyticsMinute[]> {
    const rows = await this.sql.query('SELECT * FROM analytics_minutes WHERE minute >= $1 AND minute < $2 ORDER BY channel_id, minute, origin_id',
      [from, to]);
    return rows.map(fromRow);
  }

  putLive(originId: string, atMs: number, ccu: readonly { channelId: string; ccu: number }[]): Promise<void> {
    return this.sql.transaction(async (tx) => {
      await tx.run('DELETE FROM analytics_live WHERE origin_id = $1', [originId]);
      for (const c of ccu) {
        await tx.run('INSERT INTO analytics_live (origin_id, channel_id, ccu, sampled_at) VALUES ($1, $2, $3, $4)', [originId, c.channelId, c.ccu, atMs]);
      }
    });
  }

  async live(since: number): Promise<LiveCcu[]> {
    const rows = await this.sql.query(`SELECT channel_id, SUM(ccu) AS ccu, COUNT(*) AS origins, MIN(sampled_at) AS sampled_at
      FROM analytics_live WHERE sampled_at >= $1 GROUP BY channel_id ORDER BY channel_id`, [since]);
    return rows.map((r) => ({ channelId: String(r.channel_id), ccu: num(r.ccu), origins: num(r.origins), sampledAt: num(r.sampled_at) }));
  }

  async deleteBefore(minute: number): Promise<number> {
    return this.sql.run('DELETE FROM analytics_minutes WHERE minute < $1', [minute]);
  }
}
