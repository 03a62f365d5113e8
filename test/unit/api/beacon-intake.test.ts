import t from 'tap';
import { BeaconIntake } from '../../../src/api/beacon-intake.js';
import { SessionIds } from '../../../src/analytics/session-key.js';
import { PlaybackTokens } from '../../../src/delivery/access/playback-tokens.js';

t.test('an address sending refused beacons is refused outright for the rest of its minute; others go on', async (t) => {
  let now = Date.UTC(2026, 0, 1);
  const key = Buffer.alloc(32, 9);
  const sessionIds = new SessionIds(key);
  const counted: string[] = [];
  const intake = new BeaconIntake({
    serves: (id) => id === 'news', sessionIds, tokens: new PlaybackTokens(key), now: () => now, badPerAddressPerMinute: 3,
    sink: { touch: () => undefined, beacon: (b) => { counted.push(b.sessionKey); } },
  });
  const good = { sid: sessionIds.mint('news'), channel: 'news', event: 'play' as const };
  for (let i = 0; i < 3; i++) t.match(await intake.accept({ ...good, sid: 'forged' }, '10.0.0.1'), { code: 'SESSION_UNKNOWN' });
  now += 15_000;
  t.same(await intake.accept(good, '10.0.0.1'), { code: 'TOO_MANY_BAD_BEACONS', retryAfterSec: 45 }, 'even a good beacon, until the minute ends');
  t.equal(await intake.accept(good, '10.0.0.2'), undefined, 'another address is not affected');
  now += 45_000;
  t.equal(await intake.accept(good, '10.0.0.1'), undefined, 'the next minute');
  t.same(counted, [good.sid, good.sid]);
  t.match(await intake.accept({ ...good, channel: 'sport' }, '10.0.0.3'), { code: 'CHANNEL_NOT_FOUND' });
});
