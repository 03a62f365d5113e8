/**
 * A real player reads the previews: Shaka Player in Chromium answers getThumbnails(time) for
 * times of its own timeline, and the tile it picks must show that moment: its wall-clock time
 * (the sheet's first tile time plus its cell's offset) matches the PROGRAM-DATE-TIME of that
 * position.
 *
 * - Catchup (VOD): Shaka loads the catchup playlist of a finished session and adds
 *   `/live/<ch>/archive/<from>-<to>.vtt` as its thumbnails track (player.addThumbnailsTrack).
 * - Live: Shaka refuses external thumbnail tracks on live streams (error 4045,
 *   CANNOT_ADD_EXTERNAL_THUMBNAILS_TO_LIVE_STREAM) and reads the image playlist the multivariant
 *   playlist lists (EXT-X-IMAGE-STREAM-INF ▶ /live/<ch>/previews.m3u8, one tile per segment)
 *   instead; with it the live edge and latency stay as without it (ultra-low and low), and
 *   hls.js, which does not know the tag, plays on.
 */
import t, { type Test } from 'tap';
import { createRequire } from 'node:module';
import { startOrigin, waitUntil, type RunningOrigin } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { launchChromium, median } from '../helpers/browser.js';
import { playWithHlsJs, ULTRA_LOW_LATENCY, watchedPage, type WatchedPage } from '../helpers/player-probe.js';
import { parseM3u8 } from '../helpers/m3u8.js';
import { jpegSize } from '../helpers/jpeg.js';
import { imageStreams, parseImagePlaylist } from '../helpers/image-playlist.js';

const require = createRequire(import.meta.url);

interface ShakaThumb {
  startTime: number; duration: number; uris: string[]; width: number; height: number; positionX: number; positionY: number;
  imageWidth: number; imageHeight: number;
}

/** A Chromium page of the origin (same origin as the stream) with Shaka Player loaded and a <video>. */
async function shakaPage(t: Test, o: RunningOrigin): Promise<WatchedPage> {
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const w = await watchedPage(browser, o.http);
  await w.page.goto(`${o.http}/healthz`);
  await w.page.setContent('<video id="v" muted autoplay playsinline></video>');
  await w.page.addScriptTag({ path: require.resolve('shaka-player/dist/shaka-player.compiled.debug.js') });
  return w;
}

/**
 * Shaka's thumbnail for `time` shows that moment: its area lies inside its sheet's real JPEG,
 * and its tile (the sheet's first tile time, its id, plus its cell's offset, a tile every 2 s
 * with the publisher's 1 s GOP) is the last one taken at or before `wallMs`.
 */
async function checkThumb(t: Test, o: RunningOrigin, time: number, wallMs: number, thumb: ShakaThumb | null, columns: number): Promise<void> {
  t.ok(thumb, `a thumbnail for ${time.toFixed(1)} s`);
  if (!thumb) return;
  t.ok(thumb.startTime <= time + 0.001 && time < thumb.startTime + thumb.duration, `its cue ${thumb.startTime.toFixed(3)} + ${thumb.duration.toFixed(3)} s covers ${time.toFixed(1)} s`);
  const uri = thumb.uris[0];
  const sheetId = Number(/\/previews\/(\d{13})\.jpg/.exec(uri)?.[1]);
  t.ok(sheetId > 0, `its sheet ${uri.slice(o.http.length)}`);
  const r = await fetch(uri);
  t.equal(r.status, 200, 'the sheet is served');
  const size = jpegSize(Buffer.from(await r.arrayBuffer()));
  t.ok(thumb.positionX + thumb.width <= size.width && thumb.positionY + thumb.height <= size.height,
    `area ${thumb.positionX},${thumb.positionY} ${thumb.width}x${thumb.height} inside the ${size.width}x${size.height} sheet`);
  const tileWallMs = sheetId + ((thumb.positionY / thumb.height) * columns + thumb.positionX / thumb.width) * 2000;
  t.ok(wallMs - tileWallMs >= 0 && wallMs - tileWallMs < 2000 + 50,
    `at ${time.toFixed(1)} s (${new Date(wallMs).toISOString()}) the tile shows ${new Date(tileWallMs).toISOString()}, the last one before it`);
}

