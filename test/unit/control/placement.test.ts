/**
 * ChannelPlacement on a real (in-memory SQLite) repository and a hand-moved clock: the lease is
 * taken when a publisher is accepted here and given up when its session ends; `elsewhere()`
 * names another origin only while its lease runs and no session of the channel is on here.
 */
import t, { type Test } from 'tap';
import { ChannelPlacement } from '../../../src/control/placement.js';
import { openDatabase } from '../../../src/db/index.js';
import { EventBus } from '../../../src/events.js';
import { silentLogger } from '../../../src/log.js';

const settle = () => new Promise((r) => setTimeout(r, 20));

/** Origin `originId`'s placement on a fresh in-memory database, its clock moved by hand and its channels' sessions in `local`. */
async function placementOn(t: Test, originId: string, leaseMs: number) {
  const db = await openDatabase('sqlite::memory:');
  t.teardown(() => db.close());
  const clock = { now: 1_000_000 };
  const events = new EventBus();
  const local = new Set<string>();
  const here = new ChannelPlacement({ repo: db.placements, originId, originUrl: `http://${originId}:8080`, leaseMs, events,
    channels: { publishing: (id) => local.has(id) }, logger: silentLogger(), now: () => clock.now });
  await here.start();
  t.teardown(() => here.close());
  return { db, clock, events, local, here };
}

t.test('the lease follows the publisher; elsewhere() names the other origin only while its lease runs and nothing is on here', async (t) => {
  const { db, clock, events, local, here } = await placementOn(t, 'a', 10_000);

  // Another origin holds "news": this one relays it.
  await db.placements.claim({ channelId: 'news', originId: 'b', originUrl: 'http://b:8080', expiresAt: clock.now + 10_000 }, clock.now);
  t.equal(here.elsewhere('news'), undefined, 'not known before the notice');
  await here.changed('news');
  t.equal(here.elsewhere('news'), 'http://b:8080', 'the notice read: relayed to B');
  local.add('news');
  t.equal(here.elsewhere('news'), undefined, 'a session of the channel here is served here');
  local.delete('news');
  clock.now += 10_001;
  t.equal(here.elsewhere('news'), undefined, 'B\'s lease ran out (B died): served here');

  // A publisher here: the lease is taken (B's has expired), and given up when the session ends.
  local.add('news');
  events.emit('channel.preview', { channel: 'news', sessionId: 's1', remoteAddress: '10.0.0.1' });
  await settle();
  t.match(await db.placements.get('news'), { originId: 'a', originUrl: 'http://a:8080', expiresAt: clock.now + 10_000 }, 'taken at the publisher');
  t.equal(here.placement('news')?.originId, 'a');
  local.delete('news');
  events.emit('channel.ended', { channel: 'news', sessionId: 's1', reason: 'publisher left' });
  await settle();
  t.equal(await db.placements.get('news'), undefined, 'given up when the session ended');

  // A publisher here while B holds an unexpired lease: B keeps it, this origin says so and serves its own.
  await db.placements.claim({ channelId: 'sport', originId: 'b', originUrl: 'http://b:8080', expiresAt: clock.now + 10_000 }, clock.now);
  local.add('sport');
  events.emit('channel.preview', { channel: 'sport', sessionId: 's2', remoteAddress: '10.0.0.1' });
  await settle();
  t.equal((await db.placements.get('sport'))?.originId, 'b', 'an unexpired lease stays with its holder');
  t.equal(here.elsewhere('sport'), undefined, 'the session here is served here');
});

t.test('a claim lost to a live lease is tried again at each heartbeat, also after that owner was forgotten as unreachable', async (t) => {
  const { db, clock, events, local, here } = await placementOn(t, 'b', 3000);
  // A holds "move", then dies: its lease still runs; a relayed request finds it unreachable.
  await db.placements.claim({ channelId: 'move', originId: 'a', originUrl: 'http://a:8080', expiresAt: clock.now + 3000 }, clock.now);
  await here.changed('move');
  here.lost('move', 'http://a:8080');
  // The encoder comes back here: A's lease has not run out yet, so the claim loses.
  local.add('move');
  events.emit('channel.reconnected', { channel: 'move', sessionId: 's1', remoteAddress: '10.0.0.1', gapMs: 500 });
  await settle();
  t.equal((await db.placements.get('move'))?.originId, 'a', 'the unexpired lease stays with A');
  clock.now += 3001;
  await new Promise((r) => setTimeout(r, 1300)); // one heartbeat (a third of the lease, at least 1 s)
  t.equal((await db.placements.get('move'))?.originId, 'b', 'once it ran out, the next heartbeat takes it');
  t.equal(here.placement('move')?.originId, 'b', 'and every origin is told so');
});
