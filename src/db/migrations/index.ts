import type { Dialect } from '../sql/executor.js';
import { initialSchema } from './001-initial-schema.js';
import { alertsTable } from './002-alerts.js';
import { analyticsTables } from './003-analytics.js';
import { backupInputs } from './004-backup-inputs.js';
import { changeNotices } from './005-change-notices.js';
import { channelPlacements } from './006-channel-placements.js';
import { restreamTargets } from './007-restream-targets.js';
import { srtPassphrase } from './008-srt-passphrase.js';

/**
 * One schema for both databases: each migration writes its DDL once, with the few type names
 * that differ taken from the dialect. Append only: a released migration is never edited,
 * the next change is a new version.
 */
export interface Migration {
  version: number;
  name: string;
  statements(d: Dialect): string[];
}

export const MIGRATIONS: readonly Migration[] = [initialSchema, alertsTable, analyticsTables, backupInputs, changeNotices, channelPlacements, restreamTargets, srtPassphrase];