t.test('Shaka Player reads a catchup .vtt: getThumbnails(time) gives the tile of that moment, inside a real sheet', async (t) => {
  const o = await startOrigin();
  t.teardown(() => o.close());
  const pub = startPublisher(o.rtmp('demo-key-123'), { fps: 30, gop: 30, width: 640, height: 360 });
  t.teardown(() => stopPublisher(pub));
  await waitUntil(async () => (await fetch(`${o.http}/live/demo/index.m3u8`)).status === 200, 20_000, 'the stream');
  await new Promise((r) => setTimeout(r, 14_000));
  await stopPublisher(pub);
  const base = `${o.http}/live/demo`;
  const session = await waitUntil(async () => {
    const j = await (await fetch(`${base}/archive/sessions.json`)).json() as { sessions: { live: boolean; playlist: string }[] };
    return j.sessions[0] && !j.sessions[0].live ? j.sessions[0] : undefined;
  }, 15_000, 'the session to end');
  const playlistUrl = `${o.http}${session.playlist}`;
  // A closed range is VOD once its end has passed.
  const text = await waitUntil(async () => {
    const x = await (await fetch(playlistUrl)).text();
    return x.includes('#EXT-X-ENDLIST') ? x : undefined;
  }, 5000, 'a VOD catchup playlist');
  const segments = parseM3u8(text).manifest.segments as { dateTimeString: string; duration: number }[];
  const pdt0 = new Date(segments[0].dateTimeString).getTime();
  const totalSec = segments.reduce((s, x) => s + x.duration, 0);

  const { page, pageErrors, failed } = await shakaPage(t, o);
  const times = [1, totalSec / 2, totalSec - 1.5];
  const result = await page.evaluate(async ({ url, vtt, times }) => {
    const w = window as any;
    w.shaka.polyfill.installAll();
    const player = new w.shaka.Player();
    await player.attach(document.getElementById('v'));
    try {
      await player.load(url);
      const track = await player.addThumbnailsTrack(vtt, 'text/vtt');
      const out = [];
      for (const time of times) out.push({ time, thumb: await player.getThumbnails(track.id, time) });
      return { out, isLive: player.isLive(), duration: player.seekRange().end };
    } catch (e: any) {
      throw new Error(`shaka error ${e.code} ${JSON.stringify(e.data)}`);
    }
  }, { url: playlistUrl, vtt: playlistUrl.replace(/\.m3u8$/, '.vtt'), times });
  t.same(pageErrors, [], 'no page errors');
  t.same(failed, [], 'no failed request');
  t.equal(result.isLive, false, `Shaka sees a VOD of ${result.duration.toFixed(1)} s`);
  // Default layout: 10 tiles a row.
  for (const { time, thumb } of result.out as Array<{ time: number; thumb: ShakaThumb | null }>) await checkThumb(t, o, time, pdt0 + time * 1000, thumb, 10);
});

/** Shaka in Chromium plays `url` live (low-latency mode) and answers getThumbnails across its seekable window. */
async function playLiveWithShaka(page: WatchedPage['page'], url: string) {
  return page.evaluate(async (url) => {
    const w = window as any;
    w.shaka.polyfill.installAll();
    const player = new w.shaka.Player();
    const video = document.getElementById('v') as HTMLVideoElement;
    await player.attach(video);
    player.configure({ streaming: { lowLatencyMode: true } });
    const errors: string[] = [];
    player.addEventListener('error', (e: any) => errors.push(String(e.detail?.code)));
    try {
      await player.load(url);
    } catch (e: any) {
      throw new Error(`shaka error ${e.code} ${JSON.stringify(e.data)}`);
    }
    await video.play().catch(() => undefined);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (video.paused || video.currentTime < 1)) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 3000)); // settled at the live edge
    const latencies: number[] = [];
    for (let i = 0; i < 8; i++) {
      latencies.push((Date.now() - player.getPlayheadTimeAsDate().getTime()) / 1000);
      await new Promise((r) => setTimeout(r, 250));
    }
    const tracks = player.getImageTracks();
    const range = player.seekRange();
    const startMs = player.getPresentationStartTimeAsDate().getTime();
    const out = [];
    for (let time = range.start + 0.5; time < range.end - 0.5; time += 2.5) {
      out.push({ time, wallMs: startMs + time * 1000, thumb: tracks[0] ? await player.getThumbnails(tracks[0].id, time) : null });
    }
    return { tracks, range, out, errors, latencies, live: player.isLive(), playing: !video.paused && video.currentTime > 0 };
  }, url);
}

