/**
 * Alerts raised and cleared by real ffmpeg publishers doing the bad thing — stopping (SIGSTOP,
 * the connection stays), dropping to a low bitrate, a 10 s GOP, audio 2 s ahead of video — and
 * by a webhook endpoint that fails and a blocked event loop; each delivered, signed, to a real
 * webhook receiver and listed in /v1/alerts. The four publishers run side by side (small
 * pictures) so the file takes about half a minute.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestFile, startPublisher, stopPublisher, type TestSourceOptions } from '../helpers/ffmpeg.js';
import { FLV_AUDIO, shiftTagTimestamps } from '../helpers/flv-tags.js';
import { startOrigin, waitUntil } from '../helpers/origin.js';
import { startWebhookReceiver, type ReceivedWebhook } from '../helpers/webhook-receiver.js';
import type { IngestSnapshot } from '../../src/ingest/ingest-snapshot.js';
import type { AlertCleared } from '../../src/events.js';

const ADMIN = 'alerts-test-admin-token-0123456789abcdef';
const SECRET = 'alerts-test-webhook-secret-0123';
const SMALL: TestSourceOptions = { width: 320, height: 180, fps: 30, gop: 30, videoBitrate: '600k' };

interface AlertEvent { id: string; type: 'alert.raised' | 'alert.cleared'; channelId: string | null; data: AlertCleared }

t.test('each alert rule raised and cleared by a real publisher doing the bad thing, delivered and listed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-alerts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Audio 2 s ahead: the audio tags of a file ffmpeg wrote carry +2000 ms next to the video of the same moment.
  const plain = join(dir, 'plain.flv'), crafted = join(dir, 'audio-ahead.flv');
  await makeTestFile(plain, { ...SMALL, durationSec: 25 });
  writeFileSync(crafted, shiftTagTimestamps(readFileSync(plain), FLV_AUDIO, 2000));

  const o = await startOrigin({
    // Longer than any stall here: the stalled publisher must stay connected.
    srt: { enabled: false }, rtmp: { port: 0, host: '127.0.0.1', idleTimeoutSec: 20 },
    api: { port: 0, host: '127.0.0.1', adminToken: ADMIN },
    reconnectWindowSec: 5,
    thumbnails: { enabled: false },
    alerts: { rules: {
      publisherStalled: { clearSec: 1 },
      bitrateLow: { forSec: 2, clearSec: 2 },
      keyframeInterval: { clearSec: 2 },
      avDrift: { forSec: 2, clearSec: 2 },
      webhookFailing: { consecutiveFailures: 1 },
      eventLoopLag: { forSec: 0, clearSec: 1, p99Ms: 400 },
    } },
    channels: [
      { id: 'stall', streamKey: 'stall-key-0123' },
      { id: 'lowrate', streamKey: 'lowrate-key-0123', alerts: { rules: { bitrateLow: { minKbps: 250 } } } },
      { id: 'longgop', streamKey: 'longgop-key-0123' },
      { id: 'drift', streamKey: 'drift-key-0123' },
    ],
  });
  t.teardown(() => o.close());
  const api = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    const r = await fetch(`http://127.0.0.1:${o.ports.api}/v1${path}`, {
      method: init.method ?? 'GET', body: init.body === undefined ? undefined : JSON.stringify(init.body),
      headers: { authorization: `Bearer ${ADMIN}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    });
    return { status: r.status, body: await r.json() as any };
  };
  const ingest = async (id: string): Promise<IngestSnapshot> => (await api(`/channels/${id}`)).body.status.ingest;

  const receiver = await startWebhookReceiver({ secret: SECRET, nowSec: () => Math.floor(Date.now() / 1000) });
  t.teardown(() => receiver.close());
  // A second endpoint that answers 500 until told otherwise: the webhookFailing rule.
  let failingAnswers = 500;
  const failing = await startWebhookReceiver({ secret: SECRET, nowSec: () => Math.floor(Date.now() / 1000), reply: () => ({ status: failingAnswers }) });
  t.teardown(() => failing.close());
  for (const url of [receiver.url, failing.url]) {
    const hook = await api('/webhooks', { method: 'POST', body: { url, secret: SECRET, eventTypes: ['alert.raised', 'alert.cleared'] } });
    t.equal(hook.status, 201, JSON.stringify(hook.body));
  }

  const alerts = (): AlertEvent[] => receiver.received.map((r: ReceivedWebhook) => JSON.parse(r.body) as AlertEvent);
  const delivered = (type: AlertEvent['type'], rule: string, channel: string | null, timeoutMs: number) =>
    waitUntil(() => alerts().find((a) => a.type === type && a.data.rule === rule && a.channelId === channel), timeoutMs,
      `${type} ${rule} ${channel ?? '(origin)'}`, 200);
  const active = (rule: string, channel: string) => o.origin.alerts!.engine.activeAlerts().some((a) => a.rule === rule && a.channel === channel);

  /** Raised, then cleared once `fix` has run: the same alert id, cleared after its raise. */
  const raisedThenCleared = async (rule: string, channel: string | null, raiseMs: number, fix: () => Promise<void> | void, clearMs: number) => {
    const raised = await delivered('alert.raised', rule, channel, raiseMs);
    t.match(raised.data, { rule, channel, value: Number, threshold: Number, unit: String, message: String }, `${rule} raised: ${raised.data.message}`);
    await fix();
    const cleared = await delivered('alert.cleared', rule, channel, clearMs);
    t.equal(cleared.data.alertId, raised.data.alertId, `${rule} cleared (${cleared.data.message}) after ${cleared.data.durationMs} ms`);
    return { raised, cleared };
  };

  const publishers = new Set<ReturnType<typeof startPublisher>>();
  const publish = (key: string, opts: TestSourceOptions = {}) => {
    const p = startPublisher(o.rtmp(key), { ...SMALL, ...opts });
    publishers.add(p);
    return p;
  };
  t.teardown(() => Promise.all([...publishers].map((p) => { p.kill('SIGCONT'); return stopPublisher(p); })));

  const stalled = (async () => {
    const p = publish('stall-key-0123');
    await waitUntil(async () => { const i = await ingest('stall'); return i.publishing && (i.video?.frameRate ?? 0) > 20; }, 15_000, 'the stall publisher');
    p.kill('SIGSTOP');
    await raisedThenCleared('publisherStalled', 'stall', 15_000, async () => {
      t.ok(active('publisherStalled', 'stall'), 'active in the engine while the publisher is stopped');
      t.equal((await ingest('stall')).publishing, true, 'the publisher is still connected, sending nothing');
      const metrics = await (await fetch(`http://127.0.0.1:${o.ports.api}/metrics`)).text();
      t.match(metrics, /^sigma_alerts_active\{rule="publisherStalled",channel="stall"\} 1$/m, 'and in /metrics');
      p.kill('SIGCONT');
    }, 15_000);
  })();

  const lowBitrate = (async () => {
    // Black frames from 2 s to 16 s: x264 has almost nothing to spend bits on.
    publish('lowrate-key-0123', { videoFilter: "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='between(t,2,16)'" });
    const { raised, cleared } = await raisedThenCleared('bitrateLow', 'lowrate', 30_000, () => {}, 40_000);
    t.ok(raised.data.value! < 250 && raised.data.threshold === 250, `under the channel's own floor: ${raised.data.value} kbit/s`);
    t.ok(cleared.data.value! >= 250, `cleared by the picture coming back, one session: ${cleared.data.value} kbit/s`);
  })();

  const longGop = (async () => {
    // Keyframes every 10 s (0, 10, 20 s), then every second from 21 s, in one session.
    publish('longgop-key-0123', { gop: 300, encoderArgs: ['-force_key_frames', 'expr:gte(t,21)*eq(mod(n,30),0)'] });
    const { raised, cleared } = await raisedThenCleared('keyframeInterval', 'longgop', 30_000, () => {}, 30_000);
    t.ok(Math.abs(raised.data.value! - 10) < 0.2 && raised.data.threshold === 2.499, `a 10 s GOP against 2 s segments: ${raised.data.message}`);
    t.ok(cleared.data.value! <= 2, `cleared by 1 s keyframes: ${cleared.data.value} s`);
  })();

  const drift = (async () => {
    const crafter = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-i', crafted, '-c', 'copy',
      '-max_interleave_delta', '1', '-f', 'flv', o.rtmp('drift-key-0123')], { stdio: 'ignore' });
    publishers.add(crafter as ReturnType<typeof startPublisher>);
    await raisedThenCleared('avDrift', 'drift', 20_000, async () => {
      const d = (await ingest('drift')).avDriftMs;
      t.ok(d !== null && Math.abs(d - 2000) < 300, `the origin sees audio ${d} ms ahead`);
      await stopPublisher(crafter);
      publish('drift-key-0123');
    }, 20_000);
    const d = (await ingest('drift')).avDriftMs;
    t.ok(d === null || Math.abs(d) < 300, `a normal publisher: drift ${d} ms`);
  })();

  const webhookFailing = (async () => {
    await raisedThenCleared('webhookFailing', null, 40_000, () => { failingAnswers = 204; }, 40_000);
  })();

  await Promise.all([stalled, lowBitrate, longGop, drift, webhookFailing]);
  await Promise.all([...publishers].map(stopPublisher));

  // The event loop, blocked for real for 800 ms.
  await new Promise((r) => setTimeout(r, 1100));
  const end = Date.now() + 800;
  while (Date.now() < end) { /* blocked */ }
  await raisedThenCleared('eventLoopLag', null, 10_000, () => {}, 10_000);

  // No storm: one raise per alert, at most one clear, never two alerts of one rule and channel at once.
  const byId = new Map<string, AlertEvent[]>();
  for (const a of alerts()) byId.set(a.data.alertId, [...(byId.get(a.data.alertId) ?? []), a]);
  for (const [id, events] of byId) t.ok(events.filter((e) => e.type === 'alert.raised').length === 1 && events.length <= 2, `${id}: ${events.map((e) => e.type)}`);
  t.ok(receiver.received.every((r) => r.verified.ok), 'every delivery is signed');

  const checked = [['publisherStalled', 'stall'], ['bitrateLow', 'lowrate'], ['keyframeInterval', 'longgop'], ['avDrift', 'drift'],
    ['webhookFailing', null], ['eventLoopLag', null]] as const;
  const listed = await waitUntil(async () => {
    const all = (await api('/alerts?state=cleared&limit=500')).body.items as { rule: string; channelId: string | null }[];
    return checked.every(([rule, ch]) => all.some((a) => a.rule === rule && a.channelId === ch)) && all;
  }, 10_000, 'the alerts listed as cleared');
  t.ok(listed, '/v1/alerts lists every one of them, cleared');
  const stall = (await api('/alerts?rule=publisherStalled&channelId=stall')).body.items[0];
  t.match(stall, { state: 'cleared', threshold: 2, unit: 's', raisedAt: String, clearedAt: String, message: /^last frame/ });
  const stillActive = (await api('/alerts?state=active')).body.items as { rule: string; channelId: string | null }[];
  t.notOk(stillActive.some((a) => checked.some(([rule, ch]) => a.rule === rule && a.channelId === ch)), 'none of them is active');
  const engineActive = () => o.origin.alerts!.engine.activeAlerts().map((a) => `${a.rule} ${a.channel}`).sort().join();
  await waitUntil(async () => ((await api('/alerts?state=active')).body.items as { rule: string; channelId: string | null }[])
    .map((a) => `${a.rule} ${a.channelId}`).sort().join() === engineActive(), 10_000, 'the active alerts listed to be the engine\'s');
});
