/**
 * Delivery ▶ analytics through the real OriginHandler over a fake channel: the multivariant
 * playlist hands out a sid that only the media playlist URIs carry; one viewer's playlist and
 * part requests are one session; parts behind the edge make it DVR; tokens key by jti; what
 * is not viewing (player page, health, thumbnails) counts nothing.
 */
import t from 'tap';
import { OriginHandler } from '../../../src/delivery/handler.js';
import { silentLogger } from '../../../src/log.js';
import { ViewerAnalytics } from '../../../src/analytics/viewer-analytics.js';
import { sidOf, isSid, playerFamily, FallbackKeys } from '../../../src/analytics/session-key.js';
import { DVR_BEHIND_SEGMENTS } from '../../../src/analytics/viewer-requests.js';
import { parseDirectives } from '../../../src/delivery/playlist-responder.js';
import { fakeChannel, request, bodyText } from '../../helpers/fake-channel.js';
import { parseM3u8 } from '../../helpers/m3u8.js';
import { ManualClock } from '../../helpers/manual-clock.js';

const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);
const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

function setup(o: { tokenSession?: (query: string) => string | undefined; analytics?: boolean } = {}) {
  const f = fakeChannel('ultra-low', { dvrWindowMs: 60_000 });
  const clock = new ManualClock(T0);
  const analytics = new ViewerAnalytics({
    settings: { viewAfterSec: 1, sessionTimeoutSec: {}, retentionDays: 1, flushIntervalSec: 10 },
    channelOf: (id) => (id === 'test' ? { latencyMode: 'ultra-low', targetDurationSec: 2 } : undefined),
    tokenSession: (req) => o.tokenSession?.(req.query), logger: silentLogger(), now: clock.read,
  });
  const handler = new OriginHandler({ get: (id) => (id === 'test' ? f.channel : undefined) }, silentLogger(), undefined, clock.read);
  if (o.analytics !== false) handler.countViewers(analytics.requests);
  const get = async (path: string, viewer = 'a', ua = CHROME) =>
    handler.handle(request(path, { remoteAddress: `10.0.0.${viewer === 'a' ? 1 : 2}`, headers: { 'user-agent': ua }, protocol: 'h2' }));
  const ccu = () => analytics.sampler.sample(clock.now).find((s) => s.channel === 'test')?.ccu ?? 0;
  return { f, clock, analytics, handler, get, ccu };
}

