import type { Dialect } from '../sql/executor.js';
import type { Migration } from './index.js';

/**
 * Alerts, one row per raise: written in the transaction that stores its alert.raised event and
 * updated by the one that stores its alert.cleared (src/db/record-event.ts), so the listing and
 * the events never disagree. No foreign key to channels: a deleted channel's alerts stay.
 */
export const alertsTable: Migration = {
  version: 2,
  name: 'alerts',
  statements: (d: Dialect) => [
    `CREATE TABLE alerts (
      id TEXT PRIMARY KEY,
      rule TEXT NOT NULL,
      channel_id TEXT,
      state TEXT NOT NULL,
      raised_at ${d.bigint} NOT NULL,
      cleared_at ${d.bigint},
      value ${d.double},
      threshold ${d.double} NOT NULL,
      unit TEXT NOT NULL,
      message TEXT NOT NULL,
      clear_value ${d.double},
      clear_message TEXT
    )`,
    'CREATE INDEX alerts_raised ON alerts (raised_at, id)',
    'CREATE INDEX alerts_state_raised ON alerts (state, raised_at, id)',
  ],
};
