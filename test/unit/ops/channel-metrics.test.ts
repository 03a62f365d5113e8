import t from 'tap';
import { registerChannelMetrics } from '../../../src/ops/metrics/channel-metrics.js';
import { createRegistry } from '../../../src/ops/metrics/registry.js';
import { fakeChannel, TRACKS } from '../../helpers/fake-channel.js';
import { sampleOf } from '../../helpers/metrics.js';

t.test('state, held requests and parts/segments produced, read at scrape time', async (t) => {
  const f = fakeChannel();
  const registry = createRegistry();
  registerChannelMetrics(registry, () => [f.channel]);
  const sample = (name: string, labels: Record<string, string>) => sampleOf(registry, name, labels);

  t.equal(await sample('sigma_channel_state', { channel: 'test', state: 'live' }), 1);
  t.equal(await sample('sigma_channel_state', { channel: 'test', state: 'idle' }), 0);
  const last = f.parts(23).pop()!; // two whole segments (10 parts each) and three parts
  t.equal(await sample('sigma_channel_parts_total', { channel: 'test', rendition: 'source' }), 23);
  t.equal(await sample('sigma_channel_segments_total', { channel: 'test', rendition: 'source' }), 2);

  const window = f.channel.rendition()!.window;
  const held = window.waitFor(last.msn, last.index + 1, 10_000);
  t.equal(await sample('sigma_channel_held_requests', { channel: 'test' }), 1, 'a blocking request waits');
  f.part();
  await held;
  t.equal(await sample('sigma_channel_held_requests', { channel: 'test' }), 0);
  t.equal(await sample('sigma_archive_written_bytes_total', { channel: 'test' }), undefined, 'no archive, no archive series');
});

t.test('parts and segments keep counting up when a new session gets a new window', async (t) => {
  const f = fakeChannel();
  const registry = createRegistry();
  registerChannelMetrics(registry, () => [f.channel]);
  f.parts(12);
  t.equal(await sampleOf(registry, 'sigma_channel_parts_total', { channel: 'test', rendition: 'source' }), 12);
  const oldWindow = f.channel.rendition()!.window;
  await f.pub.finish('test');
  // fakeChannel: reconnect window 50 ms, ended retention 100 ms; then the channel is idle and a new session starts a new window.
  await new Promise((r) => setTimeout(r, 250));
  t.equal(f.channel.state, 'idle');
  f.channel.startPublication('127.0.0.1').setTracks(TRACKS);
  f.parts(5);
  t.not(f.channel.rendition()!.window, oldWindow, 'a new window');
  t.equal(await sampleOf(registry, 'sigma_channel_parts_total', { channel: 'test', rendition: 'source' }), 17, '12 + 5');
});
