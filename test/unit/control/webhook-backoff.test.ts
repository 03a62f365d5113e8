/** The retry schedule: exponential, jittered downwards only, capped, and given up at the horizon. */
import t from 'tap';
import { nextRetryAt, nominalRetryDelayMs, retryDelayMs, retrySchedule } from '../../../src/control/webhooks/backoff.js';

const MIN = 60_000, HOUR = 3_600_000;

t.test('30 s · 2^(n−1), capped at 1 h', async (t) => {
  t.same([1, 2, 3, 4, 5, 6, 7, 8, 9, 30, 1000].map(nominalRetryDelayMs),
    [30_000, MIN, 2 * MIN, 4 * MIN, 8 * MIN, 16 * MIN, 32 * MIN, HOUR, HOUR, HOUR, HOUR]);
});

t.test('jitter shortens a wait by up to 20 %, never lengthens it', async (t) => {
  t.equal(retryDelayMs(3, () => 0), 2 * MIN);
  t.equal(retryDelayMs(3, () => 0.5), 0.9 * 2 * MIN);
  t.equal(retryDelayMs(20, () => 0.999999), Math.round(HOUR * (1 - 0.2 * 0.999999)));
  for (let i = 0; i < 1000; i++) {
    const n = 1 + (i % 12);
    const d = retryDelayMs(n);
    if (d > nominalRetryDelayMs(n) || d <= 0.8 * nominalRetryDelayMs(n) - 1) t.fail(`attempt ${n}: ${d} ms`);
  }
  const spread = new Set(Array.from({ length: 50 }, () => retryDelayMs(8)));
  t.ok(spread.size > 40, `Math.random spreads the waits (${spread.size} distinct of 50)`);
});

t.test('nextRetryAt: from the failure, null once past the event time + horizon', async (t) => {
  const r = { occurredAt: 1_000_000, retryForMs: 24 * HOUR, random: () => 0 };
  t.equal(nextRetryAt({ ...r, attempt: 1, failedAt: 1_000_500 }), 1_030_500);
  t.equal(nextRetryAt({ ...r, attempt: 30, failedAt: 1_000_000 + 23 * HOUR }), 1_000_000 + 24 * HOUR, 'exactly at the horizon: still tried');
  t.equal(nextRetryAt({ ...r, attempt: 30, failedAt: 1_000_001 + 23 * HOUR }), null, 'one ms past it: given up');
  t.equal(nextRetryAt({ ...r, attempt: 1, failedAt: 1_000_000 + 25 * HOUR }), null, 'a (re)delivery after the horizon gets no retry');
});

t.test('the nominal schedule over 25 h (the default): 31 attempts, hourly after the 8th, none past 25 h', async (t) => {
  const times = retrySchedule(25 * HOUR);
  t.same(times.slice(0, 9), [0, 30_000, 90_000, 210_000, 450_000, 930_000, 1_890_000, 3_810_000, 7_410_000]);
  t.equal(times.length, 31);
  t.equal(times[times.length - 1], 3_810_000 + 23 * HOUR, 'the last at 24 h 03 min 30 s');
  t.ok(times.every((at, i) => i === 0 || at > times[i - 1]));
  t.equal(retrySchedule(24 * HOUR).length, 30, 'the 24 h minimum: one fewer');
});
