import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOrigin, waitUntil } from '../helpers/origin.js';
import { stopPublisher } from '../helpers/ffmpeg.js';
import { fileBitrates } from '../helpers/ffprobe.js';
import { encodeKind, startLoopPublisher, type PublisherKind } from '../helpers/publisher-kinds.js';
import { missingPrometheus, promtool, startPrometheus } from '../helpers/prometheus.js';
import { missingCommand, testNeeding } from '../helpers/ci.js';

/**
 * A publisher at a constant bit rate: x264 with CBR HRD (filler data keeps every second at the
 * rate) and a one-second buffer, so any 10-s window of the stream carries the file's average.
 */
const CBR_SOURCE: PublisherKind = {
  id: 'cbr-800k', what: '640x360 30 fps, 1 s GOP, x264 CBR 800 kb/s, AAC 48 kHz 96 kb/s',
  args: ['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', '30', '-keyint_min', '30', '-sc_threshold', '0',
    '-b:v', '800k', '-minrate', '800k', '-maxrate', '800k', '-bufsize', '800k', '-x264-params', 'nal-hrd=cbr:force-cfr=1',
    '-af', 'atrim=end_sample=768000', '-c:a', 'aac', '-b:a', '96k', '-ar', '48000', '-ac', '2'],
};

const TOKEN = 'metrics-token-for-the-test';

/** The README's alerting rules: the YAML block after the marker comment. */
function readmeRules(): string {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const m = /<!-- metrics: alerting rules -->\s*```yaml\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error('README.md has no alerting rules block after <!-- metrics: alerting rules -->');
  return m[1];
}

/** The metric families README.md's Metrics section lists (`sigma_…` in its table). */
function readmeMetricNames(): Set<string> {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  return new Set([...readme.matchAll(/^\| `(sigma_[a-z_]+)`/gm)].map((m) => m[1]));
}

const missing = missingPrometheus() ?? missingCommand('ffmpeg', ['-version']) ?? missingCommand('ffprobe', ['-version'], 'ffmpeg');

testNeeding(t, 'the README alerting rules pass promtool check rules', missingPrometheus(), async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-rules-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'sigma-rules.yml');
  writeFileSync(file, readmeRules());
  const r = await promtool(['check', 'rules', file]);
  t.equal(r.code, 0, r.output);
  t.match(r.output, /SUCCESS: 2 rules found/);
});

testNeeding(t, '/metrics scraped by a real Prometheus: ingest bit rate within 10 % of the publisher\'s', missing, async (t) => {
  const file = await encodeKind(CBR_SOURCE);
  const real = await fileBitrates(file);
  t.ok(real.video > 700_000 && real.video < 900_000, `the file's video is ${Math.round(real.video)} b/s`);

  const o = await startOrigin({ metrics: { token: TOKEN } });
  t.teardown(() => o.close());
  const metricsUrl = `http://127.0.0.1:${o.ports.api}/metrics`;
  const prom = await startPrometheus({ target: `127.0.0.1:${o.ports.api}`, bearerToken: TOKEN });
  t.teardown(() => prom.close());
  const pub = startLoopPublisher(file, o.rtmp('demo-key-123'));
  t.teardown(() => stopPublisher(pub));

  await waitUntil(async () => (await fetch(`${o.http}/live/demo/source.m3u8`)).status === 200, 20_000, 'the media playlist');
  // Delivery requests of several kinds, for the request metrics: a playlist, a blocking reload, a part.
  const playlist = await (await fetch(`${o.http}/live/demo/source.m3u8`)).text();
  const lastPart = [...playlist.matchAll(/#EXT-X-PART:.*URI="([^"]+)"/g)].pop()![1];
  t.equal((await fetch(`${o.http}/live/demo/${lastPart}`)).status, 200, 'a part');
  // The part the preload hint names is the next one: a blocking reload for it waits for it.
  const [, msn, part] = /PRELOAD-HINT:TYPE=PART,URI="source\/(\d+)\.(\d+)\.m4s"/.exec(playlist)!;
  t.equal((await fetch(`${o.http}/live/demo/source.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`)).status, 200, 'a blocking reload');

  await t.test('the token is required when metrics.token is set', async (t) => {
    const r = await fetch(metricsUrl);
    t.equal(r.status, 401);
    t.equal((await r.json() as { error: { code: string } }).error.code, 'UNAUTHORIZED');
    t.equal((await fetch(metricsUrl, { headers: { authorization: 'Bearer not-the-token-at-all' } })).status, 401);
  });

  // 10 s of arrival fill the bit rate's window; a little more for the scrapes to catch up.
  await new Promise((r) => setTimeout(r, 13_000));

  await t.test('promtool check metrics accepts what /metrics serves, and README lists every family', async (t) => {
    const r = await fetch(metricsUrl, { headers: { authorization: `Bearer ${TOKEN}` } });
    t.equal(r.status, 200);
    t.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const text = await r.text();
    const check = await promtool(['check', 'metrics'], text);
    t.equal(check.code, 0, `promtool check metrics: ${check.output}`);
    const served = new Set([...text.matchAll(/^# TYPE (sigma_[a-z_]+) /gm)].map((m) => m[1]));
    const documented = readmeMetricNames();
    t.same([...served].filter((n) => !documented.has(n)), [], 'every sigma_ metric served is in README\'s Metrics section');
    t.same([...documented].filter((n) => !served.has(n)), [], 'every metric README lists is served');
    for (const family of ['process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds']) t.match(text, new RegExp(`^${family} `, 'm'), family);
  });

  await t.test('PromQL: the channel\'s ingest bit rate is the publisher\'s, within 10 %', async (t) => {
    const video = await waitUntil(async () => (await prom.query('sigma_ingest_bytes_per_second{channel="demo",track="video"} * 8'))[0]?.value,
      15_000, 'the video data rate in Prometheus');
    t.ok(Math.abs(video / real.video - 1) <= 0.1, `video: Prometheus ${Math.round(video)} b/s, file ${Math.round(real.video)} b/s`);
    const total = (await prom.query('rate(sigma_ingest_received_bytes_total{channel="demo"}[10s]) * 8'))[0]?.value;
    t.ok(total !== undefined && Math.abs(total / real.total - 1) <= 0.1, `audio + video: rate() ${Math.round(total ?? NaN)} b/s, file ${Math.round(real.total)} b/s`);
  });

  await t.test('PromQL: state, production and requests', async (t) => {
    t.same((await prom.query('sigma_channel_state{channel="demo"} == 1')).map((s) => s.metric.state), ['live']);
    const parts = (await prom.query('rate(sigma_channel_parts_total{channel="demo",rendition="source"}[5s])'))[0]?.value;
    // Ultra-low mode: 0.2-s parts, 5 a second.
    t.ok(parts !== undefined && parts > 4 && parts < 6, `parts per second ${parts}`);
    for (const kind of ['playlist', 'blocking_playlist', 'part']) {
      const n = (await prom.query(`sigma_http_request_duration_seconds_count{kind="${kind}",status_class="2xx"}`))[0]?.value;
      t.ok(n !== undefined && n >= 1, `${kind} requests counted: ${n}`);
    }
    const sent = (await prom.query('sigma_channel_sent_bytes_total{channel="demo"}'))[0]?.value;
    t.ok(sent !== undefined && sent > 1000, `bytes sent for demo: ${sent}`);
    const api = (await prom.query('sigma_http_request_duration_seconds_count{kind="api",status_class="4xx"}'))[0]?.value;
    t.ok(api !== undefined && api >= 2, `the refused scrapes counted as API 4xx: ${api}`);
  });
});
