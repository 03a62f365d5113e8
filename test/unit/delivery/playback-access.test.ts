/**
 * Playback tokens and preview at the delivery layer: every /live/<channel>/… route checked
 * before any work, JSON refusals nobody caches, and the token carried on every URI a playlist
 * (or a thumbnails track, or sessions.json) lists, so a player that got in stays in until the
 * token expires, and a leaked URL stops working then.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { OriginHandler, type ChannelAccess, type ChannelLookup } from '../../../src/delivery/handler.js';
import { PlaybackTokens } from '../../../src/delivery/access/playback-tokens.js';
import { requestToken } from '../../../src/delivery/access/playback-gate.js';
import { ChannelArchive } from '../../../src/store/archive/channel-archive.js';
import { hourKey } from '../../../src/store/archive/archive-layout.js';
import type { ChannelThumbnails } from '../../../src/media/thumbnails/channel-thumbnails.js';
import { nextPartOf, renderMediaPlaylist } from '../../../src/packager/hls/media-playlist.js';
import type { OriginReply } from '../../../src/delivery/types.js';
import { silentLogger } from '../../../src/log.js';
import { fakeChannel, request, bodyText } from '../../helpers/fake-channel.js';
import { parseM3u8, playlistUris, tokenOf } from '../../helpers/m3u8.js';
import { parseThumbnailVtt } from '../../helpers/webvtt.js';
import { parseImagePlaylist } from '../../helpers/image-playlist.js';
import { waitUntil } from '../../helpers/wait.js';

const KEY = Buffer.from('a-playback-token-key-for-the-tests');
const tick = () => new Promise((r) => setImmediate(r));
const json = async (r: OriginReply) => JSON.parse(await bodyText(r.body));

/** Thumbnails whose tiles sit on the live window's segments: enough for every thumbnail route to answer 200. */
function stubThumbnails(window: () => { segments: readonly { programDateTimeMs: number }[] }): ChannelThumbnails & { picMs: number; sheetId: number } {
  const jpeg = Buffer.from('JPEG');
  const tiles = () => window().segments.map((s) => ({ timeMs: s.programDateTimeMs, sheetId: 1, x: 0, y: 0, width: 16, height: 9 }));
  const picMs = window().segments[0].programDateTimeMs;
  return {
    picMs, sheetId: 1, stored: true, previewIntervalMs: 2000, previews: { enabled: true, columns: 10, rows: 10 },
    tileNumber: (ms: number) => (tiles().some((x) => x.timeMs === ms) ? ms : undefined), tileBytesInRam: () => jpeg.length,
    tileImage: async (ms: number) => (tiles().some((x) => x.timeMs === ms) ? jpeg : undefined),
    latest: () => ({ timeMs: picMs, width: 16, height: 9, data: jpeg }),
    thumbnail: async (ms: number) => (ms === picMs ? jpeg : undefined),
    sheet: async (id: number) => (id === 1 ? { data: jpeg, complete: true } : undefined),
    liveTiles: tiles,
    tilesBetween: async () => tiles(),
  } as unknown as ChannelThumbnails & { picMs: number; sheetId: number };
}

interface Rig {
  f: ReturnType<typeof fakeChannel>;
  access: ChannelAccess;
  tokens: PlaybackTokens;
  handler: OriginHandler;
  /** Tokens of every kind for channel `test`. */
  tk: Record<'good' | 'preview' | 'expired' | 'otherChannel' | 'tampered' | 'wrongKey', string>;
  get(path: string, o?: Parameters<typeof request>[1]): Promise<OriginReply>;
  /** One path of each /live/<channel>/… route kind, without a token. */
  routes: Record<string, string>;
  /** What comes after the route's path for a token: '?' or '&'. */
  withToken(path: string, token: string): string;
}

