/**
 * Thumbnails and scrubbing previews end to end: ffmpeg publishes over RTMP to a real origin
 * (native addon), and the test fetches what a listing page and a player fetch: the newest
 * thumbnail, the live WebVTT thumbnails track with its sprite sheets, the live image playlist
 * with a JPEG per tile, and, after the publisher left, the catchup track of the session,
 * checking every #xywh area against the real JPEG.
 */
import t, { type Test } from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startOrigin, waitUntil, type RunningOrigin } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { decodeJpegLuma, jpegSize, lumaStats } from '../helpers/jpeg.js';
import { parseM3u8 } from '../helpers/m3u8.js';
import { parseThumbnailVtt, type ThumbnailCue } from '../helpers/webvtt.js';
import { imageStreams, parseImagePlaylist } from '../helpers/image-playlist.js';

const PREVIEW_MS = 2000;
const COLUMNS = 3, ROWS = 2;

async function get(url: string): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const r = await fetch(url);
  return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
}

/** Every cue's area lies inside its sheet as the JPEG really is; returns the sheets' sizes. */
async function checkSheets(t: Test, vttUrl: string, cues: ThumbnailCue[]): Promise<Map<string, { width: number; height: number }>> {
  const sizes = new Map<string, { width: number; height: number }>();
  for (const uri of new Set(cues.map((c) => c.uri))) {
    const r = await get(new URL(uri, vttUrl).href);
    t.equal(r.status, 200, `sheet ${uri} is served`);
    t.equal(r.headers.get('content-type'), 'image/jpeg');
    sizes.set(uri, jpegSize(r.body));
  }
  let outside = 0;
  for (const c of cues) {
    const s = sizes.get(c.uri)!;
    if (c.xywh.x + c.xywh.w > s.width || c.xywh.y + c.xywh.h > s.height || c.xywh.w !== 160 || c.xywh.h !== 90) outside++;
  }
  t.equal(outside, 0, `every #xywh area (160x90) lies inside its sheet's real JPEG size (${[...sizes.values()].map((s) => `${s.width}x${s.height}`).join(', ')})`);
  return sizes;
}

function checkSpacing(t: Test, cues: ThumbnailCue[], what: string): void {
  let bad = 0;
  for (let i = 0; i < cues.length; i++) {
    const c = cues[i];
    if (c.endMs <= c.startMs) bad++;
    if (i > 0 && (c.startMs !== cues[i - 1].endMs || Math.abs(c.startMs - cues[i - 1].startMs - PREVIEW_MS) > 100)) bad++;
  }
  t.equal(bad, 0, `${what}: cue times monotonic, each cue ends where the next begins, starts ${PREVIEW_MS} ms apart (±100) ` +
    `[${cues.slice(0, 6).map((c) => c.startMs).join(', ')}, …]`);
}

