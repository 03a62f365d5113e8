/**
 * The session table on a manual clock: timeouts per latency mode, views after N s, watch time
 * per minute and mode, uniques per UTC day, beacons (pause, end, rebuffer), and one viewer's
 * playlist and part requests making one session.
 */
import t from 'tap';
import { ManualClock } from '../../helpers/manual-clock.js';
import { MinuteAggregator, MINUTE_MS, type MinuteFigures } from '../../../src/analytics/minute-aggregator.js';
import { ViewerSessions, DVR_HOLD_MS } from '../../../src/analytics/viewer-sessions.js';
import { CcuSampler } from '../../../src/analytics/ccu-sampler.js';
import { sessionTimeoutMs } from '../../../src/analytics/viewer-analytics.js';
import type { ViewerTouch } from '../../../src/analytics/viewer-events.js';

/** A minute boundary, so minute attribution is easy to read. */
const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);

function setup(timeouts: Record<string, number> = { live1: 6000, calm: 30_000 }, viewAfterSec = 10) {
  const clock = new ManualClock(T0);
  const aggregator = new MinuteAggregator();
  const sessions = new ViewerSessions({
    aggregator, viewAfterMs: viewAfterSec * 1000,
    timingOf: (id) => (timeouts[id] === undefined ? undefined : { latencyMode: id === 'calm' ? 'normal' : 'ultra-low', timeoutMs: timeouts[id] }),
  });
  const sampler = new CcuSampler(sessions, aggregator, clock.read);
  const touch = (key: string, o: Partial<ViewerTouch> = {}) => sessions.touch({
    channel: 'live1', sessionKey: key, keySource: 'sid', mode: 'live', protocol: 'h1', player: 'browser', atMs: clock.now, rendition: 'source', ...o,
  });
  /** Every pending minute row summed per channel (a test reads totals). */
  const totals = (rows: MinuteFigures[], channel = 'live1') => rows.filter((r) => r.channel === channel).reduce((a, r) => ({
    sessions: a.sessions + r.sessions, views: a.views + r.views, uniques: a.uniques + r.newUniques,
    live: a.live + r.watchMs.live, dvr: a.dvr + r.watchMs.dvr, catchup: a.catchup + r.watchMs.catchup,
    play: a.play + r.beaconPlayMs, rebuffer: a.rebuffer + r.rebufferMs,
  }), { sessions: 0, views: 0, uniques: 0, live: 0, dvr: 0, catchup: 0, play: 0, rebuffer: 0 });
  return { clock, aggregator, sessions, sampler, touch, totals };
}

/** A viewer polling every `everyMs` from now for `forMs`, sampling at each 10 s boundary on the way. */
function watch(s: ReturnType<typeof setup>, keys: string[], forMs: number, everyMs = 500, o: Partial<ViewerTouch> = {}): number[] {
  const ccu: number[] = [];
  const end = s.clock.now + forMs;
  while (s.clock.now < end) {
    for (const k of keys) s.touch(k, o);
    const next = s.clock.now + everyMs;
    const boundary = Math.ceil((s.clock.now + 1) / 10_000) * 10_000;
    if (boundary <= next) { s.clock.now = boundary; ccu.push(s.sampler.sample().find((x) => x.channel === 'live1')?.ccu ?? 0); }
    s.clock.now = next;
  }
  return ccu;
}

t.test('timeouts follow the latency mode: 3 × TD, at least 6 s, at least 30 s for normal, or configured', async (t) => {
  t.equal(sessionTimeoutMs('ultra-low', 2), 6000);
  t.equal(sessionTimeoutMs('low', 4), 12_000);
  t.equal(sessionTimeoutMs('ultra-low', 1), 6000, 'never under 6 s');
  t.equal(sessionTimeoutMs('normal', 6), 30_000, 'normal: at least 30 s');
  t.equal(sessionTimeoutMs('normal', 12), 36_000);
  t.equal(sessionTimeoutMs('normal', 6, 45), 45_000, 'the configured value wins');
});

