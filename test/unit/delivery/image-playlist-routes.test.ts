/**
 * The live image playlist over the origin's handler, with the real native thumbnailer: ffmpeg-made
 * keyframes go into a channel's ChannelThumbnails at the wall-clock times of the parts the
 * channel plays, and the test reads /live/<ch>/previews.m3u8 and the multivariant playlist as a
 * player would: one tile per segment, durations and PROGRAM-DATE-TIME against the video
 * playlist, its TARGETDURATION and hold-backs in each latency mode, the media sequence as tiles
 * leave the window, every tile URI a JPEG of the tile alone, the query carried, ENDLIST, and
 * the errors.
 */
import t, { type Test } from 'tap';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { OriginHandler } from '../../../src/delivery/handler.js';
import { Thumbnailer } from '../../../src/addon/thumbnailer.js';
import { ChannelThumbnails } from '../../../src/media/thumbnails/channel-thumbnails.js';
import { ThumbnailStore } from '../../../src/media/thumbnails/thumbnail-store.js';
import { ThumbnailPaths } from '../../../src/media/thumbnails/thumbnail-layout.js';
import { thumbnailSettings } from '../../../src/media/thumbnails/thumbnail-settings.js';
import { configSchema } from '../../../src/config/schema.js';
import type { LatencyMode } from '../../../src/media/latency-profile.js';
import { silentLogger } from '../../../src/log.js';
import { fixtureAndDir } from '../addon/fixtures.js';
import { bodyText, fakeChannel, request } from '../../helpers/fake-channel.js';
import { imageStreams, parseAttributes, parseImagePlaylist, type ImagePlaylist } from '../../helpers/image-playlist.js';
import { parseM3u8 } from '../../helpers/m3u8.js';
import { jpegSize } from '../../helpers/jpeg.js';
import { waitUntil } from '../../helpers/origin.js';

const COLUMNS = 3, ROWS = 2, TILE = { width: 64, height: 36 }; // 320x180 source, tiles 64 wide
const preview = (enabled: boolean) => thumbnailSettings(configSchema.parse({}).thumbnails,
  { preview: { enabled, intervalSec: 2, tileWidth: TILE.width, columns: COLUMNS, rows: ROWS } });

// A keyframe a second for 41 s: tiles every 2 s, sheets of 6 tiles (12 s).
const files = fixtureAndDir(t, { width: 320, height: 180, fps: 30, gop: 30, audio: false, durationSec: 41 }, 'sigma-image-playlist-');

function setup(o: { previews?: boolean; mode?: LatencyMode } = {}) {
  const { fx, root } = files;
  const f = fakeChannel(o.mode ?? 'ultra-low'); // ultra-low: 2 s segments of 0.2 s parts, a 20 s window
  const partMs = (f.profile.partTargetSec ?? f.profile.segmentTargetSec) * 1000;
  // The first frame stamps the publication's wall clock: parts and keyframes share it, as from ingest.
  f.pub.write(fx.aus[0]);
  const gate = { writable: true, reportWriteError() {} };
  const store = new ThumbnailStore(new ThumbnailPaths(join(root, String(Math.random()).slice(2))), gate, silentLogger());
  const th = new ChannelThumbnails({ channelId: 'test', settings: preview(o.previews ?? true), createThumbnailer: (opts, h) => new Thumbnailer(opts, h),
    logger: silentLogger(), store, retainMs: 3_600_000 });
  th.setTracks(fx.tracks);
  const handler = new OriginHandler({ get: (id) => (id === 'test' ? f.channel : undefined), thumbnails: (id) => (id === 'test' ? th : undefined) }, silentLogger());
  let mediaMs = 0, base = 0;
  return {
    f, th, handler,
    get: async (path: string, headers?: Record<string, string>) => handler.handle(request(path, { headers })),
    /** Plays `ms` more media: parts as the pipeline cuts them, keyframes to the thumbnailer at the parts' wall-clock times. */
    async play(ms: number) {
      for (const end = mediaMs + ms; mediaMs < end; mediaMs += partMs) {
        f.part();
        base ||= f.channel.rendition('source')!.window.segments[0].programDateTimeMs;
        for (const au of fx.aus) {
          if (au.dts < mediaMs || au.dts >= mediaMs + partMs || !au.keyframe) continue;
          th.write(au, base + au.dts);
          await waitUntil(() => th.pending === 0, 10_000, 'the thumbnailer');
        }
      }
    },
    get baseMs() { return base; },
  };
}

