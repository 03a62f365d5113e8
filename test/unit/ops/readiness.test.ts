import t from 'tap';
import { Readiness, readinessBody, type ReadinessCheck } from '../../../src/ops/readiness.js';
import { captureLogs } from '../../helpers/log-capture.js';
import { ManualClock } from '../../helpers/manual-clock.js';

/** A check the test drives: counts its runs, fails while `failing` is set, can be held open. */
class DrivenCheck implements ReadinessCheck {
  runs = 0;
  failing: string | undefined;
  hold: Promise<void> | undefined;
  constructor(readonly name: string) {}
  async run(): Promise<void> {
    this.runs++;
    await this.hold;
    if (this.failing) throw new Error(this.failing);
  }
}

function setup(checkTimeoutMs = 1000) {
  const clock = new ManualClock(1_000_000);
  const logs = captureLogs();
  const db = new DrivenCheck('database'), rtmp = new DrivenCheck('rtmp');
  const readiness = new Readiness({ checks: [rtmp, db], logger: logs.logger, now: clock.read, checkTimeoutMs });
  return { clock, logs, db, rtmp, readiness };
}

t.test('ready when every check passes; otherwise not, naming each failing check with its reason', async (t) => {
  const { readiness, db } = setup();
  t.same(await readiness.probe(), { ready: true, checks: { rtmp: { ok: true }, database: { ok: true } } });
  const s = setup();
  s.db.failing = 'connect ECONNREFUSED 127.0.0.1:5432';
  const report = await s.readiness.probe();
  t.same(report, { ready: false, checks: { rtmp: { ok: true }, database: { ok: false, error: 'connect ECONNREFUSED 127.0.0.1:5432' } } });
  t.same(readinessBody(report), { status: 503, body: { status: 'not ready', checks: report.checks } });
  t.equal(readinessBody(await readiness.probe()).status, 200);
  t.equal(db.runs, 1);
});

t.test('a probe is reused for up to 1 s, measured from when it started; then the checks run again', async (t) => {
  const { readiness, db, clock } = setup();
  await readiness.probe();
  clock.advance(999);
  db.failing = 'down';
  t.equal((await readiness.probe()).ready, true, 'within 1 s: the cached answer');
  t.equal(db.runs, 1, 'no second database round trip');
  clock.advance(1);
  t.equal((await readiness.probe()).ready, false, 'at 1 s: probed again');
  t.equal(db.runs, 2);
});

t.test('a longer maxAgeMs is capped at 1 s', async (t) => {
  const clock = new ManualClock(0);
  const check = new DrivenCheck('disk');
  const readiness = new Readiness({ checks: [check], logger: captureLogs().logger, now: clock.read, maxAgeMs: 60_000 });
  await readiness.probe();
  clock.advance(1000);
  await readiness.probe();
  t.equal(check.runs, 2);
});

t.test('concurrent callers share the probe in flight', async (t) => {
  const { readiness, db, rtmp } = setup();
  let release!: () => void;
  db.hold = new Promise((r) => { release = r; });
  const callers = Array.from({ length: 5 }, () => readiness.probe());
  await new Promise((r) => setImmediate(r));
  t.equal(db.runs, 1, 'one run for five callers');
  release();
  const reports = await Promise.all(callers);
  t.ok(reports.every((r) => r.ready));
  t.equal(rtmp.runs, 1);
});

t.test('a check that does not answer in time fails the probe instead of hanging it', async (t) => {
  const { readiness, db } = setup(50);
  db.hold = new Promise(() => {});
  const started = Date.now();
  const report = await readiness.probe();
  t.ok(Date.now() - started < 1000, 'answered promptly');
  t.same(report.checks.database, { ok: false, error: 'no answer within 50 ms' });
  t.same(report.checks.rtmp, { ok: true });
});

t.test('shutting down: not ready from the next probe on, even with a ready answer cached', async (t) => {
  const { readiness, db } = setup();
  t.equal((await readiness.probe()).ready, true);
  t.notOk(readiness.shuttingDown);
  readiness.markShuttingDown('SIGTERM received: draining');
  const report = await readiness.probe();
  t.equal(report.ready, false);
  t.same(report.checks.shutdown, { ok: false, error: 'SIGTERM received: draining' });
  t.same(report.checks.database, { ok: true }, 'the other checks are still reported');
  t.equal(db.runs, 1, 'it did not wait for a fresh probe');
  t.ok(readiness.shuttingDown);
});

t.test('one log line per change of readiness (or of the failing checks), none per probe', async (t) => {
  const { readiness, db, rtmp, clock, logs } = setup();
  const probeFor = async (n: number) => { for (let i = 0; i < n; i++) { clock.advance(1000); await readiness.probe(); } };
  rtmp.failing = 'not listening yet';
  await probeFor(3);
  rtmp.failing = undefined;
  await probeFor(3);
  db.failing = 'connect ECONNREFUSED';
  await probeFor(2);
  rtmp.failing = 'connect ECONNREFUSED';
  await probeFor(2);
  db.failing = rtmp.failing = undefined;
  await probeFor(3);
  const lines = logs.lines.map((l) => ({ level: l.level, msg: l.msg, failing: l.failing, reason: l.reason }));
  t.same(lines, [
    { level: 30, msg: 'not ready', failing: { rtmp: 'not listening yet' }, reason: 'failing checks: rtmp' },
    { level: 30, msg: 'ready', failing: undefined, reason: 'every check passes again' },
    { level: 40, msg: 'not ready', failing: { database: 'connect ECONNREFUSED' }, reason: 'failing checks: database' },
    { level: 40, msg: 'not ready', failing: { rtmp: 'connect ECONNREFUSED', database: 'connect ECONNREFUSED' }, reason: 'failing checks: rtmp,database' },
    { level: 30, msg: 'ready', failing: undefined, reason: 'every check passes again' },
  ]);
});
