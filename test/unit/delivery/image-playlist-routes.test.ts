/**
 * The live image playlist over the origin's handler, with the real native thumbnailer: ffmpeg-made
 * keyframes go into a channel's ChannelThumbnails at the wall-clock times of the parts the
 * channel plays, and the test reads /live/<ch>/previews.m3u8 and the multivariant playlist as a
 * player would: tiles and durations, PROGRAM-DATE-TIME against the video playlist, the media
 * sequence as sheets leave the window, every sheet URI a JPEG of the stated size, the query
 * carried, ENDLIST, and the errors.
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

/** The source playlist's window as wall-clock times, and its server control and part target. */
async function videoWindow(get: (p: string) => Promise<{ body?: unknown }>) {
  const body = await text(await get('/live/test/source.m3u8'));
  const { manifest } = parseM3u8(body);
  const segs = manifest.segments as { dateTimeString: string; duration: number }[];
  // The open segment (its parts so far) is m3u8-parser's preloadSegment, with its own PROGRAM-DATE-TIME.
  const open = manifest.preloadSegment as { dateTimeString: string; parts?: { duration: number }[] } | undefined;
  const last = segs[segs.length - 1];
  const endMs = open?.parts?.length ? Date.parse(open.dateTimeString) + open.parts.reduce((s, p) => s + p.duration * 1000, 0)
    : Date.parse(last.dateTimeString) + last.duration * 1000;
  return {
    startMs: Date.parse(segs[0].dateTimeString), endMs,
    serverControl: parseAttributes(/#EXT-X-SERVER-CONTROL:(.*)/.exec(body)![1]),
    partTarget: Number(/#EXT-X-PART-INF:PART-TARGET=([\d.]+)/.exec(body)![1]),
  };
}

/** Each segment's URI serves a JPEG as wide as the layout and tall enough for every tile the segment claims. */
async function checkSheets(t: Test, get: (p: string) => Promise<{ status: number; headers: Record<string, string>; body?: unknown }>, p: ImagePlaylist) {
  for (const s of p.segments) {
    const r = await get(`/live/test/${s.uri}`);
    t.equal(r.status, 200, `${s.uri} is served`);
    t.equal(r.headers['content-type'], 'image/jpeg');
    const size = jpegSize(r.body as Buffer);
    const cells = Math.round(s.durationSec / s.tileSec);
    const full = cells === COLUMNS * ROWS;
    t.ok(cells >= 1 && cells <= COLUMNS * ROWS, `${cells} cells claimed (${s.durationSec} s of ${s.tileSec} s tiles)`);
    if (full) t.same(size, { width: COLUMNS * TILE.width, height: ROWS * TILE.height }, `a full sheet is ${COLUMNS}x${ROWS} tiles of ${TILE.width}x${TILE.height}`);
    else t.ok(size.width === COLUMNS * TILE.width && size.height >= Math.ceil(cells / COLUMNS) * TILE.height, `the sheet being filled (${size.width}x${size.height}) holds its ${cells} tiles`);
    t.equal(r.headers['cache-control'], full ? 'public, max-age=31536000, immutable' : 'public, max-age=1');
  }
}

t.test('live image playlist: sheets of the window, aligned with the video, numbered, served; listed in the multivariant playlist', async (t) => {
  const { get, play, th, f } = setup();
  t.equal(await code(await get('/live/test/previews.m3u8')), 'CHANNEL_NOT_LIVE', 'nothing before the channel plays');
  await play(14_000); // 7 segments; tiles at 0, 2, … 12 s: a full sheet and one of a tile
  const r = await get('/live/test/previews.m3u8?token=abc');
  t.equal(r.status, 200);
  t.equal(r.headers['content-type'], 'application/vnd.apple.mpegurl');
  t.equal(r.headers['cache-control'], 'public, max-age=1', 'cached like the live media playlist (½ TD)');
  const body = await text(r);
  const p = parseImagePlaylist(body);
  const v = await videoWindow(get);
  t.same(p.segments.map((s) => [s.programDateTimeMs - v.startMs, s.durationSec, s.tileSec, s.tileWidth, s.tileHeight, s.columns, s.rows]),
    [[0, 12, 2, 64, 36, 3, 2], [12_000, 2, 2, 64, 36, 3, 2]], 'sheet 1: 12 s from the first segment; sheet 2: one tile, cut at the newest part');
  t.equal(p.segments.at(-1)!.programDateTimeMs + p.segments.at(-1)!.durationSec * 1000, v.endMs, 'durations add up to the video\'s newest media');
  t.equal(p.mediaSequence, th.sheetNumber(p.segments[0].programDateTimeMs));
  t.equal(p.ended, false);
  t.same(p.serverControl, { 'PART-HOLD-BACK': v.serverControl['PART-HOLD-BACK'] }, 'the video playlist\'s PART-HOLD-BACK, no blocking reload');
  t.equal(p.partTargetSec, v.partTarget, 'and its part target');
  t.notOk('HOLD-BACK' in p.serverControl!, 'no HOLD-BACK: implied 3 × TARGETDURATION (SC-02), where the video\'s would be less');
  t.ok(p.segments.every((s) => /^previews\/\d{13}\.jpg\?token=abc$/.test(s.uri)), 'sheet URIs relative to the playlist, the token carried');
  await checkSheets(t, get, p);
  const gz = await get('/live/test/previews.m3u8?token=abc', { 'Accept-Encoding': 'gzip' });
  t.equal(gunzipSync(gz.body as Buffer).toString(), body, 'gzipped when asked');

  const mv = await text(await get('/live/test/index.m3u8?token=abc'));
  const img = imageStreams(mv);
  t.equal(img.length, 1, 'the multivariant playlist lists one image playlist');
  t.same({ ...img[0], BANDWIDTH: undefined }, { BANDWIDTH: undefined, RESOLUTION: '64x36', CODECS: 'jpeg', URI: 'previews.m3u8?token=abc' });
  t.ok(Number(img[0].BANDWIDTH) > 1000 && Number(img[0].BANDWIDTH) < 1_000_000, `BANDWIDTH measured on the sheets: ${img[0].BANDWIDTH} b/s`);
  t.same(parseM3u8(mv).manifest.playlists.map((x: { uri: string }) => x.uri), ['source.m3u8?token=abc'], 'the variants are unchanged');

  await play(26_000); // to 40 s: the 20 s window has moved past the first sheet
  const p2 = parseImagePlaylist(await text(await get('/live/test/previews.m3u8')));
  const v2 = await videoWindow(get);
  const first = p2.segments[0];
  t.ok(first.programDateTimeMs <= v2.startMs && v2.startMs < first.programDateTimeMs + first.durationSec * 1000,
    `the first sheet (${first.programDateTimeMs - v.startMs} ms) covers the window's start (${v2.startMs - v.startMs} ms)`);
  const left = p.segments.filter((s) => s.programDateTimeMs < first.programDateTimeMs).length;
  t.ok(left >= 1, `${left} sheet(s) left the window`);
  t.equal(p2.mediaSequence, p.mediaSequence + left, 'EXT-X-MEDIA-SEQUENCE went up by the sheets that left');
  const kept = p2.segments.findIndex((s) => s.programDateTimeMs === p.segments[1].programDateTimeMs);
  if (kept >= 0) t.equal(p2.mediaSequence + kept, p.mediaSequence + 1, 'a sheet keeps its number');
  let contiguous = 0;
  for (let i = 1; i < p2.segments.length; i++) if (Math.abs(p2.segments[i - 1].programDateTimeMs + p2.segments[i - 1].durationSec * 1000 - p2.segments[i].programDateTimeMs) < 1) contiguous++;
  t.equal(contiguous, p2.segments.length - 1, 'each sheet ends where the next begins');
  t.equal(p2.segments.at(-1)!.programDateTimeMs + p2.segments.at(-1)!.durationSec * 1000, v2.endMs, 'and the last at the newest media');
  await checkSheets(t, get, p2);

  await f.pub.finish('test');
  await waitUntil(async () => (await text(await get('/live/test/source.m3u8'))).includes('#EXT-X-ENDLIST'), 2000, 'the playlist to end');
  const ended = await text(await get('/live/test/previews.m3u8'));
  t.match(ended, /#EXT-X-ENDLIST\n$/, 'ENDLIST once the video playlist has ended');
  t.same(imageStreams(await text(await get('/live/test/index.m3u8'))), [],
    'an ended window is a VOD to a new player: not listed (Shaka places VOD image segments from 0, not by PROGRAM-DATE-TIME)');
  await th.close();
});

t.test('a channel without parts: the image playlist is served without server control, but the multivariant playlist does not name it', async (t) => {
  const { get, play, th } = setup({ mode: 'low' }); // 2 s segments, no parts
  await play(14_000);
  const p = parseImagePlaylist(await text(await get('/live/test/previews.m3u8')));
  t.ok(p.segments.length >= 1, `${p.segments.length} sheet(s) in the window`);
  t.same([p.serverControl, p.partTargetSec], [undefined, undefined],
    'no EXT-X-SERVER-CONTROL: the video\'s HOLD-BACK is below 3 × this TARGETDURATION (SC-02), and there is no PART-HOLD-BACK to repeat');
  t.same(imageStreams(await text(await get('/live/test/index.m3u8'))), [],
    'not named by the multivariant playlist: Shaka would take three sheets as its live delay (docs/adr/005)');
  await th.close();
});

t.test('errors: before the first sheet, previews off, thumbnails off; no clash with renditions', async (t) => {
  const a = setup();
  await a.play(4000);
  const none = setup(); // parts, but no keyframe reached the thumbnailer yet
  none.f.parts(11);
  const r = await none.get('/live/test/previews.m3u8');
  t.same([r.status, await code(r)], [404, 'NO_THUMBNAIL'], 'a live channel without a sheet yet');
  t.same(imageStreams(await text(await none.get('/live/test/index.m3u8'))), [], 'and the multivariant playlist lists none');
  const off = setup({ previews: false });
  await off.play(4000);
  t.same(await code(await off.get('/live/test/previews.m3u8')), 'THUMBNAILS_DISABLED', 'previews off');
  t.same(imageStreams(await text(await off.get('/live/test/index.m3u8'))), []);
  const bare = new OriginHandler({ get: () => a.f.channel }, silentLogger());
  t.same(await code(await bare.handle(request('/live/test/previews.m3u8'))), 'THUMBNAILS_DISABLED', 'thumbnails off');
  t.match(await text(await bare.handle(request('/live/test/index.m3u8'))), /^(?![\s\S]*IMAGE-STREAM)/);
  t.equal((await a.get('/live/test/previews.m3u8')).status, 200, 'previews.m3u8 is not taken for a rendition');
  t.equal(await code(await a.get('/live/test/nope.m3u8')), 'RENDITION_NOT_FOUND', 'other names still are');
  await Promise.all([a.th.close(), none.th.close(), off.th.close()]);
});
