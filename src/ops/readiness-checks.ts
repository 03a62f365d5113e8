import { connect } from 'node:net';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReadinessCheck } from './readiness.js';

/**
 * The checks readiness is made of, each one real: a TCP connect rather than a "listening"
 * flag, a file written and synced rather than an access() bit (root passes access() on a
 * read-only mount), a database round trip.
 */

/** Where to connect to reach a listener bound to `host`: the wildcard addresses are not connectable everywhere. */
export function connectHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host.replace(/^\[(.*)\]$/, '$1');
}

/**
 * A listener accepts connections: a TCP connect to its bound port, closed at once. `port` is
 * read at each probe (undefined until listen() has resolved; with port 0 it is only known then).
 */
export function listenerCheck(name: string, host: string, port: () => number | undefined): ReadinessCheck {
  const target = connectHost(host);
  return {
    name,
    run: () => new Promise<void>((resolve, reject) => {
      const p = port();
      if (p === undefined) return reject(new Error('not listening yet'));
      const socket = connect({ host: target, port: p });
      socket.once('connect', () => { socket.destroy(); resolve(); });
      socket.once('error', (err) => { socket.destroy(); reject(err); });
      // The probe's own timeout gives up waiting; this makes sure the socket does not outlive it.
      socket.setTimeout(5000, () => socket.destroy(new Error('connect timed out')));
    }),
  };
}

/** The control-plane database answers (one SELECT 1); undefined until the origin has opened it. */
export function databaseCheck(database: () => { ping(): Promise<void> } | undefined): ReadinessCheck {
  return {
    name: 'database',
    async run() {
      const db = database();
      if (!db) throw new Error('not open yet');
      await db.ping();
    },
  };
}

/**
 * dataDir takes a write: a small file created, written, fsynced and deleted. fsync is what
 * reaches the device, so an I/O error or a read-only remount shows here and not only later
 * in the archive writer.
 */
export function dataDirCheck(dataDir: string): ReadinessCheck {
  const probe = join(dataDir, `.readiness-probe-${process.pid}`);
  return {
    name: 'dataDir',
    async run() {
      const file = await open(probe, 'w');
      try {
        await file.writeFile('readiness probe\n');
        await file.sync();
      } finally {
        await file.close();
        await unlink(probe).catch(() => {});
      }
    },
  };
}

/** What the disk check reads: the DiskSpaceGuard that also pauses archiving and recording. */
export interface DiskSpace {
  readonly writable: boolean;
  readonly lastFreeBytes: number | undefined;
  readonly minFreeBytes: number;
  /** A fresh statfs (shared with a poll in flight). */
  check(): Promise<void>;
}

const MB = 1024 * 1024;

/**
 * Free space under dataDir is above storage.minFreeMb. The guard's own state decides, not a
 * second threshold: not ready exactly while archiving is paused, with the same resume margin
 * (no flapping at the threshold), and after a write failed with ENOSPC too.
 */
export function diskSpaceCheck(disk: DiskSpace): ReadinessCheck {
  return {
    name: 'disk',
    async run() {
      await disk.check();
      if (disk.writable) return;
      const free = disk.lastFreeBytes === undefined ? 'unknown' : `${(disk.lastFreeBytes / MB).toFixed(1)} MB`;
      throw new Error(`disk low: ${free} free, storage.minFreeMb is ${(disk.minFreeBytes / MB).toFixed(0)} MB `
        + '(ready again above it plus storage.resumeMarginMb)');
    },
  };
}

/** The native addon is loaded (loading is cached: after the first time this costs nothing). */
export function addonCheck(load: () => unknown): ReadinessCheck {
  return { name: 'addon', run: async () => { load(); } };
}
