import type { Dialect } from '../sql/executor.js';
import type { Migration } from './index.js';

/**
 * SRT encryption for API channels (issue 20): the passphrase its SRT publishers must use, null
 * for none. Kept as written, like a webhook's signing secret: the listener needs it itself.
 */
export const srtPassphrase: Migration = {
  version: 8,
  name: 'srt passphrase',
  statements: (_d: Dialect) => ['ALTER TABLE channels ADD COLUMN srt_passphrase TEXT'],
};
