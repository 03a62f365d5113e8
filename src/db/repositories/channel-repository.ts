import type { ChannelRepository } from '../repository.js';
import type { Row, SqlExecutor } from '../sql/executor.js';
import { assignments, insertStatement, type Columns } from '../sql/columns.js';
import { keysetPage } from '../sql/keyset.js';
import { bool, json, jsonOrNull, num, numOrNull, toJson } from '../sql/values.js';
import type { Channel, ChannelInput, ChannelPatch, JsonObject, Page, PageRequest } from '../types.js';
import type { Clock } from './clock.js';

const COLUMNS: Columns<Channel> = {
  id: { name: 'id' },
  name: { name: 'name' },
  latencyMode: { name: 'latency_mode' },
  transcodeProfile: { name: 'transcode_profile', bind: (v) => (v === null ? null : toJson(v)) },
  dvrWindowSec: { name: 'dvr_window_sec' },
  record: { name: 'record' },
  retentionHours: { name: 'retention_hours' },
  autoStart: { name: 'auto_start' },
  ipAllowList: { name: 'ip_allow_list', bind: toJson },
  playbackTokenPolicy: { name: 'playback_token_policy' },
  failover: { name: 'failover', bind: (v) => (v === null ? null : toJson(v)) },
  srtPassphrase: { name: 'srt_passphrase' },
  createdAt: { name: 'created_at' },
  updatedAt: { name: 'updated_at' },
};

function fromRow(r: Row): Channel {
  return {
    id: String(r.id),
    name: String(r.name),
    latencyMode: r.latency_mode as Channel['latencyMode'],
    transcodeProfile: jsonOrNull<JsonObject>(r.transcode_profile),
    dvrWindowSec: numOrNull(r.dvr_window_sec),
    record: bool(r.record),
    retentionHours: numOrNull(r.retention_hours),
    autoStart: bool(r.auto_start),
    ipAllowList: json<string[]>(r.ip_allow_list),
    playbackTokenPolicy: r.playback_token_policy as Channel['playbackTokenPolicy'],
    failover: jsonOrNull<JsonObject>(r.failover),
    srtPassphrase: r.srt_passphrase === null || r.srt_passphrase === undefined ? null : String(r.srt_passphrase),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

export class SqlChannelRepository implements ChannelRepository {
  constructor(private readonly sql: SqlExecutor, private readonly clock: Clock) {}

  async create(input: ChannelInput): Promise<Channel> {
    const now = this.clock();
    const channel: Channel = {
      latencyMode: 'ultra-low', transcodeProfile: null, dvrWindowSec: null, record: false, retentionHours: null,
      autoStart: false, ipAllowList: [], playbackTokenPolicy: 'none', failover: null, srtPassphrase: null, ...input, createdAt: now, updatedAt: now,
    };
    const { sql, params } = insertStatement('channels', COLUMNS, channel);
    const [row] = await this.sql.query(sql, params);
    return fromRow(row);
  }

  async get(id: string): Promise<Channel | undefined> {
    const [row] = await this.sql.query('SELECT * FROM channels WHERE id = $1', [id]);
    return row && fromRow(row);
  }

  list(page: PageRequest = {}): Promise<Page<Channel>> {
    return keysetPage(this.sql, { from: 'channels', keys: [['id', 's']], page, map: fromRow, keyOf: (c) => [c.id] });
  }

  async update(id: string, patch: ChannelPatch): Promise<Channel | undefined> {
    const params = [id, this.clock()];
    const set = ['updated_at = $2', ...assignments<Channel>(COLUMNS, patch, params, ['id', 'createdAt', 'updatedAt'])];
    const [row] = await this.sql.query(`UPDATE channels SET ${set.join(', ')} WHERE id = $1 RETURNING *`, params);
    return row && fromRow(row);
  }

  /** Deletes the channel with its restream targets (stream keys go by their foreign key). */
  delete(id: string): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      await tx.run('DELETE FROM restream_targets WHERE channel_id = $1', [id]);
      return (await tx.run('DELETE FROM channels WHERE id = $1', [id])) > 0;
    });
  }
}
