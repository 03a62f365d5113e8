import type { Dialect } from '../sql/executor.js';
import type { Migration } from './index.js';

/**
 * Backup inputs (issue 18): each stream key publishes to one input of its channel ('primary',
 * 'backup1', …), and an API channel keeps its failover settings (stall time, failback, slate)
 * as a JSON object, null for the defaults.
 */
export const backupInputs: Migration = {
  version: 4,
  name: 'backup inputs',
  statements: (d: Dialect) => [
    "ALTER TABLE stream_keys ADD COLUMN input TEXT NOT NULL DEFAULT 'primary'",
    `ALTER TABLE channels ADD COLUMN failover ${d.json}`,
  ],
};
