/**
 * Readiness for real: the process entry point polled from its first instant, with an ffmpeg
 * publisher started the moment /readyz turns 200 (before, /healthz turned 200 while RTMP still
 * refused connections); a dataDir that turns read-only and one that fills up (a tmpfs); a
 * PostgreSQL server that goes away and comes back; and the SIGTERM drain.
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, spawnOrigin } from '../helpers/origin-process.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { startOrigin, waitUntil, type RunningOrigin } from '../helpers/origin.js';
import { startPostgres } from '../helpers/postgres.js';
import { missingCommand, testNeeding } from '../helpers/ci.js';
import { freeBytes, mountTmpfs, remount, unmount } from '../helpers/tmpfs.js';

const MB = 1024 * 1024;
const STREAM_KEY = 'readiness-key-1';
const DRAIN_SEC = 3;

interface Probe { status: number; body: { status: string; checks: Record<string, { ok: boolean; error?: string }> } }

/** GET /readyz; undefined while nothing listens on the port. */
async function readyz(base: string): Promise<Probe | undefined> {
  try {
    const r = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(3000) });
    return { status: r.status, body: await r.json() as Probe['body'] };
  } catch {
    return undefined;
  }
}

/** Polls /readyz until `want` holds; resolves with that probe and how long it took. */
async function readyzUntil(base: string, want: (p: Probe) => boolean, timeoutMs: number, what: string): Promise<Probe & { afterMs: number }> {
  const started = Date.now();
  const p = await waitUntil(async () => { const r = await readyz(base); return r && want(r) ? r : undefined; }, timeoutMs, what, 50);
  return { ...p, afterMs: Date.now() - started };
}

const failing = (p: Probe) => Object.keys(p.body.checks).filter((k) => !p.body.checks[k].ok).sort();

testNeeding(t, 'the process: ready only once every listener accepts (a publisher started at that instant gets in); SIGTERM drains',
  missingCommand('ffmpeg', ['-version']), async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sigma-readiness-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const [http, rtmp, api, h2, h2c] = await freePorts(5);
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({
      srt: { enabled: false }, rtmp: { host: '127.0.0.1', port: rtmp }, http: { host: '127.0.0.1', port: http },
      http2: { host: '127.0.0.1', port: h2, cleartextPort: h2c }, api: { host: '127.0.0.1', port: api },
      dataDir: join(dir, 'data'), shutdown: { drainSec: DRAIN_SEC }, log: { level: 'info' },
      channels: [{ id: 'race', streamKey: STREAM_KEY, latencyMode: 'low' }],
    }));
    const base = `http://127.0.0.1:${http}`;
    const origin = spawnOrigin(file);
    let pub: ReturnType<typeof startPublisher> | undefined;
    t.teardown(async () => {
      if (pub) await stopPublisher(pub);
      await origin.stop('SIGKILL');
    });

    // As tight as a load balancer could poll: the publisher goes the moment the answer is 200.
    const seen = new Set<string>();
    let healthyWhileNotReady = false;
    let ready: Probe | undefined;
    const deadline = Date.now() + 30_000;
    while (!ready) {
      if (Date.now() > deadline || origin.proc.exitCode !== null) t.fail(`never ready: ${origin.stderr()}`);
      if (Date.now() > deadline || origin.proc.exitCode !== null) return;
      const r = await readyz(base);
      if (r?.status === 200) { ready = r; break; }
      if (r) {
        seen.add(failing(r).join(','));
        if (!healthyWhileNotReady) healthyWhileNotReady = (await fetch(`${base}/healthz`)).status === 200;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    pub = startPublisher(`rtmp://127.0.0.1:${rtmp}/live/${STREAM_KEY}`, { width: 320, height: 180, fps: 25, gop: 25 });
    t.comment(`not-ready states seen before 200: ${[...seen].map((s) => `[${s}]`).join(' ')}`);
    t.same(ready.body, { status: 'ready', checks: Object.fromEntries(
      ['rtmp', 'http', 'http2', 'h2c', 'api', 'database', 'dataDir', 'disk', 'addon'].map((k) => [k, { ok: true }])) }, 'every check named and passing');
    t.ok(seen.size > 0, 'the HTTP port answered /readyz 503 before it was ready (the poll started early enough to see the race)');
    t.ok(healthyWhileNotReady, '/healthz said 200 while /readyz still said 503: liveness is not readiness');

    const playlist = `${base}/live/race/index.m3u8`;
    await waitUntil(async () => (await fetch(playlist)).status === 200, 20_000, 'the publisher\'s stream live')
      .catch((err: Error) => { throw new Error(`${err.message}; ffmpeg: ${pub!.exitCode === null ? 'running' : `exited ${pub!.exitCode}`} ${pub!.stderrText()}`); });
    t.equal(pub.exitCode, null, 'the publisher started at the first 200 was accepted and is still publishing');
    t.notMatch(pub.stderrText(), /Connection refused/);

    const api200 = await readyz(`http://127.0.0.1:${api}`);
    t.equal(api200?.status, 200, '/readyz on the API port, without a token');
    t.equal((await fetch(`http://127.0.0.1:${api}/healthz`)).status, 200, '/healthz on the API port');

    // SIGTERM: 503 at once, playlists served throughout the drain, then exit 0.
    const exited = new Promise<number | null>((resolve) => origin.proc.once('exit', (code) => resolve(code)));
    const termAt = Date.now();
    origin.proc.kill('SIGTERM');
    const notReady = await readyzUntil(base, (p) => p.status === 503, 2000, '/readyz 503 after SIGTERM');
    t.ok(notReady.afterMs < 1000, `503 ${notReady.afterMs} ms after SIGTERM`);
    t.same(notReady.body.checks.shutdown, { ok: false, error: 'SIGTERM received: draining' });
    let served = 0;
    while (Date.now() - termAt < (DRAIN_SEC - 0.5) * 1000) {
      const r = await fetch(playlist);
      t.equal(r.status, 200, `playlist served ${Date.now() - termAt} ms into the drain`);
      served++;
      await new Promise((r) => setTimeout(r, 200));
    }
    t.equal((await readyz(base))?.status, 503, 'still not ready near the end of the drain');
    const code = await exited;
    const exitAfterMs = Date.now() - termAt;
    t.equal(code, 0, 'exit 0');
    t.ok(exitAfterMs >= DRAIN_SEC * 1000, `exited ${exitAfterMs} ms after SIGTERM, after the ${DRAIN_SEC} s drain (${served} playlists served meanwhile)`);
    const steps = origin.logs().filter((l) => l.component === 'shutdown').map((l) => l.msg);
    t.same(steps, ['shutting down: not ready, draining', 'closing', 'shut down'], 'one log line per shutdown step');
    const changes = origin.logs().filter((l) => l.component === 'readiness').map((l) => l.msg);
    t.same(changes.slice(-2), ['ready', 'not ready'], `readiness changes logged once each (${changes.join(', ')}), not per probe`);
  });