const text = async (r: { body?: unknown }) => bodyText(r.body);
const code = async (r: { body?: unknown }) => JSON.parse(await text(r)).error.code as string;

/** The source playlist's window as wall-clock times, and its header's timing. */
async function videoWindow(get: (p: string) => Promise<{ body?: unknown }>) {
  const body = await text(await get('/live/test/source.m3u8'));
  const { manifest } = parseM3u8(body);
  const segs = manifest.segments as { dateTimeString: string; duration: number }[];
  // The open segment (its parts so far) is m3u8-parser's preloadSegment, with its own PROGRAM-DATE-TIME.
  const open = manifest.preloadSegment as { dateTimeString: string; parts?: { duration: number }[] } | undefined;
  const last = segs[segs.length - 1];
  const endMs = open?.parts?.length ? Date.parse(open.dateTimeString) + open.parts.reduce((s, p) => s + p.duration * 1000, 0)
    : Date.parse(last.dateTimeString) + last.duration * 1000;
  const partTarget = /#EXT-X-PART-INF:PART-TARGET=([\d.]+)/.exec(body)?.[1];
  return {
    startMs: Date.parse(segs[0].dateTimeString), endMs,
    targetDuration: Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(body)![1]),
    serverControl: parseAttributes(/#EXT-X-SERVER-CONTROL:(.*)/.exec(body)![1]),
    partTarget: partTarget === undefined ? undefined : Number(partTarget),
  };
}

/** The image playlist has the video's TARGETDURATION and hold-backs (and its PART-TARGET when it has parts). */
function checkTiming(t: Test, p: ImagePlaylist, v: Awaited<ReturnType<typeof videoWindow>>): void {
  t.equal(p.targetDurationSec, v.targetDuration, `TARGETDURATION ${p.targetDurationSec}: the video's (TD-04)`);
  const { 'PART-HOLD-BACK': partHoldBack, 'HOLD-BACK': holdBack } = v.serverControl;
  t.same(p.serverControl, partHoldBack === undefined ? { 'HOLD-BACK': holdBack } : { 'PART-HOLD-BACK': partHoldBack, 'HOLD-BACK': holdBack },
    'the video\'s HOLD-BACK (and PART-HOLD-BACK), without CAN-BLOCK-RELOAD and CAN-SKIP-UNTIL: it neither blocks nor skips');
  t.equal(p.partTargetSec, v.partTarget, 'PART-INF as the video\'s (Shaka reads PART-HOLD-BACK only after a PART-INF)');
  t.ok(p.segments.every((s) => s.durationSec <= p.targetDurationSec && s.tileSec === s.durationSec), 'every EXTINF within TARGETDURATION, DURATION = EXTINF');
}

/** Each segment's URI serves its tile alone: a JPEG of the tile size, cached for good. */
async function checkTiles(t: Test, get: (p: string) => Promise<{ status: number; headers: Record<string, string>; body?: unknown }>, p: ImagePlaylist) {
  let bad = 0;
  for (const s of p.segments) {
    const r = await get(`/live/test/${s.uri}`);
    const size = r.status === 200 ? jpegSize(r.body as Buffer) : undefined;
    if (r.status !== 200 || r.headers['content-type'] !== 'image/jpeg' || r.headers['cache-control'] !== 'public, max-age=31536000, immutable'
      || size?.width !== TILE.width || size.height !== TILE.height || s.columns !== 1 || s.rows !== 1) bad++;
  }
  t.equal(bad, 0, `each of the ${p.segments.length} segments is a ${TILE.width}x${TILE.height} JPEG of its tile alone (LAYOUT 1x1), immutable`);
}

