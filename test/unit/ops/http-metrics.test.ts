import t from 'tap';
import { OriginHandler } from '../../../src/delivery/handler.js';
import { bodyLength } from '../../../src/delivery/types.js';
import { silentLogger } from '../../../src/log.js';
import { createRegistry } from '../../../src/ops/metrics/registry.js';
import { HttpMetrics } from '../../../src/ops/metrics/http-metrics.js';
import { fakeChannel, request } from '../../helpers/fake-channel.js';
import { sampleOf } from '../../helpers/metrics.js';

function setup() {
  const f = fakeChannel();
  const registry = createRegistry();
  const metrics = new HttpMetrics(registry, (id) => id === 'test');
  const handler = new OriginHandler({ get: (id) => (id === 'test' ? f.channel : undefined) }, silentLogger());
  handler.observeReplies(metrics);
  return { f, registry, handler };
}

const count = (registry: ReturnType<typeof createRegistry>, kind: string, status_class: string) =>
  sampleOf(registry, 'sigma_http_request_duration_seconds', { kind, status_class }, '_count');

t.test('each reply is counted by kind and status class, with its body bytes for a known channel', async (t) => {
  const { f, registry, handler } = setup();
  const [{ msn }] = f.parts(12); // a whole segment (10 parts) and two parts: the playlist is ready
  const part = await handler.handle(request(`/live/test/source/${msn}.1.m4s`));
  t.equal(part.status, 200);
  const playlist = await handler.handle(request('/live/test/source.m3u8'));
  await handler.handle(request('/live/nobody/source.m3u8'));
  t.equal(await count(registry, 'part', '2xx'), 1);
  t.equal(await count(registry, 'playlist', '2xx'), 1);
  t.equal(await count(registry, 'playlist', '4xx'), 1, 'an unknown channel: 404, counted');
  t.equal(await sampleOf(registry, 'sigma_channel_sent_bytes_total', { channel: 'test' }), bodyLength(part.body)! + bodyLength(playlist.body)!);
  t.equal(await sampleOf(registry, 'sigma_channel_sent_bytes_total', { channel: 'nobody' }), undefined, 'no series for an id nobody serves');
});

t.test('a blocking reload is timed with its wait', async (t) => {
  const { f, registry, handler } = setup();
  const second = f.parts(12).pop()!;
  const held = handler.handle(request(`/live/test/source.m3u8?_HLS_msn=${second.msn}&_HLS_part=${second.index + 1}`));
  t.ok(held instanceof Promise, 'held until the part exists');
  await new Promise((r) => setTimeout(r, 150));
  f.part();
  t.equal((await held).status, 200);
  const sum = await sampleOf(registry, 'sigma_http_request_duration_seconds', { kind: 'blocking_playlist', status_class: '2xx' }, '_sum');
  t.ok(sum !== undefined && sum >= 0.14 && sum < 1, `observed ${sum} s`);
});