const TMPFS_MB = 16;
const MIN_FREE_MB = 8;
const mount = mountTmpfs(TMPFS_MB, 'sigma-readiness-');

testNeeding(t, 'dataDir on a tmpfs: 503 naming dataDir when it turns read-only, naming disk when it fills; 200 again after each',
  'skip' in mount ? mount.skip : undefined, async (t) => {
    if (!('dir' in mount)) return;
    const dbDir = mkdtempSync(join(tmpdir(), 'sigma-readiness-db-'));
    let o: RunningOrigin | undefined;
    t.teardown(async () => {
      try {
        remount(mount.dir, 'rw');
        await o?.close();
      } finally {
        unmount(mount.dir);
        rmSync(dbDir, { recursive: true, force: true });
      }
    });
    const dataDir = join(mount.dir, 'data');
    mkdirSync(dataDir);
    // The database elsewhere: a read-only remount is refused while a file on it is open for writing.
    o = await startOrigin({
      dataDir, database: { url: `sqlite:${join(dbDir, 'sigma.db')}` }, http2: { enabled: false },
      storage: { minFreeMb: MIN_FREE_MB, resumeMarginMb: 1, checkIntervalSec: 60 },
    });
    t.equal((await readyz(o.http))?.status, 200, 'ready to begin with');

    remount(mount.dir, 'ro');
    const ro = await readyzUntil(o.http, (p) => p.status === 503, 3000, '503 on a read-only dataDir');
    t.same(failing(ro), ['dataDir'], `503 ${ro.afterMs} ms after the remount, naming dataDir only`);
    t.match(ro.body.checks.dataDir.error, /EROFS|read-only/i);
    remount(mount.dir, 'rw');
    t.ok((await readyzUntil(o.http, (p) => p.status === 200, 3000, '200 once writable again')).afterMs < 3000);

    const filler = join(mount.dir, 'filler.bin');
    writeFileSync(filler, Buffer.alloc(freeBytes(mount.dir) - (MIN_FREE_MB - 2) * MB, 0x5a));
    t.comment(`${(freeBytes(mount.dir) / MB).toFixed(1)} MB free, storage.minFreeMb ${MIN_FREE_MB}`);
    const full = await readyzUntil(o.http, (p) => p.status === 503, 3000, '503 on a full dataDir');
    t.same(failing(full), ['disk'], `503 ${full.afterMs} ms after filling, naming disk only (the guard polls every 60 s: readiness reads it fresh)`);
    t.match(full.body.checks.disk.error, /disk low: \d+\.\d MB free, storage\.minFreeMb is 8 MB/);
    unlinkSync(filler);
    await readyzUntil(o.http, (p) => p.status === 200, 3000, '200 once space is back');
  });

t.test('PostgreSQL: 503 naming database within 2 s of the server stopping, 200 again once it is back', async (t) => {
  const pg = await startPostgres();
  t.teardown(() => pg.stop());
  const o = await startOrigin({ database: { url: await pg.createDatabase('readiness') }, http2: { enabled: false } });
  t.teardown(() => o.close());
  const api = `http://127.0.0.1:${o.ports.api}`;
  t.equal((await readyz(o.http))?.status, 200);

  await pg.down();
  const down = await readyzUntil(o.http, (p) => p.status === 503, 2500, '503 with PostgreSQL down');
  t.ok(down.afterMs <= 2000, `503 ${down.afterMs} ms after the server stopped`);
  t.same(failing(down), ['database'], 'naming database only');
  t.ok(down.body.checks.database.error, `with the reason: ${down.body.checks.database.error}`);
  t.equal((await readyz(api))?.status, 503, 'the API port agrees');
  t.equal((await fetch(`${o.http}/healthz`)).status, 200, 'alive all the same');

  await pg.up();
  const up = await readyzUntil(o.http, (p) => p.status === 200, 5000, '200 with PostgreSQL back');
  t.comment(`200 ${up.afterMs} ms after the server answered again`);
});
