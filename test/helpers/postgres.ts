import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePorts } from './origin-process.js';

/**
 * A throwaway PostgreSQL server for tests: Debian's binaries (installed by
 * scripts/bootstrap.sh), a fresh cluster in a temp dir, listening on a free port of 127.0.0.1
 * and a socket in that dir, trust auth, no fsync. Root cannot run PostgreSQL, so as root the
 * server runs as the `postgres` user the Debian package creates. stop() ends the server and
 * deletes everything; a test process that exits or is killed without calling it still stops
 * the server (its temp dir then stays behind).
 */
export interface PostgresServer {
  /** URL of the `postgres` database (superuser `sigma`). */
  url: string;
  port: number;
  /** A new empty database on this server, for one test's isolation; returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

const SUPERUSER = 'sigma';

/** The newest installed PostgreSQL's bin dir (Debian keeps initdb off PATH), or PG_BINDIR. */
function binDir(): string {
  if (process.env.PG_BINDIR) return process.env.PG_BINDIR;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) {
    throw new Error('PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run scripts/bootstrap.sh, or apt-get install postgresql');
  }
  return join(root, versions[0], 'bin');
}

/** As root, the uid/gid of `postgres`; otherwise run as ourselves. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u'), gid = id('-g');
  if (!Number.isInteger(uid) || uid <= 0) throw new Error('running as root needs the "postgres" user (Debian\'s postgresql package creates it)');
  return { uid, gid };
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = binDir();
  const user = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'sigma-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', SUPERUSER, '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'],
    { cwd: dir, env, encoding: 'utf8', ...user });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status}): ${init.stderr || init.error?.message}`);
  }
  const [port] = await freePorts(1);
  // The postmaster runs as our child (not daemonized by pg_ctl), so stop() can wait for it
  // and an exit handler can end it if a test dies before stop().
  const server: ChildProcess = spawn(join(bin, 'postgres'), [
    '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
    '-c', 'shared_buffers=16MB', '-c', 'max_connections=60', '-c', 'log_min_messages=warning',
  ], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'], ...user });
  let log = '';
  server.stderr?.on('data', (b: Buffer) => { log = (log + b.toString()).slice(-4000); });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const killOnExit = () => server.kill('SIGQUIT');
  process.once('exit', killOnExit);
  // A test process killed outright (tap's timeout, SIGKILL) runs no exit handler: a watchdog
  // outside it ends the server once this process is gone, so no cluster outlives its test.
  const watchdog = spawn('/bin/sh', ['-c', `while [ -d /proc/${process.pid} ]; do sleep 1; done; kill -QUIT ${server.pid} 2>/dev/null`],
    { detached: true, stdio: 'ignore' });
  watchdog.unref();

  const url = `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`;
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try { return await fn(c); } finally { await c.end(); }
  };

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killOnExit);
    watchdog.kill();
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGINT'); // "fast" shutdown: sessions are ended, no waiting for clients
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await admin((c) => c.query('SELECT 1'));
      break;
    } catch (e) {
      if (server.exitCode !== null || Date.now() > deadline) {
        await stop();
        const logFile = join(data, 'log');
        throw new Error(`PostgreSQL did not start: ${(e as Error).message}\n${log}${existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  return {
    url,
    port,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name: ${name}`);
      await admin((c) => c.query(`CREATE DATABASE ${name}`));
      return `postgres://${SUPERUSER}@127.0.0.1:${port}/${name}`;
    },
    stop,
  };
}
