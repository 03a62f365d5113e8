/**
 * The control plane end to end, as a platform's back end uses it: create a channel through the
 * REST API, subscribe a webhook, publish with the returned key (ffmpeg), receive channel.preview,
 * start the channel and receive channel.live, play with a signed token (playlists and parts),
 * be refused without one and with an expired one, find the events through the API, stop the
 * channel and receive channel.ended; then a restart keeps the API's channel and its key.
 * Run on SQLite and on PostgreSQL (control-plane-*.test.ts).
 */
import type { Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOrigin, type RunningOrigin } from '../helpers/origin.js';
import { waitUntil } from '../helpers/wait.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { startWebhookReceiver, type ReceivedWebhook } from '../helpers/webhook-receiver.js';

const ADMIN = 'e2e-admin-token-0123456789abcdef0123456789';
const WEBHOOK_SECRET = 'whsec_e2e_5b7c9d1e3f5a7b9c1d3e5f7a';

type Json = Record<string, any>;

function api(o: RunningOrigin, token = ADMIN) {
  const base = `http://127.0.0.1:${o.ports.api}/v1`;
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> => {
    const r = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) as Json : {} };
  };
}

const eventOf = (w: ReceivedWebhook) => JSON.parse(w.body) as { id: string; type: string; channelId: string | null; data: Json };

export function controlPlaneSuite(t: Test, databaseUrl: () => Promise<string>): void {
  t.test('create a channel through the API, publish with its key, webhooks, play with a signed token', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sigma-e2e-'));
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    const url = await databaseUrl();
    const config = { dataDir, channels: [], database: { url }, api: { port: 0, host: '127.0.0.1', adminToken: ADMIN } };
    let o = await startOrigin(config);
    t.teardown(() => o.close());
    const receiver = await startWebhookReceiver({ secret: WEBHOOK_SECRET, nowSec: () => Math.floor(Date.now() / 1000) });
    t.teardown(() => receiver.close());
    let call = api(o);

    const hook = await call('POST', '/webhooks', { url: `${receiver.url}/sigma`, secret: WEBHOOK_SECRET, eventTypes: ['channel.preview', 'channel.live', 'channel.ended'] });
    t.equal(hook.status, 201, JSON.stringify(hook.body));

    const created = await call('POST', '/channels', { id: 'e2e', name: 'End to end', autoStart: false, playbackTokenPolicy: 'required' });
    t.equal(created.status, 201, JSON.stringify(created.body));
    const key: string = created.body.streamKey.secret;
    t.match(created.body.urls, { publishServer: /^rtmp:\/\/127\.0\.0\.1:\d+\/live$/, playback: /\/live\/e2e\/index\.m3u8$/ });

    const publisher = startPublisher(`${created.body.urls.publishServer}/${key}`, { fps: 30, gop: 30 });
    t.teardown(() => stopPublisher(publisher));
    const [preview] = await receiver.waitForRequests(1, 20_000);
    t.ok(preview.verified.ok, 'the webhook signature verifies');
    t.match(eventOf(preview), { type: 'channel.preview', channelId: 'e2e', data: { channel: 'e2e' } });
    t.equal((await call('GET', '/channels/e2e')).body.status.state, 'preview');

    // In preview, only a preview token plays.
    const previewToken = (await call('POST', '/channels/e2e/playback-tokens', { expiresInSec: 300, preview: true })).body;
    const playback: string = created.body.urls.playback;
    await waitUntil(async () => (await fetch(`${playback}?token=${previewToken.token}`)).status === 200, 15_000, 'preview playback');
    const viewerToken = (await call('POST', '/channels/e2e/playback-tokens', { expiresInSec: 300 })).body;
    t.equal((await fetch(`${playback}?token=${viewerToken.token}`)).status, 403, 'a viewer token does not play a preview');

    const started = await call('POST', '/channels/e2e/start');
    t.equal(started.status, 200, JSON.stringify(started.body));
    const [, live] = await receiver.waitForRequests(2, 10_000);
    t.match(eventOf(live), { type: 'channel.live', channelId: 'e2e', data: { startedBy: 'api', sessionId: eventOf(preview).data.sessionId } });

    // Live: the viewer token plays the multivariant, the media playlist and a part; every URI carries it.
    const mv = await fetch(`${playback}?token=${viewerToken.token}`);
    t.equal(mv.status, 200);
    const media = (await mv.text()).split('\n').find((l) => l.endsWith('.m3u8') || l.includes('.m3u8?'))!;
    t.match(media, `token=${viewerToken.token}`);
    const mediaUrl = new URL(media, playback).href;
    const mediaText = await (await fetch(mediaUrl)).text();
    const part = /URI="([^"]+\.m4s[^"]*)"/.exec(mediaText)![1];
    t.match(part, `token=${viewerToken.token}`);
    t.equal((await fetch(new URL(part, mediaUrl))).status, 200, 'a part plays with the token');
    t.equal((await fetch(new URL(part.split('?')[0], mediaUrl))).status, 401, 'the same part without the token: 401');
    t.equal((await fetch(playback)).status, 401);

    // A token that expired a minute ago (minted by the platform's back end with the same key) is refused.
    const stale = await o.origin.playbackTokens!.sign('e2e', { expiresInSec: 60, now: Date.now() - 120_000 });
    const expired = await fetch(`${playback}?token=${stale.token}`);
    t.equal(expired.status, 403);
    t.match(await expired.json(), { error: { code: 'TOKEN_EXPIRED' } });

    const events = await call('GET', '/events?channelId=e2e');
    t.same(events.body.items.map((e: Json) => e.type).reverse(), ['channel.preview', 'channel.live'], 'the API lists the stored events');

    const stopped = await call('POST', '/channels/e2e/stop');
    t.equal(stopped.status, 200, JSON.stringify(stopped.body));
    const [, , ended] = await receiver.waitForRequests(3, 10_000);
    t.match(eventOf(ended), { type: 'channel.ended', channelId: 'e2e', data: { reason: 'stopped by an operator' } });
    await waitUntil(() => publisher.exitCode !== null || publisher.signalCode !== null, 10_000, 'ffmpeg disconnected');

    // A restart: the API channel is served again and its key still publishes.
    await o.close();
    o = await startOrigin(config);
    call = api(o);
    t.equal((await call('GET', '/channels/e2e')).body.source, 'api');
    const again = startPublisher(`rtmp://127.0.0.1:${o.ports.rtmp}/live/${key}`, { fps: 30, gop: 30 });
    t.teardown(() => stopPublisher(again));
    await waitUntil(async () => (await call('GET', '/channels/e2e')).body.status?.state === 'preview', 20_000, 'preview after the restart');
  });
}