t.test('a session ends after its channel\'s timeout without a request, and leaves the CCU then', async (t) => {
  const s = setup();
  s.touch('a');
  s.touch('b', { channel: 'calm' });
  s.clock.advance(5_999);
  t.same(Object.fromEntries(s.sessions.tick(s.clock.now)), { live1: 1, calm: 1 }, 'within 6 s both are open');
  s.clock.advance(2);
  t.same(Object.fromEntries(s.sessions.tick(s.clock.now)), { live1: 0, calm: 1 }, 'the ultra-low session ends after 6 s, the normal one lives on');
  s.clock.advance(24_000);
  t.same(Object.fromEntries(s.sessions.tick(s.clock.now)), { live1: 0, calm: 0 }, 'the normal one after 30 s');
  s.touch('a');
  const rows = s.aggregator.take();
  t.equal(s.totals(rows).sessions, 2, 'a request after the timeout starts a new session');
  t.equal(s.totals(rows).uniques, 1, 'of the same viewer key: not a new unique viewer the same day');
});

t.test('CCU at every sample equals the viewers present; watch time is the time from first to last request', async (t) => {
  const s = setup();
  const ccu = [
    ...watch(s, ['a', 'b', 'c'], 30_000),
    ...watch(s, ['a', 'b'], 20_000), // c leaves
  ];
  // The first sample after c left (at +40 s, 9.5 s after its last request) has 2.
  t.same(ccu, [3, 3, 3, 2, 2]);
  s.clock.advance(10_000);
  s.sampler.sample();
  const rows = s.aggregator.take();
  const sum = s.totals(rows);
  // a, b: 50 s less the last poll interval; c: 30 s less one interval.
  t.equal(sum.live, 2 * 49_500 + 29_500);
  t.equal(sum.dvr + sum.catchup, 0);
  t.equal(sum.sessions, 3);
  t.equal(sum.views, 3, 'each watched ≥ 10 s');
  t.same(rows.map((r) => [r.minute - T0, r.ccuSamples, r.ccuMax]), [[0, 5, 3], [MINUTE_MS, 1, 0]], 'samples land in their minute');
  t.same(rows[0].dims, { rendition: { source: sum.live }, protocol: { h1: sum.live }, player: { browser: sum.live }, latencyMode: { 'ultra-low': sum.live } },
    'every slice of watch time by rendition, protocol, player and latency mode');
});

t.test('a channel whose viewers left is sampled as 0 for a minute, then not at all (no row reads as 0)', async (t) => {
  const s = setup();
  s.touch('a');
  const ccu: (number | undefined)[] = [];
  for (let i = 1; i <= 9; i++) {
    s.clock.now = T0 + i * 10_000;
    ccu.push(s.sampler.sample().find((x) => x.channel === 'live1')?.ccu);
  }
  t.same(ccu, [0, 0, 0, 0, 0, 0, undefined, undefined, undefined], 'its last request at +0 s: zeros until a minute after it');
  const rows = s.aggregator.take();
  t.same(rows.map((r) => [r.minute - T0, r.ccuSamples]), [[0, 5], [MINUTE_MS, 1]]);
});

t.test('watch time is split at minute boundaries', async (t) => {
  const s = setup();
  s.clock.now = T0 + 50_000;
  watch(s, ['a'], 20_000, 1000);
  s.sampler.sample(s.clock.now + 10_000);
  const rows = s.aggregator.take();
  t.same(rows.map((r) => [r.minute - T0, r.watchMs.live]), [[0, 10_000], [MINUTE_MS, 9000]]);
});

t.test('a view counts once a session has viewAfterSec of watch time; shorter sessions are sessions, not views', async (t) => {
  const s = setup();
  watch(s, ['short'], 9000);
  watch(s, ['long'], 12_000);
  s.clock.advance(20_000);
  s.sampler.sample();
  const sum = s.totals(s.aggregator.take());
  t.equal(sum.sessions, 2);
  t.equal(sum.views, 1);
});

