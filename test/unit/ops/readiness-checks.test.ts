import t from 'tap';
import { createServer, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addonCheck, connectHost, dataDirCheck, databaseCheck, diskSpaceCheck, listenerCheck } from '../../../src/ops/readiness-checks.js';
import { DiskSpaceGuard } from '../../../src/store/disk/storage-gate.js';
import { EventBus } from '../../../src/events.js';
import { silentLogger } from '../../../src/log.js';
import { loadNative } from '../../../src/addon/native-module.js';
import { freePorts } from '../../helpers/origin-process.js';

t.test('listener: passes once the port accepts a connection, fails before listen() resolved and on a closed port', async (t) => {
  const server = createServer((s) => s.destroy());
  let port: number | undefined;
  const check = listenerCheck('rtmp', '0.0.0.0', () => port);
  await t.rejects(check.run(), { message: 'not listening yet' });
  server.listen(0, '0.0.0.0');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  await t.resolves(check.run(), 'a wildcard bind is reached through 127.0.0.1');
  await new Promise((r) => server.close(r));
  await t.rejects(check.run(), { message: /ECONNREFUSED/ }, 'closed: refused');
  [port] = await freePorts(1);
  await t.rejects(check.run(), { message: /ECONNREFUSED/ }, 'a port nobody listens on: refused');
});

t.test('connectHost: wildcard binds are reached on loopback, other hosts as they are', async (t) => {
  t.equal(connectHost('0.0.0.0'), '127.0.0.1');
  t.equal(connectHost('::'), '::1');
  t.equal(connectHost('[::1]'), '::1');
  t.equal(connectHost('10.1.2.3'), '10.1.2.3');
  t.equal(connectHost('localhost'), 'localhost');
});

t.test('database: fails before the database is open and when ping fails, passes when it answers', async (t) => {
  let db: { ping(): Promise<void> } | undefined;
  const check = databaseCheck(() => db);
  await t.rejects(check.run(), { message: 'not open yet' });
  db = { ping: async () => { throw new Error('connect ECONNREFUSED 127.0.0.1:5432'); } };
  await t.rejects(check.run(), { message: 'connect ECONNREFUSED 127.0.0.1:5432' });
  db = { ping: async () => {} };
  await t.resolves(check.run());
});

t.test('dataDir: a probe file is written and removed; a missing dir or a file in its place fails', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-readiness-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await t.resolves(dataDirCheck(dir).run());
  t.same(readdirSync(dir), [], 'the probe file is gone');
  await t.rejects(dataDirCheck(join(dir, 'missing')).run(), { code: 'ENOENT' });
  writeFileSync(join(dir, 'file'), '');
  await t.rejects(dataDirCheck(join(dir, 'file')).run(), { code: 'ENOTDIR' });
});

t.test('disk: follows the DiskSpaceGuard (fresh poll, same resume margin), saying how much is free', async (t) => {
  const MB = 1024 * 1024;
  let free = 100 * MB;
  const guard = new DiskSpaceGuard({ dataDir: '/data', minFreeBytes: 50 * MB, resumeMarginBytes: 10 * MB, checkIntervalMs: 60_000,
    events: new EventBus(), logger: silentLogger(), freeBytes: async () => free });
  const check = diskSpaceCheck(guard);
  await t.resolves(check.run());
  free = 20 * MB;
  await t.rejects(check.run(), { message: /disk low: 20\.0 MB free, storage\.minFreeMb is 50 MB/ }, 'read at the probe, not at the next interval');
  free = 55 * MB;
  await t.rejects(check.run(), 'above the threshold but within the resume margin: still not ready (no flapping)');
  free = 61 * MB;
  await t.resolves(check.run());
  guard.reportWriteError(Object.assign(new Error('no space'), { code: 'ENOSPC' }));
  free = 55 * MB;
  await t.rejects(check.run(), 'a write that failed with ENOSPC counts too');
});

t.test('addon: passes when the native addon loads, fails with the loader\'s reason', async (t) => {
  await t.resolves(addonCheck(() => loadNative()).run());
  await t.rejects(addonCheck(() => { throw new Error('native addon missing at /x'); }).run(), { message: 'native addon missing at /x' });
});
