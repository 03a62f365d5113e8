import { newId } from '../ids.js';
import type { RestreamTargetRepository } from '../repository.js';
import { assignments, insertStatement, type Columns } from '../sql/columns.js';
import type { Param, Row, SqlExecutor } from '../sql/executor.js';
import { bool, num } from '../sql/values.js';
import type { RestreamTargetInput, RestreamTargetPatch, StoredRestreamTarget } from '../types.js';
import type { Clock } from './clock.js';

const COLUMNS: Columns<StoredRestreamTarget> = {
  id: { name: 'id' }, channelId: { name: 'channel_id' }, name: { name: 'name' }, sealedUrl: { name: 'url' }, urlHint: { name: 'url_hint' },
  rendition: { name: 'rendition' }, enabled: { name: 'enabled' }, createdAt: { name: 'created_at' }, updatedAt: { name: 'updated_at' },
};

const fromRow = (r: Row): StoredRestreamTarget => ({
  id: String(r.id), channelId: String(r.channel_id), name: String(r.name), sealedUrl: String(r.url), urlHint: String(r.url_hint),
  rendition: String(r.rendition), enabled: bool(r.enabled), createdAt: num(r.created_at), updatedAt: num(r.updated_at),
});

export class SqlRestreamTargetRepository implements RestreamTargetRepository {
  constructor(private readonly sql: SqlExecutor, private readonly clock: Clock) {}

  async create(input: RestreamTargetInput): Promise<StoredRestreamTarget> {
    const now = this.clock();
    const { sql, params } = insertStatement('restream_targets', COLUMNS, { ...input, id: newId('rs', now), createdAt: now, updatedAt: now });
    const [row] = await this.sql.query(sql, params);
    return fromRow(row);
  }

  async get(id: string): Promise<StoredRestreamTarget | undefined> {
    const [row] = await this.sql.query('SELECT * FROM restream_targets WHERE id = $1', [id]);
    return row && fromRow(row);
  }

  async listForChannel(channelId: string): Promise<StoredRestreamTarget[]> {
    return (await this.sql.query('SELECT * FROM restream_targets WHERE channel_id = $1 ORDER BY created_at, id', [channelId])).map(fromRow);
  }

  async update(id: string, patch: RestreamTargetPatch): Promise<StoredRestreamTarget | undefined> {
    const params: Param[] = [id, this.clock()];
    // Only the patchable fields: RestreamTargetPatch has no id, channel or times.
    const set = ['updated_at = $2', ...assignments(COLUMNS, patch as Partial<StoredRestreamTarget>, params)];
    const [row] = await this.sql.query(`UPDATE restream_targets SET ${set.join(', ')} WHERE id = $1 RETURNING *`, params);
    return row && fromRow(row);
  }

  async delete(id: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM restream_targets WHERE id = $1', [id])) > 0;
  }
}
