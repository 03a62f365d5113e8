import type { Dialect } from '../sql/executor.js';
import type { Migration } from './index.js';

/**
 * Several origins on one PostgreSQL (issue 19): every committed change to a channel row is
 * announced on the `sigma_changes` channel (LISTEN/NOTIFY, delivered at commit, in commit
 * order), whichever origin or tool made it, so the others apply it within a second instead of
 * at their next start (src/db/change-feed.ts). SQLite serves one origin: nothing to announce.
 */
export const changeNotices: Migration = {
  version: 5,
  name: 'change notices',
  statements: (d: Dialect) => (d.name !== 'postgres' ? [] : [
    // The row's key column is the trigger's argument, so every table announces its rows the same way.
    `CREATE OR REPLACE FUNCTION sigma_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('sigma_changes', json_build_object('table', TG_TABLE_NAME, 'op', TG_OP,
    'id', (CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END) ->> TG_ARGV[0])::text);
  RETURN NULL;
END $$`,
    `CREATE TRIGGER channels_notify_change AFTER INSERT OR UPDATE OR DELETE ON channels
  FOR EACH ROW EXECUTE FUNCTION sigma_notify_change('id')`,
  ]),
};
