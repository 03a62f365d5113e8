/** The registry's API channels: defined, updated (at once or when idle), removed, beside read-only config channels. */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { configSchema, channelSchema } from '../../../src/config/schema.js';
import { ChannelRegistry, type ChannelDefinition } from '../../../src/media/channel-registry.js';
import { allowed } from '../../../src/ingest/allow-list.js';
import { silentLogger } from '../../../src/log.js';
import { TRACKS } from '../../helpers/fake-channel.js';

const dataDir = mkdtempSync(join(tmpdir(), 'sigma-registry-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));

const config = configSchema.parse({
  dataDir, reconnectWindowSec: 0.05, endedRetentionSec: 0.05, archive: { enabled: false },
  channels: [{ id: 'fixed', streamKey: 'fixed-key-123' }],
});
const definition = (o: Partial<ChannelDefinition> & { id: string }): ChannelDefinition =>
  channelSchema.omit({ streamKey: true }).parse(o);
const pipelines = () => ({ write: () => true, close: async () => {} });

t.test('an API channel is served at once, updated, and removed; config channels are read-only', async (t) => {
  const reg = new ChannelRegistry(config, pipelines, silentLogger());
  t.teardown(() => reg.close());
  t.equal(reg.byStreamKey('fixed-key-123')?.channel.id, 'fixed');
  t.equal(reg.byStreamKey('fixed-key-123')?.input, 'primary');
  await t.rejects(reg.define(definition({ id: 'fixed' })), /config file/);
  await t.rejects(reg.remove('fixed'), /config file/);

  t.equal(await reg.define(definition({ id: 'api1', latencyMode: 'low', autoStart: false })), 'created');
  const first = reg.get('api1')!;
  t.equal(first.profile.mode, 'low');
  t.same(reg.access('api1'), { tokenRequired: false, preview: false });

  // Publishing: publish and playback settings apply at once, the latency mode waits for idle.
  const pub = first.startPublication('127.0.0.1');
  pub.setTracks(TRACKS);
  t.same(reg.access('api1'), { tokenRequired: false, preview: true }, 'a session in preview');
  t.equal(await reg.define(definition({ id: 'api1', latencyMode: 'normal', playbackTokens: 'required', ipAllowList: ['10.0.0.0/8'] })), 'pending');
  t.equal(reg.get('api1'), first, 'the publishing channel is not replaced');
  t.equal(reg.access('api1')?.tokenRequired, true);
  t.notOk(allowed(reg.settings('api1')!.allowList, '127.0.0.1'));
  t.ok(allowed(reg.settings('api1')!.allowList, '::ffff:10.1.2.3'));

  await pub.finish('publisher left');
  // Reconnect window (50 ms), then ended retention (50 ms): idle, and the pending settings apply.
  await sleep(300);
  const second = reg.get('api1')!;
  t.not(second, first, 'rebuilt once idle');
  t.equal(second.profile.mode, 'normal');
  t.equal(await reg.define(definition({ id: 'api1', latencyMode: 'normal', playbackTokens: 'required', ipAllowList: ['10.0.0.0/8'] })), 'unchanged',
    'the same definition again (another origin\'s notice of this change) changes nothing');
  t.equal(reg.get('api1'), second, 'the channel is not rebuilt for it');
  t.same(reg.apiChannelIds(), ['api1'], 'the API\'s channels, not the config\'s');

  t.ok(await reg.remove('api1'));
  t.equal(reg.get('api1'), undefined);
  t.notOk(await reg.remove('api1'));
});

t.test('removing a channel with a publisher disconnects it and ends the session', async (t) => {
  const reg = new ChannelRegistry(config, pipelines, silentLogger());
  t.teardown(() => reg.close());
  await reg.define(definition({ id: 'gone', autoStart: true }));
  const disconnected: string[] = [];
  const pub = reg.get('gone')!.startPublication('127.0.0.1', (r) => disconnected.push(r));
  pub.setTracks(TRACKS);
  t.ok(await reg.remove('gone'));
  t.same(disconnected, ['channel deleted']);
  t.ok(pub.closed);
});
