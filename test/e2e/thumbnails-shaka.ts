/**
 * A real player reads the previews: Shaka Player in Chromium loads a catchup playlist of a
 * finished session, adds `/live/<ch>/archive/<from>-<to>.vtt` as its thumbnails track
 * (player.addThumbnailsTrack) and answers getThumbnails(time) for times of its own timeline.
 * The tile it picks must show that moment: its wall-clock time (the sheet's first tile time plus
 * its cell's offset) matches the PROGRAM-DATE-TIME of that position.
 *
 * Shaka refuses external thumbnail tracks on live streams (error 4045,
 * CANNOT_ADD_EXTERNAL_THUMBNAILS_TO_LIVE_STREAM): for live it reads only image playlists
 * (EXT-X-IMAGE-STREAM-INF), which the origin does not serve yet (README, known limitations).
 */
import t from 'tap';
import { createRequire } from 'node:module';
import { startOrigin, waitUntil } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { launchChromium } from '../helpers/browser.js';
import { watchedPage } from '../helpers/player-probe.js';
import { parseM3u8 } from '../helpers/m3u8.js';
import { jpegSize } from '../helpers/jpeg.js';

const require = createRequire(import.meta.url);

interface ShakaThumb { startTime: number; duration: number; uris: string[]; width: number; height: number; positionX: number; positionY: number }

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

  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const { page, pageErrors, failed } = await watchedPage(browser, o.http);
  await page.goto(`${o.http}/healthz`); // same origin as the stream
  await page.setContent('<video id="v" muted playsinline></video>');
  await page.addScriptTag({ path: require.resolve('shaka-player/dist/shaka-player.compiled.debug.js') });
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
  for (const { time, thumb } of result.out as Array<{ time: number; thumb: ShakaThumb | null }>) {
    t.ok(thumb, `a thumbnail for ${time.toFixed(1)} s`);
    if (!thumb) continue;
    t.ok(thumb.startTime <= time + 0.001 && time < thumb.startTime + thumb.duration, `its cue ${thumb.startTime.toFixed(3)} + ${thumb.duration.toFixed(3)} s covers ${time.toFixed(1)} s`);
    const uri = thumb.uris[0];
    const sheetId = Number(/\/previews\/(\d{13})\.jpg/.exec(uri)?.[1]);
    t.ok(sheetId > 0, `its sheet ${uri.slice(o.http.length)}`);
    const r = await fetch(uri);
    t.equal(r.status, 200, 'the sheet is served');
    const size = jpegSize(Buffer.from(await r.arrayBuffer()));
    t.ok(thumb.positionX + thumb.width <= size.width && thumb.positionY + thumb.height <= size.height,
      `area ${thumb.positionX},${thumb.positionY} ${thumb.width}x${thumb.height} inside the ${size.width}x${size.height} sheet`);
    // Default layout: 160x90 cells, 10 a row, a tile every 2 s from the sheet's first tile (its id).
    const tileWallMs = sheetId + ((thumb.positionY / 90) * 10 + thumb.positionX / 160) * 2000;
    const wallMs = pdt0 + time * 1000;
    t.ok(wallMs - tileWallMs >= 0 && wallMs - tileWallMs < 2000 + 50,
      `at ${time.toFixed(1)} s (${new Date(wallMs).toISOString()}) the tile shows ${new Date(tileWallMs).toISOString()}, the last one before it`);
  }
});
