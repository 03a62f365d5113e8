import { isAbsolute, join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';

export type DatabaseTarget =
  | { kind: 'sqlite'; file: string }
  | { kind: 'postgres'; connectionString: string };

/** Default `database.url`: the embedded SQLite file in dataDir. */
export function defaultDatabaseUrl(dataDir: string): string {
  return `sqlite:${join(dataDir, 'sigma.db')}`;
}

/** The URL the origin opens: `database.url`, else the SQLite file in dataDir. */
export function databaseUrlOf(config: Pick<Config, 'database' | 'dataDir'>): string {
  return config.database.url ?? defaultDatabaseUrl(config.dataDir);
}

/**
 * Reads a connection URL:
 * - `sqlite:PATH` (relative to the working directory, or absolute), `sqlite::memory:`;
 * - `postgres://…` or `postgresql://…`, as libpq reads it (user, password, host, port, database,
 *   `?host=/socket/dir` for a unix socket, `?sslmode=…`).
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new Error('database url: sqlite: needs a file path (sqlite:./data/sigma.db)');
    return { kind: 'sqlite', file: path === ':memory:' || isAbsolute(path) ? path : resolve(path) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', connectionString: url };
  throw new Error(`database url: expected sqlite:PATH or postgres://…, got "${url.split(':')[0]}:…"`);
}