/** A live channel with archived segments, thumbnails, and access rules the test changes at will. */
async function rig(t: Test, o: { tokens?: boolean } = {}): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-access-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const archive = new ChannelArchive(dir, 'test', { writable: true, reportWriteError: () => {} }, silentLogger());
  const f = fakeChannel('ultra-low', { archive, dvrWindowMs: 60_000 });
  const t0 = Date.now();
  f.parts(10 * 4 + 3); // four 2 s segments closed, three parts of the fifth
  const from = Math.floor(t0 / 1000) - 1, to = Math.ceil(Date.now() / 1000) + 20;
  await waitUntil(async () => (await archive.reader('source').range(from * 1000, to * 1000)).length >= 4, 5000, 'four archived segments');
  const w = f.channel.rendition()!.window;
  const thumbnails = stubThumbnails(() => w);
  const access: ChannelAccess = { tokenRequired: true, preview: false };
  const tokens = new PlaybackTokens(KEY);
  const lookup: ChannelLookup = {
    get: (id) => (id === 'test' ? f.channel : undefined),
    thumbnails: (id) => (id === 'test' ? thumbnails : undefined),
    access: (id) => (id === 'test' ? access : undefined),
  };
  const handler = new OriginHandler(lookup, silentLogger(), o.tokens === false ? undefined : tokens);
  const good = (await tokens.sign('test', { expiresInSec: 600 })).token;
  const [h, , s] = good.split('.');
  const tk = {
    good,
    preview: (await tokens.sign('test', { expiresInSec: 600, preview: true })).token,
    expired: (await tokens.sign('test', { expiresInSec: 10, now: Date.now() - 60_000 })).token,
    otherChannel: (await tokens.sign('other', { expiresInSec: 600 })).token,
    tampered: `${h}.${Buffer.from(JSON.stringify({ sub: 'test', exp: Math.floor(Date.now() / 1000) + 86400 })).toString('base64url')}.${s}`,
    wrongKey: (await new PlaybackTokens(Buffer.from('x'.repeat(32))).sign('test', { expiresInSec: 600 })).token,
  };
  const seg = w.segments[1];
  const hour = hourKey(seg.programDateTimeMs);
  const routes = {
    multivariant: '/live/test/index.m3u8',
    media: '/live/test/source.m3u8',
    delta: '/live/test/source.m3u8?_HLS_skip=YES',
    blockingPresent: `/live/test/source.m3u8?_HLS_msn=${seg.msn}&_HLS_part=0`,
    init: `/live/test/source/init-${seg.initId}.mp4`,
    part: `/live/test/source/${seg.msn}.0.m4s`,
    segment: `/live/test/source/${seg.msn}.m4s`,
    archivePlaylist: `/live/test/archive/${from}-${to}.m3u8`,
    archiveMultivariant: `/live/test/archive/${from}-${to}/index.m3u8`,
    archiveRendition: `/live/test/archive/${from}-${to}/source.m3u8`,
    archiveSessions: '/live/test/archive/sessions.json',
    archiveSegment: `/live/test/archive/source/${hour}/${seg.msn}.m4s`,
    archiveInit: `/live/test/archive/source/init-${seg.initId}.mp4`,
    thumbnail: '/live/test/thumbnail.jpg',
    thumbnailByTime: `/live/test/thumbnails/${thumbnails.picMs}.jpg`,
    previewsVtt: '/live/test/previews.vtt',
    previewsM3u8: '/live/test/previews.m3u8',
    previewSheet: `/live/test/previews/${thumbnails.sheetId}.jpg`,
    previewTile: `/live/test/previews/tiles/${thumbnails.picMs}.jpg`,
    catchupVtt: `/live/test/archive/${from}-${to}.vtt`,
  };
  const withToken = (path: string, token: string) => `${path}${path.includes('?') ? '&' : '?'}token=${token}`;
  return { f, access, tokens, handler, tk, routes, withToken, get: async (path, ro) => handler.handle(request(path, ro)) };
}

async function expectRefused(t: Test, r: OriginReply, status: number, code: string, what: string): Promise<void> {
  t.equal(r.status, status, `${what}: ${status}`);
  t.equal((await json(r)).error.code, code, `${what}: ${code}`);
  t.equal(r.headers['cache-control'], 'no-store', `${what}: not cached`);
  t.equal(r.headers['content-type'], 'application/json');
  t.equal(r.headers['access-control-allow-origin'], '*', `${what}: CORS`);
  if (status === 401) t.match(r.headers['www-authenticate'], /^Bearer /, `${what}: WWW-Authenticate`);
}