t.test('live image playlist: a tile per segment, the video\'s timing, aligned, numbered, served; listed in the multivariant playlist', async (t) => {
  const { get, play, th, f } = setup();
  t.equal(await code(await get('/live/test/previews.m3u8')), 'CHANNEL_NOT_LIVE', 'nothing before the channel plays');
  await play(14_000); // 7 segments; tiles at 0, 2, … 12 s
  const r = await get('/live/test/previews.m3u8?token=abc');
  t.equal(r.status, 200);
  t.equal(r.headers['content-type'], 'application/vnd.apple.mpegurl');
  t.equal(r.headers['cache-control'], 'public, max-age=1', 'cached like the live media playlist (½ TD)');
  const body = await text(r);
  const p = parseImagePlaylist(body);
  const v = await videoWindow(get);
  checkTiming(t, p, v);
  t.same(p.segments.map((s) => [s.programDateTimeMs - v.startMs, s.durationSec, s.tileWidth, s.tileHeight, s.discontinuity]),
    [0, 2000, 4000, 6000, 8000, 10_000].map((ms) => [ms, 2, TILE.width, TILE.height, false]),
    'a tile every 2 s from the window\'s start, each until the next; the newest (12 s) waits for the tile after it');
  t.equal(p.mediaSequence, th.tileNumber(p.segments[0].programDateTimeMs));
  t.same([p.ended, p.discontinuitySequence], [false, 0]);
  t.ok(p.segments.every((s) => /^previews\/tiles\/\d{13}\.jpg\?token=abc$/.test(s.uri)), 'tile URIs relative to the playlist, the token carried');
  await checkTiles(t, get, p);
  const gz = await get('/live/test/previews.m3u8?token=abc', { 'Accept-Encoding': 'gzip' });
  t.equal(gunzipSync(gz.body as Buffer).toString(), body, 'gzipped when asked');

  const mv = await text(await get('/live/test/index.m3u8?token=abc'));
  const img = imageStreams(mv);
  t.equal(img.length, 1, 'the multivariant playlist lists one image playlist');
  t.same({ ...img[0], BANDWIDTH: undefined }, { BANDWIDTH: undefined, RESOLUTION: `${TILE.width}x${TILE.height}`, CODECS: 'jpeg', URI: 'previews.m3u8?token=abc' });
  t.ok(Number(img[0].BANDWIDTH) > 500 && Number(img[0].BANDWIDTH) < 200_000, `BANDWIDTH measured on the tiles: ${img[0].BANDWIDTH} b/s`);
  t.same(parseM3u8(mv).manifest.playlists.map((x: { uri: string }) => x.uri), ['source.m3u8?token=abc'], 'the variants are unchanged');

  await play(4000); // to 18 s: a reload later, the same tiles and then some
  const p1 = parseImagePlaylist(await text(await get('/live/test/previews.m3u8?token=abc')));
  const numbered = (x: ImagePlaylist) => x.segments.map((s, i) => JSON.stringify([s.uri, x.mediaSequence + i, s.durationSec, s.programDateTimeMs]));
  t.same(numbered(p1).slice(0, p.segments.length), numbered(p), 'a reload keeps every listed tile with its number, EXTINF and PROGRAM-DATE-TIME (MS-04)');
  t.ok(p1.segments.length > p.segments.length, `and adds the newer ones (${p1.segments.length - p.segments.length})`);

  await play(22_000); // to 40 s: the 20 s window has moved on
  const p2 = parseImagePlaylist(await text(await get('/live/test/previews.m3u8')));
  const v2 = await videoWindow(get);
  checkTiming(t, p2, v2);
  const first = p2.segments[0];
  t.ok(first.programDateTimeMs >= v2.startMs && first.programDateTimeMs < v2.startMs + 2000,
    `the first tile (${first.programDateTimeMs - v.startMs} ms) is the first taken in the window (${v2.startMs - v.startMs} ms)`);
  // A tile every 2 s since the first: the tiles that left are the 2 s steps between the first tiles.
  const left = (first.programDateTimeMs - p.segments[0].programDateTimeMs) / 2000;
  t.ok(left >= 5, `${left} tiles left the window`);
  t.equal(p2.mediaSequence, p.mediaSequence + left, 'EXT-X-MEDIA-SEQUENCE went up by the tiles that left');
  let contiguous = 0;
  for (let i = 1; i < p2.segments.length; i++) if (Math.abs(p2.segments[i - 1].programDateTimeMs + p2.segments[i - 1].durationSec * 1000 - p2.segments[i].programDateTimeMs) < 1) contiguous++;
  t.equal(contiguous, p2.segments.length - 1, 'each tile ends where the next begins');
  const lastEnd = p2.segments.at(-1)!.programDateTimeMs + p2.segments.at(-1)!.durationSec * 1000;
  t.ok(lastEnd <= v2.endMs && v2.endMs - lastEnd <= 4000, `the newest tile ends ${v2.endMs - lastEnd} ms before the newest media: at most two preview intervals behind`);
  await checkTiles(t, get, p2);

  await f.pub.finish('test');
  await waitUntil(async () => (await text(await get('/live/test/source.m3u8'))).includes('#EXT-X-ENDLIST'), 2000, 'the playlist to end');
  const ended = parseImagePlaylist(await text(await get('/live/test/previews.m3u8')));
  const v3 = await videoWindow(get);
  t.equal(ended.ended, true, 'ENDLIST once the video playlist has ended');
  t.equal(ended.segments.at(-1)!.programDateTimeMs + ended.segments.at(-1)!.durationSec * 1000, v3.endMs, 'the last tile stands to the end of the media');
  t.same(imageStreams(await text(await get('/live/test/index.m3u8'))), [],
    'an ended window is a VOD to a new player: not listed (Shaka places VOD image segments from 0, not by PROGRAM-DATE-TIME)');
  await th.close();
});

