/** POST /v1/beacon: sessions proven by sid or playback token, bodies, CORS, the rate limits. */
import type { Test } from 'tap';
import { decodeJwt, SignJWT } from 'jose';
import { tokenDigestKey } from '../../../src/analytics/session-key.js';
import { SessionIds } from '../../../src/analytics/session-key.js';
import type { ViewerBeacon, ViewerEventSink } from '../../../src/analytics/viewer-events.js';
import { BEACONS_PER_SESSION_PER_MINUTE } from '../../../src/api/beacon-intake.js';
import { PlaybackTokens } from '../../../src/delivery/access/playback-tokens.js';
import { Harness, isError, type ApiTarget, type Reply } from './api-harness.js';

/** What the analytics were handed (touches are delivery's, not the API's). */
class Received implements ViewerEventSink {
  readonly beacons: ViewerBeacon[] = [];
  touch(): void { throw new Error('the API hands out no touches'); }
  beacon(b: ViewerBeacon): void { this.beacons.push(b); }
}

async function open(t: Test, target: ApiTarget) {
  const received = new Received();
  const h = await Harness.open(t, target, { viewers: received });
  await h.channel({ id: 'news', name: 'News' });
  await h.channel({ id: 'sport', name: 'Sport' });
  const sids = new SessionIds(h.keys.playbackTokens);
  const beacon = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }, remoteAddress?: string) =>
    h.post('/v1/beacon', typeof body === 'string' ? body : JSON.stringify(body), { token: null, headers, remoteAddress });
  return { h, received, sids, beacon };
}

const corsOk = (t: Test, r: Reply, what: string) => t.equal(r.headers['access-control-allow-origin'], '*', `${what}: CORS allows any origin`);