t.test('every /live/<channel>/ route: 401 without a token, 403 for a bad one, 200 with a good one', async (t) => {
  const r = await rig(t);
  r.access.tokenRequired = false;
  for (const [kind, path] of Object.entries(r.routes)) t.equal((await r.get(path)).status, 200, `${kind} plays without rules (the route itself works)`);
  r.access.tokenRequired = true;
  for (const [kind, path] of Object.entries(r.routes)) {
    await expectRefused(t, await r.get(path), 401, 'TOKEN_REQUIRED', `${kind} without a token`);
    const head = await r.get(path, { method: 'HEAD' });
    t.same([head.status, head.headers['cache-control'], head.body], [401, 'no-store', undefined], `${kind} HEAD without a token`);
    await expectRefused(t, await r.get(r.withToken(path, '')), 401, 'TOKEN_REQUIRED', `${kind} with an empty token`);
    await expectRefused(t, await r.get(r.withToken(path, r.tk.expired)), 403, 'TOKEN_EXPIRED', `${kind} expired`);
    await expectRefused(t, await r.get(r.withToken(path, r.tk.otherChannel)), 403, 'TOKEN_WRONG_CHANNEL', `${kind} for another channel`);
    await expectRefused(t, await r.get(r.withToken(path, r.tk.tampered)), 403, 'TOKEN_INVALID', `${kind} tampered`);
    await expectRefused(t, await r.get(r.withToken(path, r.tk.wrongKey)), 403, 'TOKEN_INVALID', `${kind} signed with another key`);
    t.equal((await r.get(r.withToken(path, r.tk.good))).status, 200, `${kind} with a good token`);
    t.equal((await r.get(r.withToken(path, r.tk.preview))).status, 200, `${kind} with a preview token (plays a live channel too)`);
  }
  t.equal((await r.get('/live/test/index.m3u8', { method: 'OPTIONS' })).status, 204, 'CORS preflight needs no token');
  t.equal((await r.get('/live/nope/index.m3u8')).status, 404, 'a channel without rules: no token asked');
});

t.test('preview: only a preview token plays, whatever the route', async (t) => {
  const r = await rig(t);
  Object.assign(r.access, { tokenRequired: false, preview: true });
  for (const [kind, path] of Object.entries(r.routes)) {
    await expectRefused(t, await r.get(path), 403, 'CHANNEL_NOT_STARTED', `${kind} without a token`);
    await expectRefused(t, await r.get(r.withToken(path, r.tk.good)), 403, 'CHANNEL_NOT_STARTED', `${kind} with a viewer token`);
    await expectRefused(t, await r.get(r.withToken(path, r.tk.expired)), 403, 'TOKEN_EXPIRED', `${kind} with an expired token`);
    t.equal((await r.get(r.withToken(path, r.tk.preview))).status, 200, `${kind} with a preview token`);
  }
  r.access.tokenRequired = true;
  await expectRefused(t, await r.get(r.routes.part), 401, 'TOKEN_REQUIRED', 'token required and preview, no token');
  await expectRefused(t, await r.get(r.withToken(r.routes.part, r.tk.good)), 403, 'CHANNEL_NOT_STARTED', 'token required and preview, viewer token');
  t.equal((await r.get(r.withToken(r.routes.part, r.tk.preview))).status, 200);
  r.access.preview = false;
  t.equal((await r.get(r.withToken(r.routes.part, r.tk.good))).status, 200, 'started: the viewer token plays');
});

t.test('a channel with no rules: a token present is not even read', async (t) => {
  const r = await rig(t);
  Object.assign(r.access, { tokenRequired: false, preview: false });
  for (const token of [r.tk.good, r.tk.expired, 'garbage']) t.equal((await r.get(r.withToken(r.routes.part, token))).status, 200, token.slice(0, 20));
  t.equal(r.tokens.cacheSize, 0, 'nothing was verified');
});