t.test('session keys: sid parsing, player families, the fallback hash rotates with the UTC day', async (t) => {
  t.equal(sidOf('sid=abcdEFGH1234'), 'abcdEFGH1234');
  t.equal(sidOf('token=x&sid=abcdEFGH1234&_HLS_msn=3'), 'abcdEFGH1234');
  t.equal(sidOf('xsid=abcdEFGH1234'), undefined, 'not another parameter ending in sid');
  t.equal(sidOf('sid=<script>'), undefined, 'only what looks like ours');
  t.equal(sidOf(''), undefined);
  t.ok(isSid('abcdEFGH1234'));
  t.same(['Lavf/60.16.100', 'ExoPlayerLib/2.19.1', 'AppleCoreMedia/1.0.0.21A', CHROME, 'curl/8.5.0',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15'].map(playerFamily),
  ['ffmpeg', 'exoplayer', 'avplayer', 'browser', 'other', 'safari']);
  const clock = new ManualClock(T0);
  const keys = new FallbackKeys(clock.read);
  const k = keys.keyOf('10.0.0.1', CHROME, 'test');
  t.match(k, /^[A-Za-z0-9_-]{22}$/);
  t.equal(keys.keyOf('10.0.0.1', CHROME, 'test'), k, 'stable within the day');
  t.not(keys.keyOf('10.0.0.2', CHROME, 'test'), k);
  t.not(keys.keyOf('10.0.0.1', CHROME, 'other'), k, 'per channel');
  t.notOk(k.includes('10.0.0.1'));
  clock.advance(86_400_000);
  t.not(keys.keyOf('10.0.0.1', CHROME, 'test'), k, 'a new salt the next UTC day');
  t.equal(parseDirectives('sid=abcdEFGH1234&token=x&_HLS_msn=4').querySuffix, '?token=x', 'a media playlist carries its sid onto nothing');
});

t.test('the multivariant playlist mints a sid per request, for this viewer only; the media playlist carries it onto nothing', async (t) => {
  const { f, get } = setup();
  f.parts(13);
  const a = await get('/live/test/index.m3u8?token=x');
  const b = await get('/live/test/index.m3u8?token=x');
  t.equal(a.headers['cache-control'], 'private, no-store', 'a new sid: no cache may share the response');
  t.notOk(a.headers.expires, 'nothing to expire');
  const uriA = parseM3u8(await bodyText(a.body)).manifest.playlists[0].uri as string;
  const uriB = parseM3u8(await bodyText(b.body)).manifest.playlists[0].uri as string;
  t.match(uriA, /^source\.m3u8\?token=x&sid=[A-Za-z0-9_-]{27}$/);
  t.not(uriA, uriB, 'unique per multivariant request');
  const again = await get(`/live/test/index.m3u8?${uriA.split('?')[1]}`);
  t.equal(again.headers['cache-control'], 'public, max-age=2', 'a request that has its sid gets it back, cacheable');
  t.equal(parseM3u8(await bodyText(again.body)).manifest.playlists[0].uri, uriA);
  const media = await bodyText((await get(`/live/test/${uriA}`)).body);
  t.notOk(/sid=/.test(media), 'no part, segment, init or hint URI carries the sid: they stay shared');
  t.match(media, /source\/\d+\.\d+\.m4s\?token=x/, 'while the token is carried as before');

  const off = setup({ analytics: false });
  off.f.parts(13);
  const plain = await off.get('/live/test/index.m3u8');
  t.equal(plain.headers['cache-control'], 'public, max-age=2', 'analytics off: the multivariant playlist as before');
  t.equal(parseM3u8(await bodyText(plain.body)).manifest.playlists[0].uri, 'source.m3u8');
});

t.test('one viewer: playlist requests (sid) and part requests (no sid) are one session; parts at the edge cost nothing', async (t) => {
  const { f, get, clock, analytics, ccu } = setup();
  f.parts(13);
  const uri = parseM3u8(await bodyText((await get('/live/test/index.m3u8')).body)).manifest.playlists[0].uri as string;
  for (let i = 0; i < 20; i++) {
    const next = f.part();
    t.equal((await get(`/live/test/${uri}&_HLS_msn=${next.msn}&_HLS_part=${next.index}`)).status, 200);
    t.equal((await get(`/live/test/source/${next.msn}.${next.index}.m4s`)).status, 200);
    clock.advance(200);
  }
  t.equal(ccu(), 1, 'one session');
  t.equal(analytics.sessions.size, 1);
  const rows = analytics.aggregator.take();
  t.equal(rows.reduce((s, r) => s + r.sessions, 0), 1);
  t.equal(rows.reduce((s, r) => s + r.newUniques, 0), 1);
  t.equal(rows.reduce((s, r) => s + r.watchMs.live, 0), 19 * 200);
  t.same(rows[0].dims.protocol, { h2: 19 * 200 });
  t.same(rows[0].dims.player, { browser: 19 * 200 });

  // A player that requests the media playlist without going through the multivariant one: the fallback key.
  await get('/live/test/source.m3u8', 'b', 'Lavf/60.16.100');
  clock.advance(1000);
  await get('/live/test/source.m3u8', 'b', 'Lavf/60.16.100');
  t.equal(ccu(), 2, 'a second viewer, by its address and user agent');
});

t.test('parts and segments well behind the live edge make their viewer\'s session DVR', async (t) => {
  const { f, get, clock, analytics, ccu } = setup();
  f.parts(13);
  const uri = parseM3u8(await bodyText((await get('/live/test/index.m3u8')).body)).manifest.playlists[0].uri as string;
  await get(`/live/test/${uri}`);
  for (let i = 0; i < 5 * 10; i++) f.part(); // 5 more segments of 10 parts
  const newest = f.part().msn;
  const oldest = f.channel.rendition('source')!.window.segments[0].msn;
  t.ok(newest - oldest >= DVR_BEHIND_SEGMENTS, 'the window reaches far enough back');
  clock.advance(1000);
  // At the edge (within HOLD-BACK + 2 TD): still live.
  t.equal((await get(`/live/test/source/${newest - DVR_BEHIND_SEGMENTS + 1}.m4s`)).status, 200);
  clock.advance(1000);
  await get(`/live/test/${uri}`);
  analytics.sampler.sample(clock.now);
  let rows = analytics.aggregator.take();
  t.same(rows.map((r) => [r.watchMs.live, r.watchMs.dvr]), [[2000, 0]], 'live so far');
  // Behind: DVR, on the same session (found through the client's fallback key).
  t.equal((await get(`/live/test/source/${newest - DVR_BEHIND_SEGMENTS}.m4s`)).status, 200);
  clock.advance(2000);
  await get(`/live/test/${uri}`);
  t.equal(ccu(), 1, 'still one session');
  rows = analytics.aggregator.take();
  t.same(rows.map((r) => [r.watchMs.live, r.watchMs.dvr]), [[0, 2000]], 'its watch time from then is DVR');
  t.equal(rows.reduce((s, r) => s + r.sessions, 0), 0, 'no new session');
});

t.test('a token\'s jti keys the session; player page, health and thumbnails count nothing', async (t) => {
  const { f, get, ccu } = setup({ tokenSession: (q) => (q.includes('token=viewer1') ? 'jti-1' : undefined) });
  f.parts(13);
  await get('/live/test/source.m3u8?token=viewer1');
  await get('/live/test/source.m3u8?token=viewer1', 'b');
  t.equal(ccu(), 1, 'one token, one session, whatever the address');
  for (const p of ['/player/test', '/healthz', '/live/test/thumbnail.jpg', '/live/test/index.m3u8']) await get(p, 'b', 'other-ua');
  t.equal(ccu(), 1, 'none of these is a viewer request (the multivariant playlist starts no session: its media playlist does)');
});
