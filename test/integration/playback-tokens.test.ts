import t from 'tap';
import { startOrigin, waitUntil } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { parseM3u8, playlistUris, tokenOf } from '../helpers/m3u8.js';
import { parseThumbnailVtt } from '../helpers/webvtt.js';
import { OriginHandler } from '../../src/delivery/handler.js';
import { PlaybackTokens } from '../../src/delivery/access/playback-tokens.js';
import { NodeHttpServer } from '../../src/delivery/node-http/node-http-server.js';
import { silentLogger } from '../../src/log.js';

/**
 * Playback tokens on the real live path: ffmpeg publishes over RTMP to a channel that requires
 * tokens and does not start by itself (preview until an operator starts it), the native pipeline
 * cuts the source and a 160p rung, and the origin's channel registry (its access() says
 * tokenRequired and preview) is served over node:http by an OriginHandler with the token gate,
 * as a player (or someone holding a leaked URL) sees it. The handler is built here with its own
 * key, so the test does not depend on how the origin wires its server keys into delivery.
 */
t.test('playback tokens: ffmpeg ▶ RTMP ▶ ladder ▶ LL-HLS over HTTP behind the token gate', async (t) => {
  const o = await startOrigin({
    channels: [{ id: 'demo', streamKey: 'demo-key-123', latencyMode: 'ultra-low', transcode: '160p', playbackTokens: 'required', autoStart: false }],
  });
  t.teardown(() => o.close());
  const tokens = new PlaybackTokens(Buffer.from('the-integration-test-playback-key'));
  const handler = new OriginHandler(o.origin.channels, silentLogger(), tokens);
  const server = new NodeHttpServer({ host: '127.0.0.1', port: 0, handle: (req) => handler.handle(req), logger: silentLogger() });
  const base = `http://127.0.0.1:${await server.listen()}`;
  t.teardown(() => server.close());
  const pub = startPublisher(o.rtmp('demo-key-123'), { width: 320, height: 180, fps: 30, gop: 30, audio: true });
  t.teardown(() => stopPublisher(pub));

  const good = (await tokens.sign('demo', { expiresInSec: 600 })).token;
  const preview = (await tokens.sign('demo', { expiresInSec: 600, preview: true })).token;
  const get = async (path: string) => {
    const r = await fetch(`${base}${path}`);
    return { status: r.status, headers: r.headers, text: await r.text() };
  };
  const withToken = (path: string, token: string) => `${path}${path.includes('?') ? '&' : '?'}token=${token}`;
  /** A URI of a playlist at `playlistPath`, as a player resolves it. */
  const resolve = (playlistPath: string, uri: string) => { const u = new URL(uri, `${base}${playlistPath}`); return `${u.pathname}${u.search}`; };
  await waitUntil(async () => {
    const r = await get(withToken('/live/demo/index.m3u8', preview));
    return r.status === 200 && parseM3u8(r.text).manifest.playlists.length === 2;
  }, 30_000, 'the multivariant playlist with the source and the 160p rung, in preview');

  await t.test('preview: only a preview token plays until the channel is started', async (t) => {
    const channel = o.origin.channels.get('demo')!;
    t.equal(channel.state, 'preview');
    const viewer = await get(withToken('/live/demo/source.m3u8', good));
    t.same([viewer.status, JSON.parse(viewer.text).error.code], [403, 'CHANNEL_NOT_STARTED']);
    t.equal((await get('/live/demo/source.m3u8')).status, 401, 'no token: 401 (the channel requires tokens)');
    const path = withToken('/live/demo/source.m3u8', preview);
    const r = await get(path);
    t.equal(r.status, 200);
    const part = playlistUris(r.text).filter((u) => u.tag === '#EXT-X-PART').at(-1)!.uri;
    t.equal(tokenOf(part), preview, 'the preview token is carried');
    t.equal((await get(resolve(path, part))).status, 200);
    t.equal((await get(resolve(path, part).replace(preview, good))).status, 403, 'the same part with a viewer token: refused');
    t.ok(channel.start('api'), 'an operator starts the channel');
    t.equal((await get(resolve(path, part).replace(preview, good))).status, 200, 'started: the viewer token plays');
    t.equal((await get(resolve(path, part))).status, 200, 'and the preview token still does');
  });

  const mvPath = withToken('/live/demo/index.m3u8', good);
  const mvText = (await get(mvPath)).text;

  await t.test('no token: 401; a bad one: 403; JSON, no-store, CORS', async (t) => {
    const none = await get('/live/demo/index.m3u8');
    t.equal(none.status, 401);
    t.equal(JSON.parse(none.text).error.code, 'TOKEN_REQUIRED');
    t.equal(none.headers.get('cache-control'), 'no-store');
    t.equal(none.headers.get('access-control-allow-origin'), '*');
    const other = (await tokens.sign('other', { expiresInSec: 60 })).token;
    const wrong = await get(withToken('/live/demo/source.m3u8', other));
    t.same([wrong.status, JSON.parse(wrong.text).error.code], [403, 'TOKEN_WRONG_CHANNEL']);
    const forged = await get(withToken('/live/demo/source.m3u8', `${good.slice(0, -6)}AAAAAA`));
    t.same([forged.status, JSON.parse(forged.text).error.code], [403, 'TOKEN_INVALID']);
  });

  await t.test('every URI of the multivariant and media playlists carries the token and plays; without it, none does', async (t) => {
    const mvUris = playlistUris(mvText);
    // The variants; the image playlist of previews (EXT-X-IMAGE-STREAM-INF) is followed below.
    const variants = mvUris.filter((u) => u.tag === 'URI line');
    t.same(variants.map((u) => u.uri.split('?')[0]).sort(), ['160p.m3u8', 'source.m3u8']);
    t.ok(mvUris.every((u) => tokenOf(u.uri) === good), 'multivariant URIs carry the token');
    for (const { uri } of variants) {
      const path = resolve(mvPath, uri);
      // Wait for a playlist with a rendition report and a complete segment with its parts.
      const text = await waitUntil(async () => {
        const r = await get(path);
        return r.status === 200 && /RENDITION-REPORT/.test(r.text) && /#EXTINF/.test(r.text) ? r.text : undefined;
      }, 20_000, `${uri} with a rendition report`);
      const uris = playlistUris(text);
      t.same([...new Set(uris.map((u) => u.tag))].sort(),
        ['#EXT-X-MAP', '#EXT-X-PART', '#EXT-X-PRELOAD-HINT', '#EXT-X-RENDITION-REPORT', 'URI line'], `${uri}: every kind of URI listed`);
      const missing = uris.filter((u) => tokenOf(u.uri) !== good);
      t.same(missing, [], `${uri}: every URI carries the token`);
      const sample = ['#EXT-X-MAP', '#EXT-X-PART', '#EXT-X-RENDITION-REPORT', 'URI line'].map((tag) => uris.filter((u) => u.tag === tag).at(-1)!);
      for (const { tag, uri: u } of sample) {
        const target = resolve(path, u);
        t.equal((await get(target)).status, 200, `${uri} ${tag} plays with the token it carries`);
        const bare = target.replace(/[?&]token=[^&]*/, '');
        t.equal((await get(bare)).status, 401, `${uri} ${tag} without the token: 401`);
      }
    }
  });

  await t.test('a blocking reload with a bad token is refused at once, not after the wait', async (t) => {
    const text = (await get(withToken('/live/demo/source.m3u8', good))).text;
    const msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)![1]) + parseM3u8(text).manifest.segments.length + 1;
    const expired = (await tokens.sign('demo', { expiresInSec: 1, now: Date.now() - 60_000 })).token;
    const t0 = Date.now();
    const r = await get(withToken(`/live/demo/source.m3u8?_HLS_msn=${msn}&_HLS_part=3`, expired));
    const ms = Date.now() - t0;
    t.same([r.status, JSON.parse(r.text).error.code], [403, 'TOKEN_EXPIRED']);
    t.ok(ms < 1000, `answered in ${ms} ms (the part it names is about 2 s away)`);
  });

  await t.test('a leaked URL stops working when its token expires', async (t) => {
    // Expires 3 s from now, the clock tolerance (5 s) included.
    const short = (await tokens.sign('demo', { expiresInSec: 3, now: Date.now() - 5000 })).token;
    const path = withToken('/live/demo/source.m3u8', short);
    const text = (await get(path)).text;
    const segment = resolve(path, playlistUris(text).filter((u) => u.tag === 'URI line').at(-1)!.uri);
    t.equal((await get(segment)).status, 200, 'the URL plays while its token is valid');
    const refused = await waitUntil(async () => { const r = await get(segment); return r.status !== 200 ? r : undefined; }, 10_000, 'the token to expire');
    t.same([refused.status, JSON.parse(refused.text).error.code], [403, 'TOKEN_EXPIRED'], 'then the same URL is refused');
    t.equal((await get(path)).status, 403, 'and so is its playlist');
  });

  await t.test('catchup (sessions.json, multivariant, playlists), previews.vtt and previews.m3u8 carry the token', async (t) => {
    const sessions = JSON.parse((await get(withToken('/live/demo/archive/sessions.json', good))).text).sessions;
    t.equal(sessions.length, 1);
    const mv = sessions[0].multivariant as string;
    t.equal(tokenOf(mv), good, 'sessions.json URLs carry the token');
    const catchupMv = await get(mv);
    t.equal(catchupMv.status, 200);
    const variants = playlistUris(catchupMv.text);
    t.equal(variants.length, 2, 'source and 160p archived');
    for (const v of variants) {
      const path = resolve(mv, v.uri);
      const r = await get(path);
      t.equal(r.status, 200, `catchup ${v.uri}`);
      const uris = playlistUris(r.text);
      t.ok(uris.length > 2 && uris.every((u) => tokenOf(u.uri) === good), `catchup ${v.uri}: ${uris.length} URIs with the token`);
      t.equal((await get(resolve(path, uris.at(-1)!.uri))).status, 200, 'an archived segment plays');
    }
    const vttPath = withToken('/live/demo/previews.vtt', good);
    const cues = await waitUntil(async () => {
      const r = await get(vttPath);
      const found = r.status === 200 ? parseThumbnailVtt(r.text).cues : [];
      return found.length > 0 ? found : undefined;
    }, 15_000, 'preview tiles');
    t.ok(cues.every((c) => tokenOf(c.uri) === good), 'every sprite URL carries the token');
    t.equal((await get(resolve(vttPath, cues[0].uri))).status, 200, 'a sprite sheet plays');
    // The image playlist, as Shaka finds it: from the multivariant playlist.
    const mvNow = (await get(mvPath)).text;
    const image = playlistUris(mvNow).filter((u) => u.tag === '#EXT-X-IMAGE-STREAM-INF');
    t.same(image.map((u) => u.uri.split('?')[0]), ['previews.m3u8'], 'the multivariant playlist lists the image playlist');
    t.equal(tokenOf(image[0].uri), good, 'its URI carries the token');
    const imagePath = resolve(mvPath, image[0].uri);
    const imageText = (await get(imagePath)).text;
    const tiles = playlistUris(imageText);
    t.ok(tiles.length > 0 && tiles.every((u) => tokenOf(u.uri) === good), `previews.m3u8: ${tiles.length} tile URIs with the token`);
    const tile = resolve(imagePath, tiles[0].uri);
    t.equal((await get(tile)).status, 200, 'a tile plays with the token it carries');
    t.equal((await get(tile.replace(/[?&]token=[^&]*/, ''))).status, 401, 'and not without it');
    t.equal((await get('/live/demo/previews.m3u8')).status, 401, 'nor the image playlist');
  });

  await t.test('the player page hands its token to the playlist', async (t) => {
    const page = await get(`/player/demo?token=${good}`);
    t.equal(page.status, 200);
    t.match(page.text, "var src = '/live/demo/index.m3u8' + location.search;");
  });
});