t.test('Authorization: Bearer for clients without query tokens; a percent-encoded token', async (t) => {
  const r = await rig(t);
  t.equal((await r.get(r.routes.segment, { headers: { authorization: `Bearer ${r.tk.good}` } })).status, 200);
  t.equal((await r.get(r.routes.segment, { headers: { authorization: `bearer ${r.tk.good}` } })).status, 200, 'scheme case-insensitive');
  await expectRefused(t, await r.get(r.routes.segment, { headers: { authorization: `Bearer ${r.tk.expired}` } }), 403, 'TOKEN_EXPIRED', 'bearer expired');
  await expectRefused(t, await r.get(r.routes.segment, { headers: { authorization: `Basic dXNlcjpwYXNz` } }), 401, 'TOKEN_REQUIRED', 'another scheme');
  t.equal((await r.get(`${r.routes.segment}?token=${encodeURIComponent(r.tk.good).replace(/\./g, '%2E')}`)).status, 200, 'percent-encoded');
  t.equal(requestToken(request('/x?a=1&token=abc&token=def')), 'abc', 'the first token parameter');
  t.equal(requestToken(request('/x?xtoken=abc&mytoken=def')), undefined, 'only a parameter named token');
  t.equal(requestToken(request('/x?token=%E0%A4%A')), '%E0%A4%A', 'a malformed escape is kept as it is (and will not verify)');
});

t.test('a blocking reload and a hinted part with a bad token are refused at once; with a good one they wait', async (t) => {
  const r = await rig(t);
  const w = r.f.channel.rendition()!.window;
  const last = w.segments[w.segments.length - 1];
  const ahead = `/live/test/source.m3u8?_HLS_msn=${last.msn}&_HLS_part=${last.parts.length + 1}`;
  const next = nextPartOf(w.segments)!;
  const hinted = `/live/test/source/${next.msn}.${next.index}.m4s`;
  const settledWithin = async (p: Promise<OriginReply>, ms: number) => Promise.race([p, new Promise<undefined>((res) => setTimeout(res, ms))]);
  for (const path of [ahead, hinted]) {
    // Without parts arriving, a request that waited would answer only after 3 × TD (6 s).
    const noToken = r.get(path);
    await tick();
    await expectRefused(t, (await settledWithin(noToken, 0))!, 401, 'TOKEN_REQUIRED', `${path} without a token, in the same tick`);
    for (const [token, code] of [[r.tk.expired, 'TOKEN_EXPIRED'], [r.tk.tampered, 'TOKEN_INVALID'], [r.tk.otherChannel, 'TOKEN_WRONG_CHANNEL']]) {
      const reply = await settledWithin(r.get(r.withToken(path, token)), 1000);
      t.ok(reply, `${path} with a bad token answered without waiting`);
      if (reply) await expectRefused(t, reply, 403, code, path);
    }
  }
  const heldPlaylist = r.get(r.withToken(ahead, r.tk.good));
  const heldPart = r.get(r.withToken(hinted, r.tk.good));
  let done = 0;
  void heldPlaylist.then(() => done++);
  void heldPart.then(() => done++);
  await new Promise((res) => setTimeout(res, 50));
  t.equal(done, 0, 'a good token waits for the part like any request');
  r.f.parts(2);
  t.equal((await heldPlaylist).status, 200);
  t.equal((await heldPart).status, 200);
});

t.test('the token is on every URI of every playlist kind, and each URI plays with it', async (t) => {
  const r = await rig(t);
  const follow = async (base: string, uri: string, what: string) => {
    t.equal(tokenOf(uri), r.tk.good, `${what}: ${uri.slice(0, 60)} carries the token`);
    const u = new URL(uri, `http://origin${base}`);
    t.equal((await r.get(`${u.pathname}${u.search}`)).status, 200, `${what}: ${u.pathname} plays`);
  };
  const playlists = ['multivariant', 'media', 'delta', 'archivePlaylist', 'archiveMultivariant', 'archiveRendition', 'previewsM3u8'] as const;
  for (const kind of playlists) {
    const path = r.withToken(r.routes[kind], r.tk.good);
    const text = await bodyText((await r.get(path)).body);
    // The image playlist's tags are for Shaka and Roku: read strictly; m3u8-parser (video.js) passes over them.
    if (kind === 'previewsM3u8') t.doesNotThrow(() => parseImagePlaylist(text), `${kind} parses strictly`);
    t.same(parseM3u8(text).warnings, [], `${kind} parses`);
    const uris = playlistUris(text);
    t.ok(uris.length > 0, `${kind} lists ${uris.length} URIs`);
    for (const { tag, uri } of uris) {
      if (tag === '#EXT-X-PRELOAD-HINT') t.equal(tokenOf(uri), r.tk.good, `${kind}: the preload hint carries the token`);
      else await follow(path, uri, `${kind} ${tag}`);
    }
    const tags = new Set(uris.map((u) => u.tag));
    if (kind === 'media') t.same([...tags].sort(), ['#EXT-X-MAP', '#EXT-X-PART', '#EXT-X-PRELOAD-HINT', 'URI line'], 'every URI kind of a live playlist seen');
  }
  for (const kind of ['previewsVtt', 'catchupVtt'] as const) {
    const path = r.withToken(r.routes[kind], r.tk.good);
    const { cues } = parseThumbnailVtt(await bodyText((await r.get(path)).body));
    t.ok(cues.length > 0, `${kind} has cues`);
    for (const c of cues) await follow(path, c.uri, `${kind} sheet`);
  }
  const sessions = await json(await r.get(r.withToken(r.routes.archiveSessions, r.tk.good)));
  for (const s of sessions.sessions) for (const uri of [s.playlist, s.multivariant]) await follow('/', uri, 'sessions.json');
  const latest = await r.get(r.withToken(r.routes.thumbnail, r.tk.good));
  await follow('/', latest.headers['content-location'], 'thumbnail.jpg Content-Location');
});

