/**
 * Publishing to channels the API creates: stream keys from the database (digests only),
 * allow-lists, the preview ▶ live ▶ ended lifecycle with ffmpeg as the publisher, and an
 * operator's stop ending the publisher's connection.
 */
import t from 'tap';
import { once } from 'node:events';
import { startOrigin, waitUntil, type RunningOrigin } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { definitionOf } from '../../src/control/channel-definition.js';
import type { ChannelInput } from '../../src/db/index.js';
import type { OriginEventName } from '../../src/events.js';

async function apiChannel(o: RunningOrigin, input: ChannelInput, secret: string) {
  const db = o.origin.db!;
  const record = await db.channels.create(input);
  const key = await db.streamKeys.create({ channelId: record.id, keyHash: o.origin.keys!.streamKeys.digest(secret), hint: secret.slice(-4) });
  await o.origin.channels.define(definitionOf(record));
  return { record, key };
}

function recordEvents(o: RunningOrigin) {
  const seen: { name: OriginEventName; payload: Record<string, unknown> }[] = [];
  o.origin.events.onAny((name, payload) => seen.push({ name, payload: payload as Record<string, unknown> }));
  return seen;
}

t.test('a database stream key publishes; preview until started; revoked keys and unknown keys are refused', async (t) => {
  const o = await startOrigin({ channels: [] });
  t.teardown(() => o.close());
  const seen = recordEvents(o);
  const secret = 'sk_dbkey_5e1f7a2b9c';
  const { key } = await apiChannel(o, { id: 'studio', name: 'Studio', autoStart: false }, secret);
  const p = startPublisher(o.rtmp(secret), { fps: 30, gop: 30 });
  t.teardown(() => stopPublisher(p));
  const ch = o.origin.channels.get('studio')!;
  await waitUntil(() => ch.state === 'preview' && ch.rendition() !== undefined, 20_000, 'the session in preview');
  t.same(seen.map((e) => e.name), ['channel.preview']);
  t.equal(seen[0].payload.remoteAddress, '127.0.0.1');
  await waitUntil(async () => (await o.origin.db!.streamKeys.get(key.id))?.lastUsedAt, 5000, 'the key marked used');
  t.ok(ch.start('api'));
  t.equal(ch.state, 'live');
  t.same(seen.map((e) => e.name), ['channel.preview', 'channel.live']);
  t.match(seen[1].payload, { channel: 'studio', startedBy: 'api', sessionId: seen[0].payload.sessionId });
  await waitUntil(async () => (await fetch(`${o.http}/live/studio/index.m3u8`)).status === 200, 10_000, 'the multivariant playlist');

  // A second publisher with the same key while the first is on: refused.
  const second = startPublisher(o.rtmp(secret), { fps: 30, gop: 30 });
  const [code] = await once(second, 'exit');
  t.not(code, 0, 'the second publisher is refused');

  t.ok(await o.origin.db!.streamKeys.revoke(key.id));
  const revoked = startPublisher(o.rtmp(secret), { fps: 30, gop: 30 });
  const [revokedCode] = await once(revoked, 'exit');
  t.not(revokedCode, 0, 'a revoked key cannot publish');
  const unknown = startPublisher(o.rtmp('sk_not_a_key_123456'), { fps: 30, gop: 30 });
  const [unknownCode] = await once(unknown, 'exit');
  t.not(unknownCode, 0);
  t.equal(ch.state, 'live', 'refusals leave the live session alone');
});

t.test('an allow-list refuses other addresses; a stop disconnects the publisher and ends the playlist', async (t) => {
  const o = await startOrigin({ channels: [] });
  t.teardown(() => o.close());
  const seen = recordEvents(o);
  await apiChannel(o, { id: 'locked', name: 'Locked', ipAllowList: ['10.0.0.0/8'] }, 'sk_locked_77aa88bb99');
  const refused = startPublisher(o.rtmp('sk_locked_77aa88bb99'), { fps: 30, gop: 30 });
  const [code] = await once(refused, 'exit');
  t.not(code, 0);
  t.match(refused.stderrText(), /not on channel locked's ipAllowList|Publish\.Denied|denied/i, 'ffmpeg shows why');

  await apiChannel(o, { id: 'open', name: 'Open', autoStart: true, ipAllowList: ['127.0.0.1', '::1'] }, 'sk_open_11cc22dd33');
  const p = startPublisher(o.rtmp('sk_open_11cc22dd33'), { fps: 30, gop: 30 });
  t.teardown(() => stopPublisher(p));
  const ch = o.origin.channels.get('open')!;
  await waitUntil(() => ch.state === 'live' && ch.rendition() !== undefined, 20_000, 'live');
  const exited = once(p, 'exit');
  t.ok(await ch.stop());
  await Promise.race([exited, new Promise((_, rej) => setTimeout(() => rej(new Error('ffmpeg still connected 10 s after the stop')), 10_000))]);
  t.equal(ch.state, 'ended');
  const playlist = await (await fetch(`${o.http}/live/open/source.m3u8`)).text();
  t.match(playlist, /#EXT-X-ENDLIST/);
  t.same(seen.filter((e) => e.payload.channel === 'open').map((e) => e.name), ['channel.preview', 'channel.live', 'channel.ended']);
});