/**
 * A live thumbnail: its URI is one tile (previews/tiles/<epochMs>.jpg, its time), Shaka places
 * it whole (LAYOUT 1x1), the JPEG is that size, and it is the last tile taken at or before the
 * moment (tiles every 2 s with the publisher's 1 s GOP). Near the live edge, past the newest
 * tile listed (it waits for the next tile to fix its duration), Shaka has none: allowed there.
 */
async function checkLiveThumb(t: Test, time: number, wallMs: number, thumb: ShakaThumb | null, newestTileEndMs: number): Promise<void> {
  if (!thumb) {
    // Shaka's copy of the image playlist may be a reload (up to a target duration) older than ours.
    t.ok(wallMs >= newestTileEndMs - 2000 - 50, `no thumbnail at ${time.toFixed(1)} s: only near the newest tile listed (${wallMs - newestTileEndMs} ms from its end)`);
    return;
  }
  t.ok(thumb.startTime <= time + 0.001 && time < thumb.startTime + Math.max(thumb.duration, 2), `its cue ${thumb.startTime.toFixed(3)} + ${thumb.duration.toFixed(3)} s covers ${time.toFixed(1)} s`);
  const tileMs = Number(/\/previews\/tiles\/(\d{13})\.jpg/.exec(thumb.uris[0])?.[1]);
  t.ok(tileMs > 0 && thumb.positionX === 0 && thumb.positionY === 0 && thumb.width === 160 && thumb.height === 90,
    `one tile, whole: ${thumb.uris[0].replace(/^.*\/live\//, '/live/')} at ${thumb.positionX},${thumb.positionY} ${thumb.width}x${thumb.height}`);
  const r = await fetch(thumb.uris[0]);
  t.same([r.status, jpegSize(Buffer.from(await r.arrayBuffer()))], [200, { width: 160, height: 90 }], 'the tile is served, 160x90');
  t.ok(wallMs - tileMs >= 0 && wallMs - tileMs < 2000 + 50,
    `at ${time.toFixed(1)} s (${new Date(wallMs).toISOString()}) the tile shows ${new Date(tileMs).toISOString()}, the last one before it`);
}

/** An origin with one channel in `mode`, 3 × 2 preview sheets of 2 s tiles, and a 640x360 publisher; both stop with the test. */
async function previewedChannel(t: Test, mode: 'ultra-low' | 'low'): Promise<RunningOrigin> {
  const o = await startOrigin({
    thumbnails: { preview: { intervalSec: 2, tileWidth: 160, columns: 3, rows: 2 } },
    channels: [{ id: 'demo', streamKey: 'demo-key-123', latencyMode: mode, dvrWindowSec: 20 }],
  });
  t.teardown(() => o.close());
  const pub = startPublisher(o.rtmp('demo-key-123'), { fps: 30, gop: 30, width: 640, height: 360 });
  t.teardown(() => stopPublisher(pub));
  return o;
}

/**
 * Live: tiles every 2 s, a 20 s DVR window, so after a while the first tiles have left the
 * window. Shaka (low-latency mode, as a live viewer would use it) loads the multivariant
 * playlist with a token and must find the image stream, keep the live edge (Shaka takes its
 * delay from the image playlist, the first it loads: it repeats the video's HOLD-BACK,
 * PART-HOLD-BACK and PART-TARGET, docs/adr/005), and answer getThumbnails across the seekable
 * window with the tile of each moment.
 */