t.test('ffmpeg ▶ RTMP ▶ origin: thumbnail.jpg, previews.vtt and sprite sheets, previews.m3u8 and its tiles, catchup .vtt', async (t) => {
  const o: RunningOrigin = await startOrigin({
    thumbnails: { intervalSec: 4, width: 320, preview: { intervalSec: PREVIEW_MS / 1000, tileWidth: 160, columns: COLUMNS, rows: ROWS } },
    channels: [{ id: 'demo', streamKey: 'demo-key-123' }, { id: 'off', streamKey: 'off-key-1234', thumbnails: { enabled: false } }],
  });
  t.teardown(() => o.close());
  const base = `${o.http}/live/demo`;

  const before = await get(`${base}/thumbnail.jpg`);
  t.equal(before.status, 404, 'no thumbnail before the first publish');
  t.equal(JSON.parse(before.body.toString()).error.code, 'NO_THUMBNAIL');

  const startedMs = Date.now();
  // 1 s GOP: keyframes every second, so tiles come exactly every 2 s.
  const pub = startPublisher(o.rtmp('demo-key-123'), { width: 640, height: 360, fps: 30, gop: 30, audio: true });
  t.teardown(() => stopPublisher(pub));

  await t.test('thumbnail.jpg: the newest picture, a 320x180 JPEG stamped with the wall clock', async (t) => {
    const r = await waitUntil(async () => {
      const x = await get(`${base}/thumbnail.jpg`);
      return x.status === 200 ? x : undefined;
    }, 20_000, 'the first thumbnail');
    const fetchedMs = Date.now();
    t.equal(r.headers.get('content-type'), 'image/jpeg');
    t.match(r.headers.get('cache-control'), /^public, max-age=1$/, 'cached like a playlist (½ target duration)');
    t.same(jpegSize(r.body), { width: 320, height: 180 }, '320 wide, height from 16:9');
    const d = await decodeJpegLuma(r.body);
    const s = lumaStats(d.luma, d.width, 0, 0, d.width, d.height);
    t.ok(s.stdev > 20, `ffmpeg decodes a real picture (luma stdev ${s.stdev.toFixed(1)})`);
    const loc = r.headers.get('content-location')!;
    t.match(loc, /^\/live\/demo\/thumbnails\/\d{13}\.jpg$/, 'Content-Location names its immutable URL');
    const timeMs = Number(/(\d{13})\.jpg$/.exec(loc)![1]);
    // PROGRAM-DATE-TIME is the wall clock at the first frame plus media time, so a publisher
    // sending a little ahead of real time (ffmpeg -re) stamps frames a few ms in the future.
    t.ok(timeMs >= startedMs && Math.abs(fetchedMs - timeMs) < 4000 + 2000,
      `its time ${new Date(timeMs).toISOString()} is close to the wall clock (${fetchedMs - timeMs} ms before the fetch)`);
    t.equal(new Date(r.headers.get('last-modified')!).getTime(), Math.floor(timeMs / 1000) * 1000, 'Last-Modified is its time');
    const kept = await waitUntil(async () => { const x = await get(`${o.http}${loc}`); return x.status === 200 ? x : undefined; }, 5000, 'the kept copy');
    t.ok(kept.body.equals(r.body), 'the immutable URL serves the same bytes (from disk)');
    t.equal(kept.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const head = await fetch(`${base}/thumbnail.jpg`, { method: 'HEAD' });
    t.equal(head.status, 200, 'HEAD works');
  });

  // Enough for more than one sheet (6 tiles of 2 s each).
  await new Promise((r) => setTimeout(r, 15_000));

  await t.test('previews.vtt: cues on the live window\'s timeline, 2 s apart, every area inside its sheet', async (t) => {
    const vttUrl = `${base}/previews.vtt`;
    const r = await get(vttUrl);
    t.equal(r.status, 200);
    t.equal(r.headers.get('content-type'), 'text/vtt; charset=utf-8');
    const { cues, notes } = parseThumbnailVtt(r.body.toString());
    t.ok(cues.length >= 7, `${cues.length} cues after ~${Math.round((Date.now() - startedMs) / 1000)} s`);
    checkSpacing(t, cues, 'live');
    const playlist = parseM3u8(await (await fetch(`${base}/source.m3u8`)).text()).manifest;
    const firstPdt = new Date(playlist.segments[0].dateTimeString).getTime();
    t.match(notes[0], new RegExp(`PROGRAM-DATE-TIME ${new Date(firstPdt).toISOString()}`), 'time 0 is the first segment\'s PROGRAM-DATE-TIME');
    t.ok(cues[0].startMs < PREVIEW_MS, `the first cue covers the window's start (${cues[0].startMs} ms)`);
    const windowMs = playlist.segments.reduce((s: number, x: { duration: number }) => s + x.duration * 1000, 0);
    t.ok(cues[cues.length - 1].startMs <= windowMs + 2 * PREVIEW_MS, `the newest cue (${cues.at(-1)!.startMs} ms) is at the live edge (${Math.round(windowMs)} ms listed)`);
    const sizes = await checkSheets(t, vttUrl, cues);
    t.ok(sizes.size >= 2, `tiles span ${sizes.size} sheets of ${COLUMNS}x${ROWS}`);
    t.ok([...sizes.keys()].every((u) => /^previews\/\d{13}\.jpg$/.test(u)), 'sheet URIs are relative to the track');
    // Tiles are laid out row-major from each sheet's first tile.
    const bySheet = new Map<string, ThumbnailCue[]>();
    for (const c of cues) bySheet.set(c.uri, [...(bySheet.get(c.uri) ?? []), c]);
    const full = [...bySheet.values()].find((cs) => cs.length === COLUMNS * ROWS);
    if (full) t.same(full.map((c) => [c.xywh.x, c.xywh.y]), [[0, 0], [160, 0], [320, 0], [0, 90], [160, 90], [320, 90]], 'a full sheet: 3 columns, 2 rows');
    const fullSheet = full && await get(new URL(full[0].uri, vttUrl).href);
    if (fullSheet) t.equal(fullSheet.headers.get('cache-control'), 'public, max-age=31536000, immutable', 'a full sheet never changes');
  });

  await t.test('previews.m3u8: the same tiles as previews.vtt, one per segment, with the video\'s timing; the multivariant playlist lists it', async (t) => {
    const [vtt, imgRes, mv, src] = await Promise.all(['previews.vtt', 'previews.m3u8', 'index.m3u8', 'source.m3u8'].map((p) => get(`${base}/${p}`)));
    const [vttText, mvText, srcText] = [vtt, mv, src].map((r) => r.body.toString());
    t.equal(imgRes.status, 200);
    const img = parseImagePlaylist(imgRes.body.toString());
    t.same(imageStreams(mvText).map((x) => [x.RESOLUTION, x.CODECS, x.URI]), [['160x90', 'jpeg', 'previews.m3u8']], 'listed in the multivariant playlist');
    t.ok(img.segments.every((s) => s.columns === 1 && s.rows === 1 && s.tileWidth === 160 && s.tileHeight === 90), 'LAYOUT 1x1, tiles 160x90');
    t.equal(img.targetDurationSec, Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(srcText)![1]), 'the video\'s TARGETDURATION');
    t.match(srcText, new RegExp(`#EXT-X-SERVER-CONTROL:.*HOLD-BACK=${img.serverControl!['HOLD-BACK']}(,|$)`, 'm'), 'and its HOLD-BACK');
    const { cues } = parseThumbnailVtt(vttText);
    const firstPdt = new Date(parseM3u8(srcText).manifest.segments[0].dateTimeString).getTime();
    // Each image segment is the tile of the cue starting at its PROGRAM-DATE-TIME (no publisher gap here), for as long.
    const byStart = new Map(cues.map((c) => [firstPdt + c.startMs, c]));
    const misses = img.segments.filter((s) => {
      const c = byStart.get(s.programDateTimeMs);
      return !c || Math.abs(c.endMs - c.startMs - s.durationSec * 1000) > 1;
    }).map((s) => new Date(s.programDateTimeMs).toISOString());
    t.same(misses, [], `each of the ${img.segments.length} tiles is a cue of previews.vtt, as long`);
    t.ok(img.segments.length >= cues.length - 3, `the image playlist lists all but the newest (${img.segments.length} tiles, ${cues.length} cues)`);
    const vttSheet = await get(new URL(cues[cues.length - 3].uri, `${base}/previews.vtt`).href);
    const { x, y } = cues[cues.length - 3].xywh;
    const sheetPic = await decodeJpegLuma(vttSheet.body);
    const seg = img.segments.find((s) => s.programDateTimeMs === firstPdt + cues[cues.length - 3].startMs)!;
    const tilePic = await decodeJpegLuma((await get(`${base}/${seg.uri}`)).body);
    const a = lumaStats(tilePic.luma, tilePic.width, 8, 8, 144, 74), b = lumaStats(sheetPic.luma, sheetPic.width, x + 8, y + 8, 144, 74);
    t.ok(Math.abs(a.mean - b.mean) < 3 && Math.abs(a.stdev - b.stdev) < 3, `a tile's own JPEG shows its cell of the sheet (luma ${a.mean.toFixed(1)} vs ${b.mean.toFixed(1)})`);
    for (const s of img.segments) {
      const r = await get(`${base}/${s.uri}`);
      const size = jpegSize(r.body);
      t.ok(r.status === 200 && size.width === 160 && size.height === 90 && r.headers.get('cache-control') === 'public, max-age=31536000, immutable',
        `${s.uri}: its 160x90 tile, immutable`);
    }
  });

  await t.test('the publisher leaves; the catchup track of the session lines up with the catchup playlist', async (t) => {
    await stopPublisher(pub);
    const sessions = await waitUntil(async () => {
      const j = await (await fetch(`${base}/archive/sessions.json`)).json() as { sessions: { live: boolean; playlist: string }[] };
      return j.sessions.length > 0 && !j.sessions[0].live ? j.sessions : undefined;
    }, 15_000, 'the session to end');
    const playlistUrl = `${o.http}${sessions[0].playlist}`;
    const vttUrl = playlistUrl.replace(/\.m3u8$/, '.vtt');
    const pr = await fetch(playlistUrl);
    const playlist = parseM3u8(await pr.text()).manifest;
    const r = await get(vttUrl);
    t.equal(r.status, 200, `GET ${vttUrl.slice(o.http.length)}`);
    t.equal(r.headers.get('cache-control'), pr.headers.get('cache-control'), `cached like its playlist (${pr.headers.get('cache-control')})`);
    const { cues } = parseThumbnailVtt(r.body.toString());
    const durationMs = playlist.segments.reduce((s: number, x: { duration: number }) => s + x.duration * 1000, 0);
    t.ok(cues.length >= Math.floor(durationMs / PREVIEW_MS) - 1, `${cues.length} cues for ${Math.round(durationMs)} ms of catchup`);
    t.ok(cues[0].startMs < PREVIEW_MS, 'the first cue covers the start');
    t.ok(cues.at(-1)!.startMs < durationMs, 'the last cue starts inside the playlist');
    checkSpacing(t, cues, 'catchup');
    t.ok(cues.every((c) => c.uri.startsWith('../previews/')), 'sheet URIs are relative to the track');
    await checkSheets(t, vttUrl, cues);

    const bad = await get(`${base}/archive/20261125T180000Z-20261125T170000Z.vtt`);
    t.equal(bad.status, 400, 'a backwards range is a 400');
    t.equal(JSON.parse(bad.body.toString()).error.code, 'BAD_TIME_RANGE');
    const empty = await get(`${base}/archive/1000000000-1000000600.vtt`);
    t.equal(JSON.parse(empty.body.toString()).error.code, 'ARCHIVE_EMPTY', 'a range without media is ARCHIVE_EMPTY');
  });

  await t.test('on disk: thumbnails by hour, sheets and the tile index', async (t) => {
    const root = join(o.config.dataDir, 'thumbnails', 'demo');
    const hours = readdirSync(root);
    t.ok(hours.every((h) => /^\d{10}$/.test(h)), `hour directories ${hours.join(', ')}`);
    const files = hours.flatMap((h) => readdirSync(join(root, h)).map((f) => join(root, h, f)));
    const thumbs = files.filter((f) => /\/\d{13}\.jpg$/.test(f));
    const sheets = files.filter((f) => /\/sheet-\d{13}\.jpg$/.test(f));
    const tiles = files.filter((f) => f.endsWith('tiles.log')).flatMap((f) => readFileSync(f, 'utf8').trim().split('\n'));
    const tileFiles = files.filter((f) => /\/tile-\d{13}\.jpg$/.test(f));
    t.ok(thumbs.length >= 4, `${thumbs.length} periodic thumbnails kept`);
    for (const f of thumbs) t.same(jpegSize(readFileSync(f)), { width: 320, height: 180 });
    t.ok(sheets.length >= 2, `${sheets.length} sheets`);
    t.ok(tiles.length >= 8, `${tiles.length} tiles indexed`);
    t.ok(tileFiles.length >= tiles.length, `${tileFiles.length} tiles kept alone (the image playlist's segments)`);
    for (const f of tileFiles) t.same(jpegSize(readFileSync(f)), { width: 160, height: 90 });
    t.same(files.filter((f) => f.endsWith('.tmp')), [], 'no torn temporary files');
  });

  await t.test('routes of a channel without thumbnails, unknown files', async (t) => {
    t.equal((await get(`${base}/thumbnails/1000.jpg`)).status, 404);
    t.equal((await get(`${base}/previews/1000.jpg`)).status, 404);
    t.equal(JSON.parse((await get(`${o.http}/live/nope/thumbnail.jpg`)).body.toString()).error.code, 'CHANNEL_NOT_FOUND');
    const off = await get(`${o.http}/live/off/previews.vtt`);
    t.same([off.status, JSON.parse(off.body.toString()).error.code], [404, 'THUMBNAILS_DISABLED'], 'a channel with thumbnails off says so');
  });
  await t.test('a restart on the same dataDir: thumbnail.jpg and the restored window\'s previews come back', async (t) => {
    const before = parseThumbnailVtt((await get(`${base}/previews.vtt`)).body.toString()).cues;
    const latest = (await get(`${base}/thumbnail.jpg`)).headers.get('content-location');
    await o.origin.close();
    const again = await startOrigin({ dataDir: o.config.dataDir, thumbnails: o.config.thumbnails });
    t.teardown(() => again.close());
    const r = await get(`${again.http}/live/demo/thumbnail.jpg`);
    t.equal(r.status, 200, 'thumbnail.jpg answers at once');
    t.equal(r.headers.get('content-location'), latest, 'with the newest kept thumbnail');
    // The restored window waits for the publisher (reconnectWindowSec, 2 s here), then ends.
    await waitUntil(async () => (await (await fetch(`${again.http}/live/demo/source.m3u8`)).text()).includes('#EXT-X-ENDLIST'), 10_000, 'the restored playlist to end');
    const images = await (await fetch(`${again.http}/live/demo/previews.m3u8`)).text();
    t.match(images, /#EXT-X-ENDLIST\n$/, 'the ended window\'s image playlist has ENDLIST');
    t.same(imageStreams(await (await fetch(`${again.http}/live/demo/index.m3u8`)).text()), [], 'and the multivariant playlist of an ended window does not list it');
    const vtt = await get(`${again.http}/live/demo/previews.vtt`);
    t.equal(vtt.status, 200);
    const cues = parseThumbnailVtt(vtt.body.toString()).cues;
    t.ok(cues.length >= before.length - 1, `the restored DVR window has its previews (${cues.length} cues, ${before.length} before the restart)`);
    await checkSheets(t, `${again.http}/live/demo/previews.vtt`, cues);
  });
});
