/**
 * The flusher on a real SQLite database: pending minute rows written in one go and merged with
 * what is there, a failed write kept for the next flush (nothing lost, nothing doubled), the
 * live CCU at each sample, and the retention sweep.
 */
import t from 'tap';
import { openDatabase } from '../../../src/db/index.js';
import type { AnalyticsRepository } from '../../../src/db/repository.js';
import { AnalyticsFlusher } from '../../../src/analytics/analytics-flusher.js';
import { MinuteAggregator, MINUTE_MS } from '../../../src/analytics/minute-aggregator.js';
import { silentLogger } from '../../../src/log.js';
import { ManualClock } from '../../helpers/manual-clock.js';

const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);
const slice = { mode: 'live' as const, rendition: 'source', protocol: 'h1', player: 'browser', latencyMode: 'ultra-low' };

t.test('rows written, a failed write retried with the next, live CCU replaced, old minutes swept', async (t) => {
  const db = await openDatabase('sqlite::memory:');
  t.teardown(() => db.close());
  const clock = new ManualClock(T0 + 90 * 86_400_000);
  // The real repository, whose next write can be made to fail (the database going away for a moment).
  let failNext = false;
  const real = db.analytics;
  const store: AnalyticsRepository = {
    addMinutes: (origin, rows) => {
      if (!failNext) return real.addMinutes(origin, rows);
      failNext = false;
      return Promise.reject(new Error('database away'));
    },
    minutes: real.minutes.bind(real), minutesOfAll: real.minutesOfAll.bind(real), putLive: real.putLive.bind(real), live: real.live.bind(real), deleteBefore: real.deleteBefore.bind(real),
  };
  const aggregator = new MinuteAggregator();
  const flusher = new AnalyticsFlusher({ aggregator, store, originId: 'o1', flushIntervalMs: 1000, retentionDays: 90, logger: silentLogger(), now: clock.read });
  const now = clock.now;
  // A row older than the retention.
  aggregator.watch('news', T0 - MINUTE_MS, T0 - MINUTE_MS + 1000, slice);
  await db.analytics.addMinutes('o1', aggregator.take());

  aggregator.watch('news', now, now + 30_000, slice);
  aggregator.view('news', now + 10_000);
  failNext = true;
  await flusher.flush();
  t.equal(aggregator.size, 1, 'the refused row waits for the next flush');
  aggregator.watch('news', now + 30_000, now + 40_000, slice);
  await flusher.flush();
  t.equal(aggregator.size, 0);
  const [row] = await db.analytics.minutes('news', now, now + MINUTE_MS);
  t.same([row.watchMs.live, row.views, row.dims.rendition], [40_000, 1, { source: 40_000 }], 'both deltas, once each');
  aggregator.watch('news', now + 40_000, now + 45_000, slice);
  await flusher.flush();
  t.equal((await db.analytics.minutes('news', now, now + MINUTE_MS))[0].watchMs.live, 45_000, 'a late slice of a written minute adds to it');
  t.same(await db.analytics.minutes('news', T0 - MINUTE_MS, T0), [], 'the first flush swept the rows past retention');

  flusher.samples([{ channel: 'news', atMs: now, ccu: 7 }]);
  flusher.samples([{ channel: 'news', atMs: now + 10_000, ccu: 5 }]);
  await flusher.flush();
  t.same(await db.analytics.live(now), [{ channelId: 'news', ccu: 5, origins: 1, sampledAt: now + 10_000 }], 'the latest sample replaces the one before');
  await flusher.stop();
});