export function beaconSuite(t: Test, target: ApiTarget): void {
  t.test('a sid the origin minted: 204, as JSON or as text/plain (sendBeacon), handed to the analytics with every field', async (t) => {
    const { h, received, sids, beacon } = await open(t, target);
    const sid = sids.mint('news');
    const body = { sid, channel: 'news', event: 'heartbeat', mode: 'dvr', positionSec: 61.5, latencyMs: 2400, rebufferMs: 300, rendition: '720p' };
    const r = await beacon(body);
    t.equal(r.status, 204, r.body);
    corsOk(t, r, 'accepted');
    t.same(received.beacons, [{ channel: 'news', sessionKey: sid, keySource: 'sid', event: 'heartbeat', mode: 'dvr', rendition: '720p',
      positionSec: 61.5, latencyMs: 2400, rebufferMs: 300, atMs: h.now }]);
    t.equal((await beacon({ sid, channel: 'news', event: 'play', future: 'field' }, { 'content-type': 'text/plain;charset=UTF-8' })).status, 204,
      'text/plain, as sendBeacon sends a string; an unknown field is ignored');
    t.equal(received.beacons[1].event, 'play');
    t.notOk('future' in received.beacons[1], 'the unknown field is not passed on');
    t.equal((await beacon({ sid, channel: 'news', event: 'end' }, {})).status, 415, 'no content type at all: not a beacon');
  });

  t.test('a playback token: its jti names the session, else the sid, else the token itself; a bad token refuses the beacon', async (t) => {
    const { h, received, sids, beacon } = await open(t, target);
    const tokens = new PlaybackTokens(h.keys.playbackTokens);
    const { token } = await tokens.sign('news', { expiresInSec: 600, now: h.now });
    t.equal((await beacon({ token, channel: 'news', event: 'play' })).status, 204);
    t.match(received.beacons[0], { sessionKey: decodeJwt(token).jti, keySource: 'token' }, 'the jti the API put in it');
    const key = await (await import('node:crypto')).webcrypto.subtle.importKey('raw', h.keys.playbackTokens, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const withJti = await new SignJWT({ jti: 'viewer-42' }).setProtectedHeader({ alg: 'HS256' }).setSubject('news')
      .setExpirationTime(Math.floor(h.now / 1000) + 600).sign(key);
    t.equal((await beacon({ token: withJti, channel: 'news', event: 'play' })).status, 204);
    t.equal(received.beacons[1].sessionKey, 'viewer-42', 'a back end\'s jti names the session');
    const sid = sids.mint('news');
    t.equal((await beacon({ sid, token: withJti, channel: 'news', event: 'heartbeat' })).status, 204);
    t.match(received.beacons[2], { sessionKey: 'viewer-42', keySource: 'token' }, 'with a sid too: the jti, as delivery keys the requests');
    const noJti = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('news')
      .setExpirationTime(Math.floor(h.now / 1000) + 600).sign(key);
    t.equal((await beacon({ sid, token: noJti, channel: 'news', event: 'heartbeat' })).status, 204);
    t.match(received.beacons[3], { sessionKey: sid, keySource: 'sid' }, 'a token without jti: the sid');
    t.equal((await beacon({ token: noJti, channel: 'news', event: 'heartbeat' })).status, 204);
    t.match(received.beacons[4], { sessionKey: tokenDigestKey(noJti), keySource: 'token' }, 'nothing else: the token itself');
    isError(t, await beacon({ sid, token: noJti.slice(0, -2) + 'xx', channel: 'news', event: 'heartbeat' }), 403, 'TOKEN_INVALID',
      'a valid sid does not excuse a bad token');
    received.beacons.splice(2);

    const wrong = await beacon({ token, channel: 'sport', event: 'play' });
    isError(t, wrong, 403, 'TOKEN_WRONG_CHANNEL');
    t.same(wrong.json.error.details.map((d: { path: string }) => d.path), ['body.token'], 'the field is named');
    isError(t, await beacon({ token: token.slice(0, -2) + 'xx', channel: 'news', event: 'play' }), 403, 'TOKEN_INVALID', 'a bad signature');
    h.now += 700_000;
    isError(t, await beacon({ token, channel: 'news', event: 'heartbeat' }), 403, 'TOKEN_EXPIRED');
    t.equal(received.beacons.length, 2, 'nothing refused was counted');
  });

  t.test('refused: an unknown channel (404), a sid not minted for the channel (403), bad bodies (400 naming the field)', async (t) => {
    const { received, sids, beacon } = await open(t, target);
    const sid = sids.mint('news');
    const notFound = await beacon({ sid: sids.mint('weather'), channel: 'weather', event: 'play' });
    isError(t, notFound, 404, 'CHANNEL_NOT_FOUND');
    corsOk(t, notFound, 'refused');
    isError(t, await beacon({ sid, channel: 'sport', event: 'play' }), 403, 'SESSION_UNKNOWN', 'a sid of another channel');
    const flipped = sid.slice(0, 3) + (sid[3] === 'A' ? 'B' : 'A') + sid.slice(4);
    isError(t, await beacon({ sid: flipped, channel: 'news', event: 'play' }), 403, 'SESSION_UNKNOWN', 'one character changed');
    isError(t, await beacon({ sid: 'made-up-session', channel: 'news', event: 'play' }), 403, 'SESSION_UNKNOWN', 'a made-up sid');
    const foreign = new SessionIds(Buffer.alloc(32, 7)).mint('news');
    isError(t, await beacon({ sid: foreign, channel: 'news', event: 'play' }), 403, 'SESSION_UNKNOWN', 'a sid under another secret');

    const field = async (body: unknown, path: string) => {
      const r = await beacon(body);
      isError(t, r, 400, 'VALIDATION_FAILED', path);
      t.ok(r.json?.error?.details?.some((d: { path: string }) => d.path === path), `${path} is named (${r.body.slice(0, 160)})`);
      corsOk(t, r, path);
    };
    await field({ sid, channel: 'news' }, 'body.event');
    await field({ sid, channel: 'news', event: 'skip' }, 'body.event');
    await field({ channel: 'news', event: 'play' }, 'body.sid');
    await field({ sid, channel: 'News!', event: 'play' }, 'body.channel');
    await field({ sid, channel: 'news', event: 'heartbeat', latencyMs: -1 }, 'body.latencyMs');
    await field({ sid, channel: 'news', event: 'heartbeat', positionSec: '12' }, 'body.positionSec');
    await field({ sid, channel: 'news', event: 'heartbeat', mode: 'vod' }, 'body.mode');
    isError(t, await beacon('{"sid":', { 'content-type': 'text/plain' }), 400, 'INVALID_JSON', 'broken JSON as text/plain');
    isError(t, await beacon({ sid, channel: 'news', event: 'play', rendition: 'x'.repeat(2100) }), 413, 'BODY_TOO_LARGE', 'over 2 KB');
    isError(t, await beacon(`sid=${sid}`, { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    t.equal(received.beacons.length, 0, 'nothing refused was counted');
  });

  t.test('CORS preflight; no API token needed, one given changes nothing', async (t) => {
    const { h, sids, beacon } = await open(t, target);
    const pre = await h.request('OPTIONS', '/v1/beacon', { token: null,
      headers: { origin: 'https://player.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    t.equal(pre.status, 204);
    t.equal(pre.headers['access-control-allow-origin'], '*');
    t.match(pre.headers['access-control-allow-methods'], /POST/);
    t.match(String(pre.headers['access-control-allow-headers']).toLowerCase(), /content-type/);
    t.equal((await h.get('/v1/channels')).headers['access-control-allow-origin'], undefined, 'the rest of the API stays without CORS');
    const sid = sids.mint('news');
    t.equal((await h.post('/v1/beacon', { sid, channel: 'news', event: 'play' }, { token: 'sgl_not-a-token' })).status, 204);
    t.equal((await beacon({ sid, channel: 'news', event: 'heartbeat' })).status, 204);
  });

  t.test(`rate limit: ${BEACONS_PER_SESSION_PER_MINUTE} beacons per session per minute, then 429 with Retry-After until the minute ends`, async (t) => {
    const { h, received, sids, beacon } = await open(t, target);
    const sid = sids.mint('news'), other = sids.mint('news');
    for (let i = 0; i < BEACONS_PER_SESSION_PER_MINUTE; i++) {
      const r = await beacon({ sid, channel: 'news', event: 'heartbeat' });
      if (r.status !== 204) t.fail(`beacon ${i}: ${r.status}`);
    }
    h.now += 20_000;
    const over = await beacon({ sid, channel: 'news', event: 'heartbeat' });
    isError(t, over, 429, 'BEACON_RATE_LIMITED');
    t.equal(over.headers['retry-after'], '40', 'until the minute ends');
    corsOk(t, over, '429');
    t.equal((await beacon({ sid: other, channel: 'news', event: 'heartbeat' })).status, 204, 'another session (same address) goes on');
    h.now += 40_000;
    t.equal((await beacon({ sid, channel: 'news', event: 'heartbeat' })).status, 204, 'the next minute');
    t.equal(received.beacons.length, BEACONS_PER_SESSION_PER_MINUTE + 2);
  });
}
