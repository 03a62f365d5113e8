/** The control plane's persistence: open a database by URL, use its repositories. */
export { openDatabase, createDriver, type OpenDatabaseOptions } from './open-database.js';
export { databaseUrlOf, defaultDatabaseUrl, parseDatabaseUrl } from './database-url.js';
export type * from './repository.js';
export type * from './types.js';
export * from './errors.js';
export { KeyedHash } from './keyed-hash.js';
export { newId } from './ids.js';
export { MIGRATIONS } from './migrations/index.js';
export { recordEvent } from './record-event.js';
export { ChangeFeed, type ChangeNotice } from './change-feed.js';
