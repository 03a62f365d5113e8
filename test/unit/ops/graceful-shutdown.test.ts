import t from 'tap';
import { GracefulShutdown } from '../../../src/ops/graceful-shutdown.js';
import { captureLogs } from '../../helpers/log-capture.js';

/** A shutdown over recorded steps: what happened, in order, with the time since begin(). */
function setup(drainMs: number) {
  const steps: { step: string; atMs: number }[] = [];
  let t0 = 0;
  const at = (step: string) => steps.push({ step, atMs: Date.now() - t0 });
  const logs = captureLogs();
  const shutdown = new GracefulShutdown({
    drainMs, logger: logs.logger,
    readiness: { markShuttingDown: (reason) => at(`not ready: ${reason}`) },
    close: async () => { at('close'); },
  });
  return { steps, logs, shutdown, begin: (signal: string) => { t0 = Date.now(); return shutdown.begin(signal); } };
}

t.test('SIGTERM: not ready at once, closes only after the drain, one log line per step', async (t) => {
  const s = setup(300);
  await s.begin('SIGTERM');
  t.same(s.steps.map((x) => x.step), ['not ready: SIGTERM received: draining', 'close']);
  t.ok(s.steps[0].atMs < 50, 'readiness turned at once');
  t.ok(s.steps[1].atMs >= 290, `closed after the drain (${s.steps[1].atMs} ms)`);
  t.same(s.logs.lines.map((l) => l.msg), ['shutting down: not ready, draining', 'closing', 'shut down']);
  t.match(s.logs.lines[0], { signal: 'SIGTERM', drainSec: 0.3, reason: 'SIGTERM received' });
});

t.test('drainSec 0: closes at once', async (t) => {
  const s = setup(0);
  await s.begin('SIGTERM');
  t.ok(s.steps[1].atMs < 100);
});

t.test('a second signal cuts the drain short; every caller gets the same completion', async (t) => {
  const s = setup(60_000);
  const first = s.begin('SIGTERM');
  await new Promise((r) => setTimeout(r, 50));
  const second = s.shutdown.begin('SIGINT');
  await Promise.all([first, second]);
  t.same(s.steps.map((x) => x.step), ['not ready: SIGTERM received: draining', 'close'], 'marked and closed once');
  t.ok(s.steps[1].atMs < 1000, 'without waiting for the 60 s drain');
  t.ok(s.logs.lines.some((l) => l.msg === 'drain cut short: closing now' && l.signal === 'SIGINT'));
});
