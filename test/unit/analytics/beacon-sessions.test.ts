import t from 'tap';
import { MinuteAggregator } from '../../../src/analytics/minute-aggregator.js';
import { BEACON_SESSION_TIMEOUT_MS, ViewerSessions } from '../../../src/analytics/viewer-sessions.js';
import type { ViewerBeacon, ViewerTouch } from '../../../src/analytics/viewer-events.js';

/** Sessions fed by beacons every 10 s outlive an LL channel's 6-s timeout; the ones fed by requests do not. */

const T0 = Date.UTC(2026, 11, 6, 12);
const sessions = () => new ViewerSessions({ aggregator: new MinuteAggregator(), viewAfterMs: 10_000,
  timingOf: () => ({ latencyMode: 'ultra-low', timeoutMs: 6000 }) });
const beacon = (event: ViewerBeacon['event'], atMs: number, sessionKey = 'sid-a'): ViewerBeacon =>
  ({ channel: 'news', sessionKey, keySource: 'sid', event, atMs });
const touch = (atMs: number, sessionKey = 'sid-b'): ViewerTouch =>
  ({ channel: 'news', sessionKey, keySource: 'sid', mode: 'live', protocol: 'h1', player: 'browser', atMs });

t.test('a beacon-only session (behind a CDN) lives between heartbeats, and 25 s after the last', async (t) => {
  const s = sessions();
  s.beacon(beacon('play', T0));
  for (let at = T0 + 10_000; at <= T0 + 60_000; at += 10_000) {
    t.equal(s.openSessions(at - 1).get('news'), 1, `open just before the heartbeat at +${(at - T0) / 1000} s`);
    t.equal(s.tick(at - 1).get('news'), 1);
    s.beacon(beacon('heartbeat', at));
  }
  t.equal(s.size, 1, 'one session all along, not one per heartbeat');
  t.equal(s.tick(T0 + 60_000 + BEACON_SESSION_TIMEOUT_MS).get('news'), 1, 'still open at 25 s without news');
  t.equal(s.tick(T0 + 60_000 + BEACON_SESSION_TIMEOUT_MS + 1).get('news'), 0, 'ended after');
});

t.test('a session seen only through requests keeps the channel\'s timeout', async (t) => {
  const s = sessions();
  s.touch(touch(T0));
  t.equal(s.tick(T0 + 6000).get('news'), 1);
  t.equal(s.tick(T0 + 6001).get('news'), 0);
});

t.test('an end beacon closes at once, whatever the timeout', async (t) => {
  const s = sessions();
  s.beacon(beacon('play', T0));
  s.beacon(beacon('end', T0 + 20_000));
  t.equal(s.openSessions(T0 + 20_001).get('news'), 0);
});