t.test('Shaka Player reads live previews from the image playlist: getThumbnails(time) across the DVR window; hls.js plays on', async (t) => {
  const o = await previewedChannel(t, 'ultra-low');
  const base = `${o.http}/live/demo`;
  await waitUntil(async () => (await fetch(`${base}/index.m3u8`)).status === 200, 20_000, 'the stream');
  const firstImages = await waitUntil(async () => {
    const r = await fetch(`${base}/previews.m3u8`);
    return r.status === 200 ? parseImagePlaylist(await r.text()) : undefined;
  }, 10_000, 'the image playlist');
  // Until the first tiles have left the 20 s window: EXT-X-MEDIA-SEQUENCE goes up.
  const images = await waitUntil(async () => {
    const p = parseImagePlaylist(await (await fetch(`${base}/previews.m3u8?token=e2e`)).text());
    return p.mediaSequence > firstImages.mediaSequence + 2 ? p : undefined;
  }, 45_000, 'tiles to leave the DVR window');
  t.ok(images.segments.every((s) => s.uri.endsWith('?token=e2e')), 'the token is carried onto every tile URI');
  const mv = await (await fetch(`${base}/index.m3u8?token=e2e`)).text();
  t.same(imageStreams(mv).map((x) => [x.RESOLUTION, x.CODECS, x.URI]), [['160x90', 'jpeg', 'previews.m3u8?token=e2e']], 'the multivariant playlist lists the image playlist');

  const { page, pageErrors, failed } = await shakaPage(t, o);
  const result = await playLiveWithShaka(page, `${base}/index.m3u8?token=e2e`);
  const newest = parseImagePlaylist(await (await fetch(`${base}/previews.m3u8`)).text()).segments.at(-1)!;
  t.same(pageErrors, [], 'no page errors');
  t.same(failed, [], 'no failed request');
  t.same(result.errors, [], 'no Shaka error');
  t.ok(result.live && result.playing, 'Shaka plays the channel live');
  t.same(result.tracks.map((x: any) => [x.type, x.mimeType, x.width, x.height]), [['image', 'image/jpeg', 160, 90]],
    'one image track, sized by Shaka as RESOLUTION × LAYOUT (one tile)');
  const seekable = result.range.end - result.range.start;
  t.ok(seekable > 14, `the seekable window is the DVR window (${seekable.toFixed(1)} s of 20 s)`);
  const latency = median(result.latencies);
  t.comment(`Shaka live latency (ultra-low): median ${latency.toFixed(2)} s of [${result.latencies.map((x: number) => x.toFixed(2)).join(', ')}]`);
  // A live edge pulled back by the image playlist would put Shaka a segment or more behind (≥ 3 s
  // here); the ultra-low target itself (1.2 s) is BENCHMARKS' to measure. In 2 of 3 runs on
  // 2026-12-07 Shaka's latency grew 0.67 → 1.72 s over the first second of the watch (a stall
  // at its start, then steady), where earlier runs read 0.57–0.77 s throughout: not explained yet.
  t.ok(latency > 0 && latency <= ULTRA_LOW_LATENCY.maxSec,
    `latency ${latency.toFixed(2)} s ≤ ${ULTRA_LOW_LATENCY.maxSec} s: the image playlist did not pull the live edge back (target ${ULTRA_LOW_LATENCY.medianSec} s)`);
  t.ok(result.out.length >= 5, `${result.out.length} times probed across the window`);
  const shown = result.out.filter((x: { thumb: unknown }) => x.thumb).length;
  t.ok(shown >= result.out.length - 1, `${shown} of ${result.out.length} probes have a thumbnail (none only within the newest tile interval)`);
  for (const { time, wallMs, thumb } of result.out as Array<{ time: number; wallMs: number; thumb: ShakaThumb | null }>) {
    await checkLiveThumb(t, time, wallMs, thumb, newest.programDateTimeMs + newest.durationSec * 1000);
    if (thumb) t.ok(thumb.uris[0].endsWith('?token=e2e'), 'the tile URI carries the token');
  }

  // hls.js does not know EXT-X-IMAGE-STREAM-INF: it must ignore it and play the one variant.
  const hls = await watchedPage(page.context().browser()!, o.http);
  await playWithHlsJs(hls.page, o.http, `${base}/index.m3u8?token=e2e`);
  await hls.page.waitForFunction(() => (window as any).sigmaPlayer.playing === true, undefined, { timeout: 20_000 });
  const levels = await hls.page.evaluate(() => (window as any).sigmaHls.levels.map((l: any) => l.url[0] ?? l.uri));
  // Beside the token, the viewer's session id (analytics), one per multivariant request.
  const withoutSid = (u: string) => { const url = new URL(u); t.match(url.searchParams.get('sid'), /^[\w-]{27}$/, 'a session id'); url.searchParams.delete('sid'); return url.pathname + url.search; };
  t.same(levels.map(withoutSid), ['/live/demo/source.m3u8?token=e2e'], 'hls.js sees the one video variant');
  const errors = await hls.page.evaluate(() => (window as any).sigmaPlayer.errors);
  t.same(errors.filter((e: { fatal: boolean }) => e.fatal), [], 'no fatal hls.js error');
  t.same([hls.pageErrors, hls.failed], [[], []], 'no page error, no failed request');
});

