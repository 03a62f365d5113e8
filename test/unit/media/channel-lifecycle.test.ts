/** The session lifecycle of a channel: preview, start, reconnect, stop, end, and the events each emits. */
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { Channel } from '../../../src/media/channel.js';
import { latencyProfile } from '../../../src/media/latency-profile.js';
import { silentLogger } from '../../../src/log.js';
import { EventBus, type OriginEventName } from '../../../src/events.js';
import { TRACKS } from '../../helpers/fake-channel.js';
import { waitUntil } from '../../helpers/wait.js';

function channel(o: { autoStart: boolean; reconnectWindowMs?: number }) {
  const events = new EventBus();
  const seen: { name: OriginEventName; payload: Record<string, unknown> }[] = [];
  events.onAny((name, payload) => seen.push({ name, payload: payload as Record<string, unknown> }));
  let idle = 0;
  const ch = new Channel({
    id: 'life', reconnectWindowMs: o.reconnectWindowMs ?? 150, endedRetentionMs: 100, logger: silentLogger(), events,
    autoStart: () => o.autoStart, onIdle: () => idle++,
    profile: latencyProfile('ultra-low', { segmentTargetSec: 2, partTargetSec: 0.2, playlistWindowSec: 20, minSegments: 6 }),
    createPipeline: () => ({ write: () => true, close: async () => {} }),
  });
  return { ch, seen, names: () => seen.map((e) => e.name), idleCount: () => idle };
}

t.test('auto-start: preview then live at once; leaving and not coming back ends the session, then idle', async (t) => {
  const { ch, seen, names, idleCount } = channel({ autoStart: true });
  const pub = ch.startPublication('10.0.0.7');
  pub.setTracks(TRACKS);
  t.equal(ch.state, 'live');
  t.notOk(ch.inPreview);
  t.same(names(), ['channel.preview', 'channel.live']);
  const sessionId = ch.sessionInfo!.id;
  t.match(sessionId, /^ses_/);
  t.same(seen[0].payload, { channel: 'life', sessionId, remoteAddress: '10.0.0.7' });
  t.same(seen[1].payload, { channel: 'life', sessionId, startedBy: 'auto' });
  await pub.finish('socket closed');
  t.equal(ch.state, 'reconnecting');
  // Polled, not slept: a loaded machine runs timers late, and ended lasts only endedRetentionMs.
  await waitUntil(() => ch.state !== 'reconnecting', 5000, 'the end of the reconnect window');
  t.same(names(), ['channel.preview', 'channel.live', 'channel.ended']);
  t.match(seen[2].payload, { channel: 'life', sessionId, reason: /did not come back/ });
  await waitUntil(() => ch.state === 'idle', 5000, 'idle');
  t.equal(ch.sessionInfo, undefined);
  t.equal(idleCount(), 1);
  await ch.close();
});

t.test('manual start: preview until start(); only then channel.live, and only once', async (t) => {
  const { ch, seen, names } = channel({ autoStart: false });
  const pub = ch.startPublication('10.0.0.8');
  pub.setTracks(TRACKS);
  t.equal(ch.state, 'preview');
  t.ok(ch.inPreview);
  t.same(names(), ['channel.preview']);
  t.ok(ch.start('api'));
  t.equal(ch.state, 'live');
  t.notOk(ch.inPreview);
  t.notOk(ch.start('api'), 'a second start changes nothing');
  t.same(names(), ['channel.preview', 'channel.live']);
  t.same(seen[1].payload, { channel: 'life', sessionId: ch.sessionInfo!.id, startedBy: 'api' });
  await ch.close();
});

t.test('a reconnect within the window continues the session: channel.reconnected, same session id, same start state', async (t) => {
  const { ch, seen, names } = channel({ autoStart: false, reconnectWindowMs: 1000 });
  const first = ch.startPublication('10.0.0.9');
  first.setTracks(TRACKS);
  const sessionId = ch.sessionInfo!.id;
  await first.finish('network drop');
  t.equal(ch.state, 'reconnecting');
  t.ok(ch.inPreview, 'still preview-only while waiting for an unstarted session');
  await sleep(30);
  const second = ch.startPublication('10.0.0.10');
  second.setTracks(TRACKS);
  t.equal(ch.state, 'preview', 'back to preview: nobody started it');
  t.equal(ch.sessionInfo!.id, sessionId);
  t.same(names(), ['channel.preview', 'channel.reconnected']);
  const rec = seen[1].payload;
  t.equal(rec.sessionId, sessionId);
  t.equal(rec.remoteAddress, '10.0.0.10');
  t.ok((rec.gapMs as number) >= 25 && (rec.gapMs as number) < 1000, `gapMs ${rec.gapMs}`);
  await ch.close();
});

t.test('stop(): the publisher is disconnected, the playlist ends at once, no reconnect window; a new publish is a new session', async (t) => {
  const { ch, seen, names } = channel({ autoStart: true, reconnectWindowMs: 60_000 });
  const disconnects: string[] = [];
  const pub = ch.startPublication('10.0.0.11', (reason) => disconnects.push(reason));
  pub.setTracks(TRACKS);
  const sessionId = ch.sessionInfo!.id;
  t.ok(await ch.stop());
  t.same(disconnects, ['stopped by an operator']);
  t.ok(pub.closed);
  t.equal(ch.state, 'ended');
  t.same(names(), ['channel.preview', 'channel.live', 'channel.ended']);
  t.same(seen[2].payload, { channel: 'life', sessionId, reason: 'stopped by an operator' });
  t.notOk(await ch.stop(), 'nothing left to stop');
  const again = ch.startPublication('10.0.0.11');
  again.setTracks(TRACKS);
  t.not(ch.sessionInfo!.id, sessionId, 'a publish after a stop starts a new session');
  t.same(names().slice(3), ['channel.preview', 'channel.live']);
  await ch.close();
});

t.test('start() and stop() on an idle channel do nothing', async (t) => {
  const { ch, names } = channel({ autoStart: false });
  t.notOk(ch.start('api'));
  t.notOk(await ch.stop());
  t.equal(ch.state, 'idle');
  t.same(names(), []);
  await ch.close();
});
