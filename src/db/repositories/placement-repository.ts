import type { PlacementRepository } from '../repository.js';
import type { Row, SqlExecutor } from '../sql/executor.js';
import { num } from '../sql/values.js';
import type { Placement } from '../types.js';

const fromRow = (r: Row): Placement => ({
  channelId: String(r.channel_id), originId: String(r.origin_id), originUrl: String(r.origin_url), expiresAt: num(r.expires_at),
});

/** Lease rows: one origin holds a channel until its lease runs out without a renewal. */
export class SqlPlacementRepository implements PlacementRepository {
  constructor(private readonly sql: SqlExecutor) {}

  async claim(p: Placement, now: number): Promise<Placement> {
    // One statement, so two origins claiming at once cannot both win: the row goes to the
    // claimant only when it is free, expired, or already the claimant's (a renewal).
    await this.sql.run(
      `INSERT INTO channel_placements (channel_id, origin_id, origin_url, expires_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (channel_id) DO UPDATE SET origin_id = excluded.origin_id, origin_url = excluded.origin_url, expires_at = excluded.expires_at
       WHERE channel_placements.origin_id = excluded.origin_id OR channel_placements.expires_at <= $5`,
      [p.channelId, p.originId, p.originUrl, p.expiresAt, now]);
    return (await this.get(p.channelId))!;
  }

  async release(channelId: string, originId: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM channel_placements WHERE channel_id = $1 AND origin_id = $2', [channelId, originId])) > 0;
  }

  async get(channelId: string): Promise<Placement | undefined> {
    const [row] = await this.sql.query('SELECT * FROM channel_placements WHERE channel_id = $1', [channelId]);
    return row && fromRow(row);
  }

  async list(): Promise<Placement[]> {
    return (await this.sql.query('SELECT * FROM channel_placements ORDER BY channel_id')).map(fromRow);
  }
}