/**
 * A `low` channel (2 s segments, no parts): the multivariant playlist names the image playlist
 * again, and Shaka's delay, taken from it, is the video's HOLD-BACK (3 target durations), as
 * without previews, not three image segments of some other length.
 */
t.test('Shaka Player on a low-latency-mode "low" channel: previews listed, live delay the video\'s HOLD-BACK', async (t) => {
  const o = await previewedChannel(t, 'low');
  const base = `${o.http}/live/demo`;
  const mv = await waitUntil(async () => {
    const r = await fetch(`${base}/index.m3u8`);
    const text = r.status === 200 ? await r.text() : '';
    return imageStreams(text).length > 0 ? text : undefined;
  }, 30_000, 'the multivariant playlist to list the image playlist');
  t.same(imageStreams(mv).map((x) => x.URI), ['previews.m3u8'], 'listed on a channel without parts');
  // Some window behind the delay to probe: a dozen seconds of tiles.
  await waitUntil(async () => parseImagePlaylist(await (await fetch(`${base}/previews.m3u8`)).text()).segments.length >= 6, 30_000, 'six tiles');
  const video = await (await fetch(`${base}/source.m3u8`)).text();
  const holdBack = Number(/HOLD-BACK=([\d.]+)/.exec(video.replace(/PART-HOLD-BACK=[\d.]+,?/, ''))![1]);
  const { page, pageErrors, failed } = await shakaPage(t, o);
  const result = await playLiveWithShaka(page, `${base}/index.m3u8`);
  t.same([pageErrors, failed, result.errors], [[], [], []], 'no page error, failed request or Shaka error');
  t.ok(result.live && result.playing, 'Shaka plays the channel live');
  const latency = median(result.latencies);
  t.comment(`Shaka live latency (low): median ${latency.toFixed(2)} s of [${result.latencies.map((x: number) => x.toFixed(2)).join(', ')}], HOLD-BACK ${holdBack} s`);
  t.ok(latency >= holdBack - 1 && latency <= holdBack + 3, `latency ${latency.toFixed(2)} s: the video's HOLD-BACK (${holdBack} s) plus at most a segment and the player's buffering`);
  const shown = (result.out as Array<{ thumb: ShakaThumb | null }>).filter((x) => x.thumb).length;
  t.ok(shown >= 1 && shown >= result.out.length - 1, `${shown} of ${result.out.length} probes across the window have a thumbnail`);
});