t.test('the packager carries the query onto rendition reports, maps, parts, segments and the hint', async (t) => {
  const segs = [0, 1].map((i) => ({ msn: 5 + i, initId: 1, discontinuity: false, programDateTimeMs: i * 2000, startMs: i * 2000, durationMs: 2000,
    complete: i === 0, parts: [0, 1].map((index) => ({ index, durationMs: 200, independent: index === 0 })) }));
  const text = renderMediaPlaylist({ segments: segs, discontinuitySequence: 0, ended: false,
    renditionReports: [{ uri: '360p.m3u8', lastMsn: 6, lastPart: 1 }, { uri: '240p.m3u8', lastMsn: 6, lastPart: 1 }] },
  { targetDurationSec: 2, partTargetSec: 0.2, partHoldBackSec: 0.6, holdBackSec: 6, canSkipUntilSec: 12,
    initUri: (id) => `source/init-${id}.mp4`, segmentUri: (m) => `source/${m}.m4s`, partUri: (m, i) => `source/${m}.${i}.m4s` },
  { skip: 'NO', querySuffix: '?token=T' });
  const uris = playlistUris(text);
  t.same([...new Set(uris.map((u) => u.tag))].sort(), ['#EXT-X-MAP', '#EXT-X-PART', '#EXT-X-PRELOAD-HINT', '#EXT-X-RENDITION-REPORT', 'URI line']);
  t.ok(uris.every((u) => tokenOf(u.uri) === 'T'), uris.filter((u) => tokenOf(u.uri) !== 'T').map((u) => u.uri).join(' '));
});

t.test('the player page passes its token on to the playlist URL', async (t) => {
  const r = await rig(t);
  const page = await r.get(`/player/test?token=${r.tk.good}`);
  t.equal(page.status, 200, 'the page itself holds no media: it needs no token');
  const expr = /var src = (.+);/.exec(await bodyText(page.body))?.[1];
  t.ok(expr, 'the page builds its playlist URL');
  const src = runInNewContext(expr!, { location: { search: `?token=${r.tk.good}` } }) as string;
  t.equal(src, `/live/test/index.m3u8?token=${r.tk.good}`);
  t.equal((await r.get(src)).status, 200, 'and that URL plays');
});

t.test('a channel that requires tokens on a handler given no key: every token refused (fail closed) until it gets one', async (t) => {
  const r = await rig(t, { tokens: false });
  await expectRefused(t, await r.get(r.routes.part), 401, 'TOKEN_REQUIRED', 'no token');
  await expectRefused(t, await r.get(r.withToken(r.routes.part, r.tk.good)), 403, 'TOKEN_INVALID', 'a token nobody can check');
  Object.assign(r.access, { tokenRequired: false, preview: true });
  await expectRefused(t, await r.get(r.withToken(r.routes.part, r.tk.preview)), 403, 'TOKEN_INVALID', 'preview: a token nobody can check');
  r.handler.usePlaybackTokens(r.tokens);
  t.equal((await r.get(r.withToken(r.routes.part, r.tk.preview))).status, 200, 'given the key at start, as the origin loads it');
});
