import type { Dialect } from '../sql/executor.js';
import type { Migration } from './index.js';

/**
 * Restream targets added through the API (issue 20): where a channel's stream is pushed on to.
 * `url` holds the target's URL sealed with a key derived from the server secret (AES-256-GCM,
 * src/control/sealed-text.ts): a stream key for YouTube or Twitch is a secret that a database
 * dump must not give away. On PostgreSQL a change is announced with the channel's id, so the
 * origin the channel is live on applies it within a second.
 */
export const restreamTargets: Migration = {
  version: 7,
  name: 'restream targets',
  statements: (d: Dialect) => [
    `CREATE TABLE restream_targets (
  id TEXT PRIMARY KEY,
  channel_id TEXT NOT NULL,
  name TEXT NOT NULL,
  url TEXT NOT NULL,
  url_hint TEXT NOT NULL,
  rendition TEXT NOT NULL,
  enabled ${d.bool} NOT NULL,
  created_at ${d.bigint} NOT NULL,
  updated_at ${d.bigint} NOT NULL
)`,
    'CREATE INDEX restream_targets_channel ON restream_targets (channel_id, created_at)',
    ...(d.name !== 'postgres' ? [] : [`CREATE TRIGGER restream_targets_notify AFTER INSERT OR UPDATE OR DELETE ON restream_targets
  FOR EACH ROW EXECUTE FUNCTION sigma_notify_change('channel_id')`]),
  ],
};
