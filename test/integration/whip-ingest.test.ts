/**
 * WHIP ingest (issue 20) with a real peer: Debian's Chromium and its fake camera going live from
 * the origin's Go-live page, with a publish token; the channel's HLS carries the browser's H.264
 * and the Opus transcoded to AAC, decodable by ffmpeg. Around it, the refusals a WHIP client can
 * meet (RFC 9725: 401 with WWW-Authenticate, 403, 409 for a busy input, 415, 400 for an SDP we
 * cannot answer, 405 for trickle ICE) each with the JSON error and a log line.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startOrigin, waitUntil, type RunningOrigin } from '../helpers/origin.js';
import { captureLogs } from '../helpers/log-capture.js';
import { parseM3u8 } from '../helpers/m3u8.js';
import { goLive, launchPublisherBrowser } from '../helpers/whip-publisher.js';

const run = promisify(execFile);
const ADMIN = 'whip-admin-token-0123456789abcdef0123456789';
const KEY = 'whip-key-1234567', OTHER_KEY = 'other-key-1234567';

/** A browser's offer, short of a real one: enough for the checks that come before the SDP is read. */
const SDP_LIKE = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';

async function hlsOf(o: RunningOrigin, channel: string, segments = 2): Promise<void> {
  await waitUntil(async () => {
    const r = await fetch(`${o.http}/live/${channel}/source.m3u8`);
    return r.status === 200 && parseM3u8(await r.text()).manifest.segments.length >= segments;
  }, 30_000, `${segments} segments of ${channel}`);
}