t.test('modes: DVR while requests stay behind the edge, back to live after; catchup for the session', async (t) => {
  const s = setup();
  watch(s, ['a'], 10_000);
  watch(s, ['a'], 10_000, 500, { mode: 'dvr' });
  s.touch('c', { mode: 'catchup', sessionKey: 'c' });
  // Playlist requests say 'live' (they do not know the playhead): DVR holds while DVR requests come.
  const tDvrEnd = s.clock.now;
  watch(s, ['a', 'c'], DVR_HOLD_MS + 20_000);
  s.clock.advance(10_000);
  s.sampler.sample();
  const sum = s.totals(s.aggregator.take());
  t.ok(sum.dvr >= 10_000 + DVR_HOLD_MS - 10_000 && sum.dvr <= 10_000 + DVR_HOLD_MS + 10_000, `dvr ${sum.dvr}: from the first DVR request to the hold's end`);
  t.equal(sum.catchup, s.clock.now - 10_000 - tDvrEnd - 500, 'a catchup session is catchup all along');
  t.equal(sum.live + sum.dvr, 10_000 + 10_000 + DVR_HOLD_MS + 20_000 - 500, 'a\'s watch time, whatever the mode');
});

t.test('a mode or rendition change splits watch time at the request that changed it, not at the next tick', async (t) => {
  const s = setup();
  s.touch('a');
  s.clock.advance(3000);
  s.touch('a');
  s.clock.advance(4000);
  s.touch('a', { mode: 'dvr', rendition: '360p' }); // between two ticks
  s.clock.advance(2000);
  s.touch('a');
  s.clock.now = T0 + 10_000;
  s.sampler.sample();
  const [row] = s.aggregator.take();
  t.same([row.watchMs.live, row.watchMs.dvr], [7000, 2000]);
  t.same(row.dims.rendition, { source: 7000, '360p': 2000 });
});

t.test('unique viewers: one per viewer key per UTC day, whatever the sessions', async (t) => {
  const s = setup();
  s.touch('sid-1', { viewerKey: 'client-x' });
  s.touch('sid-2', { viewerKey: 'client-x' });
  s.touch('sid-3', { viewerKey: 'client-y' });
  s.touch('jti-1');
  let sum = s.totals(s.aggregator.take());
  t.same([sum.sessions, sum.uniques], [4, 3]);
  s.clock.now = Date.UTC(2026, 11, 7, 0, 0, 1);
  s.touch('sid-4', { viewerKey: 'client-x' });
  sum = s.totals(s.aggregator.take());
  t.same([sum.sessions, sum.uniques], [1, 1], 'the next UTC day counts the viewer again');
});

t.test('a sid session links its client: media requests through the fallback key find it, and nothing is counted twice', async (t) => {
  const s = setup();
  s.touch('sid-1', { viewerKey: 'fb-1' });
  t.equal(s.sessions.linked('live1', 'fb-1', s.clock.now), 'sid-1');
  t.equal(s.sessions.linked('live1', 'fb-2', s.clock.now), undefined);
  t.ok(s.sessions.has('live1', 'sid-1', s.clock.now));
  s.clock.advance(7000);
  t.equal(s.sessions.linked('live1', 'fb-1', s.clock.now), undefined, 'not past the timeout');
  t.notOk(s.sessions.has('live1', 'sid-1', s.clock.now));
});

t.test('beacons: pause stops watch time, play resumes it, end closes; rebuffer and play time accumulate', async (t) => {
  const s = setup({ live1: 30_000 });
  const beacon = (event: 'play' | 'heartbeat' | 'pause' | 'end', rebufferMs?: number) =>
    s.sessions.beacon({ channel: 'live1', sessionKey: 'p', keySource: 'sid', event, rebufferMs, atMs: s.clock.now, player: 'browser' });
  beacon('play');
  watch(s, ['p'], 10_000, 1000);
  beacon('heartbeat', 500);
  beacon('pause');
  watch(s, ['p'], 10_000, 1000); // hls.js reloads the live playlist while paused
  beacon('play');
  watch(s, ['p'], 10_000, 1000);
  beacon('heartbeat', 1500);
  beacon('end');
  const endAt = s.clock.now;
  s.touch('p'); // a trailing request after the end starts nothing
  s.clock.advance(10_000);
  t.same(Object.fromEntries(s.sessions.tick(s.clock.now)), { live1: 0 }, 'ended at once, not after the timeout');
  const sum = s.totals(s.aggregator.take());
  t.equal(sum.sessions, 1);
  t.equal(sum.live, 20_000, '30 s of requests, 10 of them paused');
  t.equal(sum.play, 20_000, 'beacon play time: between beacons, not while paused');
  t.equal(sum.rebuffer, 2000);
  t.ok(endAt > 0);
});
