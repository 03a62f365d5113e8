import type { Dialect } from '../sql/executor.js';
import type { Migration } from './index.js';

/**
 * Channels and their stream keys, API tokens, stored events, webhook endpoints with their
 * subscriptions, the webhook outbox (one row per endpoint × event) and the delivery log.
 * Enumerations (latency mode, delivery state, …) are checked by the API's schemas, not here,
 * so adding a value never needs a table rebuild on SQLite.
 */
export const initialSchema: Migration = {
  version: 1,
  name: 'initial schema',
  statements: (d: Dialect) => [
    `CREATE TABLE channels (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      latency_mode TEXT NOT NULL,
      transcode_profile ${d.json},
      dvr_window_sec INTEGER,
      record ${d.bool} NOT NULL,
      retention_hours ${d.double},
      auto_start ${d.bool} NOT NULL,
      ip_allow_list ${d.json} NOT NULL,
      playback_token_policy TEXT NOT NULL,
      created_at ${d.bigint} NOT NULL,
      updated_at ${d.bigint} NOT NULL
    )`,
    // key_hash is the publish lookup: the RTMP ingest hashes the key it receives and finds
    // the row through this unique index (docs/adr/004-database.md).
    `CREATE TABLE stream_keys (
      id TEXT PRIMARY KEY,
      channel_id TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
      key_hash TEXT NOT NULL UNIQUE,
      hint TEXT NOT NULL,
      name TEXT,
      created_at ${d.bigint} NOT NULL,
      last_used_at ${d.bigint},
      revoked_at ${d.bigint}
    )`,
    'CREATE INDEX stream_keys_channel ON stream_keys (channel_id, created_at, id)',
    `CREATE TABLE api_tokens (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      secret_hash TEXT NOT NULL UNIQUE,
      scopes ${d.json} NOT NULL,
      created_at ${d.bigint} NOT NULL,
      last_used_at ${d.bigint},
      revoked_at ${d.bigint}
    )`,
    'CREATE INDEX api_tokens_created ON api_tokens (created_at, id)',
    // No foreign key to channels: the history of a deleted channel stays queryable.
    `CREATE TABLE events (
      id TEXT PRIMARY KEY,
      type TEXT NOT NULL,
      channel_id TEXT,
      occurred_at ${d.bigint} NOT NULL,
      payload ${d.json} NOT NULL
    )`,
    'CREATE INDEX events_time ON events (occurred_at, id)',
    'CREATE INDEX events_channel_time ON events (channel_id, occurred_at, id)',
    'CREATE INDEX events_type_time ON events (type, occurred_at, id)',
    `CREATE TABLE webhook_endpoints (
      id TEXT PRIMARY KEY,
      url TEXT NOT NULL,
      secret TEXT NOT NULL,
      enabled ${d.bool} NOT NULL,
      created_at ${d.bigint} NOT NULL,
      updated_at ${d.bigint} NOT NULL
    )`,
    // A table rather than a JSON array, so enqueueing an event is one portable INSERT … SELECT.
    `CREATE TABLE webhook_subscriptions (
      endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
      event_type TEXT NOT NULL,
      PRIMARY KEY (endpoint_id, event_type)
    )`,
    'CREATE INDEX webhook_subscriptions_type ON webhook_subscriptions (event_type)',
    `CREATE TABLE webhook_deliveries (
      id ${d.serialKey},
      endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
      event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
      state TEXT NOT NULL,
      attempts INTEGER NOT NULL,
      next_attempt_at ${d.bigint} NOT NULL,
      lease_owner TEXT,
      lease_until ${d.bigint},
      last_status INTEGER,
      last_error TEXT,
      created_at ${d.bigint} NOT NULL,
      updated_at ${d.bigint} NOT NULL,
      delivered_at ${d.bigint},
      UNIQUE (endpoint_id, event_id)
    )`,
    'CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at, id)',
    'CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id)',
    'CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id)',
    `CREATE TABLE webhook_attempts (
      id ${d.serialKey},
      delivery_id ${d.bigint} NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
      endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
      event_id TEXT NOT NULL,
      attempt INTEGER NOT NULL,
      at ${d.bigint} NOT NULL,
      ok ${d.bool} NOT NULL,
      status INTEGER,
      error TEXT,
      duration_ms INTEGER NOT NULL
    )`,
    'CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id)',
    'CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id)',
  ],
};
