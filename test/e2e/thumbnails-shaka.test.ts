/**
 * A real player reads the previews: Shaka Player in Chromium loads the live stream, adds
 * `/live/<ch>/previews.vtt` as its thumbnails track (player.addThumbnailsTrack) and answers
 * getThumbnails(time) for times of its own timeline. The tile it picks must show the moment the
 * player is at: its wall-clock time (the sheet's first tile time plus the cue's offset, read
 * from the track) matches the player's own PROGRAM-DATE-TIME at that position.
 */
import t from 'tap';
import { createRequire } from 'node:module';
import { startOrigin, waitUntil } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { launchChromium } from '../helpers/browser.js';
import { watchedPage } from '../helpers/player-probe.js';
import { jpegSize } from '../helpers/jpeg.js';

const require = createRequire(import.meta.url);

interface ShakaThumb { startTime: number; duration: number; uris: string[]; width: number; height: number; positionX: number; positionY: number }

t.test('Shaka Player reads previews.vtt: getThumbnails(time) gives the tile of that moment, inside a real sheet', async (t) => {
  const o = await startOrigin();
  t.teardown(() => o.close());
  const pub = startPublisher(o.rtmp('demo-key-123'), { fps: 30, gop: 30, width: 640, height: 360 });
  t.teardown(() => stopPublisher(pub));
  await waitUntil(async () => (await fetch(`${o.http}/live/demo/index.m3u8`)).status === 200, 20_000, 'the stream');
  // Some DVR window with tiles in it before the player joins.
  await new Promise((r) => setTimeout(r, 12_000));
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const { page, pageErrors, failed } = await watchedPage(browser, o.http);
  await page.goto(`${o.http}/healthz`); // same origin as the stream
  await page.setContent('<video id="v" muted autoplay playsinline></video>');
  await page.addScriptTag({ path: require.resolve('shaka-player/dist/shaka-player.compiled.debug.js') });
  const result = await page.evaluate(async ({ url, vtt }) => {
    const w = window as any;
    w.shaka.polyfill.installAll();
    const video = document.getElementById('v') as HTMLVideoElement;
    const player = new w.shaka.Player();
    await player.attach(video);
    await player.load(url);
    await video.play().catch(() => undefined);
    const track = await player.addThumbnailsTrack(vtt, 'text/vtt');
    await new Promise((r) => setTimeout(r, 3000));
    const range = player.seekRange();
    // Three positions: near the window's start, its middle, and where the player is.
    const times = [range.start + 1, (range.start + range.end) / 2, video.currentTime];
    const out = [];
    for (const time of times) {
      const thumb = await player.getThumbnails(track.id, time);
      // The player's own wall clock at that position: PROGRAM-DATE-TIME at the playhead, shifted.
      const atPlayhead = player.getPlayheadTimeAsDate().getTime();
      out.push({ time, thumb, wallMs: atPlayhead + (time - video.currentTime) * 1000 });
    }
    return { out, range, trackId: track.id };
  }, { url: `${o.http}/live/demo/index.m3u8`, vtt: `${o.http}/live/demo/previews.vtt` });
  t.same(pageErrors, [], 'no page errors');
  t.same(failed, [], 'no failed request');
  t.ok(result.range.end - result.range.start > 10, `a DVR window of ${(result.range.end - result.range.start).toFixed(1)} s`);
  // Each sheet id is the wall-clock time of its first tile; tiles follow every 2 s row-major.
  const vtt = await (await fetch(`${o.http}/live/demo/previews.vtt`)).text();
  for (const { time, thumb, wallMs } of result.out as Array<{ time: number; thumb: ShakaThumb | null; wallMs: number }>) {
    t.ok(thumb, `a thumbnail for ${time.toFixed(1)} s`);
    if (!thumb) continue;
    const uri = thumb.uris[0];
    const sheetId = Number(/\/previews\/(\d{13})\.jpg/.exec(uri)?.[1]);
    t.ok(sheetId > 0, `its sheet ${uri}`);
    const sheet = Buffer.from(await (await fetch(uri)).arrayBuffer());
    const size = jpegSize(sheet);
    t.ok(thumb.positionX + thumb.width <= size.width && thumb.positionY + thumb.height <= size.height,
      `area ${thumb.positionX},${thumb.positionY} ${thumb.width}x${thumb.height} inside the ${size.width}x${size.height} sheet`);
    const index = (thumb.positionY / 90) * 10 + thumb.positionX / 160;
    const tileWallMs = sheetId + index * 2000;
    // The tile was taken at most one interval (2 s) before the moment, plus keyframe rounding.
    t.ok(wallMs - tileWallMs >= -1000 && wallMs - tileWallMs <= 3000,
      `at ${time.toFixed(1)} s the player is at ${new Date(wallMs).toISOString()}, the tile shows ${new Date(tileWallMs).toISOString()} (${((wallMs - tileWallMs) / 1000).toFixed(2)} s before)`);
  }
  t.ok(vtt.startsWith('WEBVTT'), 'the track is WebVTT');
});