t.test('channels without parts (low, normal): the image playlist carries the video\'s HOLD-BACK and TARGETDURATION, and is listed', async (t) => {
  for (const mode of ['low', 'normal'] as const) {
    const { get, play, th } = setup({ mode });
    await play(mode === 'low' ? 14_000 : 20_000);
    const p = parseImagePlaylist(await text(await get('/live/test/previews.m3u8')));
    const v = await videoWindow(get);
    t.ok(p.segments.length >= 3, `${mode}: ${p.segments.length} tiles in the window`);
    checkTiming(t, p, v);
    t.equal(p.partTargetSec, undefined, `${mode}: no PART-INF (no parts to name, PI-03)`);
    t.ok(p.segments.every((s) => s.durationSec === 2), `${mode}: 2 s tiles within a ${p.targetDurationSec} s TARGETDURATION`);
    t.same(imageStreams(await text(await get('/live/test/index.m3u8'))).map((x) => x.URI), ['previews.m3u8'],
      `${mode}: named by the multivariant playlist (Shaka's delay is the video's HOLD-BACK either way)`);
    await th.close();
  }
});

t.test('errors: before the first tile, previews off, thumbnails off; no clash with renditions', async (t) => {
  const a = setup();
  await a.play(4000);
  const none = setup(); // parts, but no keyframe reached the thumbnailer yet
  none.f.parts(11);
  const r = await none.get('/live/test/previews.m3u8');
  t.same([r.status, await code(r)], [404, 'NO_THUMBNAIL'], 'a live channel without a tile yet');
  t.same(imageStreams(await text(await none.get('/live/test/index.m3u8'))), [], 'and the multivariant playlist lists none');
  const off = setup({ previews: false });
  await off.play(4000);
  t.same(await code(await off.get('/live/test/previews.m3u8')), 'THUMBNAILS_DISABLED', 'previews off');
  t.same(imageStreams(await text(await off.get('/live/test/index.m3u8'))), []);
  const bare = new OriginHandler({ get: () => a.f.channel }, silentLogger());
  t.same(await code(await bare.handle(request('/live/test/previews.m3u8'))), 'THUMBNAILS_DISABLED', 'thumbnails off');
  t.match(await text(await bare.handle(request('/live/test/index.m3u8'))), /^(?![\s\S]*IMAGE-STREAM)/);
  t.equal((await a.get('/live/test/previews.m3u8')).status, 200, 'previews.m3u8 is not taken for a rendition');
  t.equal(await code(await a.get('/live/test/previews/tiles/1000.jpg')), 'NOT_FOUND', 'a tile that does not exist');
  t.equal(await code(await a.get('/live/test/nope.m3u8')), 'RENDITION_NOT_FOUND', 'other names still are');
  await Promise.all([a.th.close(), none.th.close(), off.th.close()]);
});
