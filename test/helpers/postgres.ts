import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
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
  /** Stops and starts the server on the same port and data: every open connection is cut. */
  restart(): Promise<void>;
  /** Stops the server but keeps its port and data, as an outage would: connections are refused until up(). */
  down(): Promise<void>;
  /** Starts the server down() stopped, on the same port and data; resolves when it answers. */
  up(): Promise<void>;
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
  const url = `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`;
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try { return await fn(c); } finally { await c.end(); }
  };
  const launch = () => new Postmaster(join(bin, 'postgres'), [
    '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
    '-c', 'shared_buffers=16MB', '-c', 'max_connections=60', '-c', 'log_min_messages=warning',
  ], { cwd: dir, env, ...user });

  /** Waits until the server answers; throws with its log if it dies or takes over 30 s. */
  const ready = async (server: Postmaster) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await admin((c) => c.query('SELECT 1'));
        return;
      } catch (e) {
        if (server.exited || Date.now() > deadline) throw new Error(`PostgreSQL did not start: ${(e as Error).message}\n${server.log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };

  let server = launch();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await ready(server);
  } catch (e) {
    await stop();
    throw e;
  }
  const down = () => server.stop();
  const up = async () => {
    if (!server.exited) throw new Error('PostgreSQL is already up');
    server = launch();
    await ready(server);
  };

  return {
    url,
    port,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name: ${name}`);
      await admin((c) => c.query(`CREATE DATABASE ${name}`));
      return `postgres://${SUPERUSER}@127.0.0.1:${port}/${name}`;
    },
    async restart() {
      await down();
      await up();
    },
    down,
    up,
    stop,
  };
}

/**
 * One run of the postmaster, as our child (not daemonized by pg_ctl), so stop() can wait for
 * it and it ends with the test process: an exit handler for a normal exit, and a watchdog
 * outside the process for a test killed outright (tap's timeout, SIGKILL).
 */
class Postmaster {
  private readonly proc: ChildProcess;
  private readonly done: Promise<void>;
  private readonly watchdog: ChildProcess;
  private readonly onExit = () => this.proc.kill('SIGQUIT');
  log = '';

  constructor(file: string, args: string[], opts: SpawnOptions) {
    this.proc = spawn(file, args, { ...opts, stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr?.on('data', (b: Buffer) => { this.log = (this.log + b.toString()).slice(-4000); });
    this.done = new Promise((resolve) => this.proc.once('exit', () => resolve()));
    process.once('exit', this.onExit);
    this.watchdog = spawn('/bin/sh', ['-c', `while [ -d /proc/${process.pid} ]; do sleep 1; done; kill -QUIT ${this.proc.pid} 2>/dev/null`],
      { detached: true, stdio: 'ignore' });
    this.watchdog.unref();
  }

  get exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  /** "Fast" shutdown (SIGINT): sessions are ended, no waiting for clients. */
  async stop(): Promise<void> {
    process.off('exit', this.onExit);
    this.watchdog.kill();
    if (!this.exited) this.proc.kill('SIGINT');
    await this.done;
  }
}