t.test('WHIP: a browser goes live from the Go-live page; refusals are clear', async (t) => {
  const { logger, lines } = captureLogs('info');
  const o = await startOrigin({
    api: { port: 0, host: '127.0.0.1', adminToken: ADMIN },
    channels: [
      { id: 'wh', streamKey: KEY, latencyMode: 'ultra-low' },
      { id: 'other', streamKey: OTHER_KEY, latencyMode: 'ultra-low' },
    ],
  }, { logger });
  t.teardown(() => o.close());
  const api = `http://127.0.0.1:${o.ports.api}`;
  const whip = (channel: string, init: { auth?: string; type?: string; body?: string; method?: string } = {}) => fetch(`${api}/v1/whip/${channel}`, {
    method: init.method ?? 'POST', body: init.body ?? SDP_LIKE,
    headers: { 'content-type': init.type ?? 'application/sdp', ...(init.auth ? { authorization: `Bearer ${init.auth}` } : {}) },
  });
  const refusals = () => lines.filter((l) => l.component === 'whip' && l.msg === 'publish refused');

  await t.test('refusals: status, JSON error, log line', async (t) => {
    const none = await whip('wh');
    t.equal(none.status, 401, 'no credential: 401');
    t.match(none.headers.get('www-authenticate'), /^Bearer/, 'with WWW-Authenticate');
    t.match(await none.json(), { error: { code: 'PUBLISH_UNAUTHORIZED' } });
    const wrongKey = await whip('wh', { auth: 'not-a-key-of-anyone' });
    t.equal(wrongKey.status, 401, 'an unknown key: 401');
    const othersKey = await whip('wh', { auth: OTHER_KEY });
    t.equal(othersKey.status, 403, 'another channel\'s key: 403');
    t.match(await othersKey.json(), { error: { code: 'PUBLISH_DENIED', message: /not channel wh's/ } });
    const json = await whip('wh', { auth: KEY, type: 'application/json', body: '{}' });
    t.equal(json.status, 415, 'not application/sdp: 415');
    t.match(await json.json(), { error: { code: 'UNSUPPORTED_SDP_TYPE' } });
    const garbage = await whip('wh', { auth: KEY, body: 'this is not SDP' });
    t.equal(garbage.status, 400, 'an offer that is not SDP: 400');
    t.match(await garbage.json(), { error: { code: 'SDP_REFUSED' } });
    const patch = await fetch(`${api}/v1/whip/wh/sessions/abc`, { method: 'PATCH', body: 'a=candidate', headers: { 'content-type': 'application/trickle-ice-sdpfrag' } });
    t.equal(patch.status, 405, 'trickle ICE (PATCH): 405');
    const del = await fetch(`${api}/v1/whip/wh/sessions/no-such-session`, { method: 'DELETE' });
    t.equal(del.status, 404, 'DELETE of an unknown session: 404');
    const pre = await fetch(`${api}/v1/whip/wh`, { method: 'OPTIONS', headers: { origin: 'https://studio.example', 'access-control-request-method': 'POST' } });
    t.equal(pre.status, 204, 'CORS preflight: 204');
    t.match(Object.fromEntries(pre.headers), { 'access-control-allow-origin': '*', 'access-control-allow-headers': /Authorization/, 'accept-post': 'application/sdp' });
    t.equal(refusals().length, 4, 'each refused publisher (no key, unknown key, another channel\'s key, bad SDP) logged with its reason');
    t.ok(refusals().every((l) => typeof l.reason === 'string' && l.channel), 'reason and channel on every line');
    t.notOk(lines.some((l) => JSON.stringify(l).includes(OTHER_KEY)), 'no key in the log');
    t.equal(o.origin.channels.get('wh')!.inputs.busy('primary'), false, 'the channel\'s input is free after the refused offers');
  });

  const token = await (await fetch(`${api}/v1/channels/wh/publish-tokens`, { method: 'POST', body: '{}',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' } })).json() as any;
  t.match(token, { token: /^ey/, whipUrl: /\/v1\/whip\/wh$/, goLiveUrl: /\/go-live#channel=wh&token=/ }, 'a publish token, the WHIP URL and the Go-live link');
  const playback = await (await fetch(`${api}/v1/channels/wh/playback-tokens`, { method: 'POST', body: '{"expiresInSec":600}',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' } })).json() as any;
  const asPublish = await whip('wh', { auth: playback.token });
  t.equal(asPublish.status, 401, 'a playback token does not publish (another key signs publish tokens)');
  t.equal((await whip('other', { auth: token.token })).status, 403, 'a publish token publishes only to its channel');

  const browser = await launchPublisherBrowser();
  t.teardown(() => browser.close());
  const publisher = await goLive(browser, { api, channel: 'wh', credential: token.token });
  t.teardown(() => publisher.stop());
  await hlsOf(o, 'wh', 3);
  t.pass('live from the Go-live page with a publish token');

  const mv = parseM3u8(await (await fetch(`${o.http}/live/wh/index.m3u8`)).text()).manifest.playlists[0];
  t.match(mv.attributes.CODECS, /^avc1\.42[0-9a-f]{4},mp4a\.40\.2$/, `the browser's H.264 passed through, its Opus as AAC-LC (${mv.attributes.CODECS})`);
  const { stdout, stderr } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,sample_rate,channels,width,height', '-of', 'json',
    `${o.http}/live/wh/source.m3u8`], { timeout: 30_000 });
  const streams = JSON.parse(stdout).streams as any[];
  t.match(streams.find((s) => s.codec_name === 'aac'), { sample_rate: '48000', channels: 2 }, 'AAC 48 kHz stereo');
  t.ok(streams.find((s) => s.codec_name === 'h264')?.width > 0, 'H.264 video');
  const decode = await run('ffmpeg', ['-hide_banner', '-v', 'error', '-i', `${o.http}/live/wh/source.m3u8`, '-t', '3', '-f', 'null', '-'], { timeout: 40_000 });
  t.equal((stderr + decode.stderr).trim(), '', 'ffmpeg decodes 3 s of it without an error');

  const ch = await (await fetch(`${api}/v1/channels/wh`, { headers: { authorization: `Bearer ${ADMIN}` } })).json() as any;
  t.match(ch.status.ingest, { publishing: true, publisher: { software: 'WHIP' } }, 'the channel\'s ingest names WHIP');
  t.match(ch.urls.whip, /\/v1\/whip\/wh$/, 'the channel\'s URLs include its WHIP endpoint');

  const busy = await whip('wh', { auth: KEY });
  t.equal(busy.status, 409, 'a second publisher on the same input: 409');
  t.match(await busy.json(), { error: { code: 'CHANNEL_BUSY' } });

  await publisher.stop();
  await waitUntil(() => !o.origin.channels.get('wh')!.inputs.busy('primary'), 10_000, 'the input free after Stop (DELETE)');
  t.ok(lines.some((l) => l.msg === 'WHIP publisher left' && /ended the WHIP session/.test(String(l.reason))), 'the session ended by its DELETE, logged');
});
