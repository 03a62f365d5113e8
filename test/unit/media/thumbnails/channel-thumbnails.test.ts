/**
 * A channel's thumbnails with the real native thumbnailer and real files: keyframes of an
 * ffmpeg-made stream go in as the channel would feed them, and the test checks what the routes
 * would serve and what lands on disk (per row, at session end, behind the disk gate).
 */
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureAndDir } from '../../addon/fixtures.js';
import { Thumbnailer } from '../../../../src/addon/thumbnailer.js';
import { ChannelThumbnails, type ThumbnailerFactory } from '../../../../src/media/thumbnails/channel-thumbnails.js';
import { ThumbnailStore } from '../../../../src/media/thumbnails/thumbnail-store.js';
import { ThumbnailPaths } from '../../../../src/media/thumbnails/thumbnail-layout.js';
import { thumbnailSettings } from '../../../../src/media/thumbnails/thumbnail-settings.js';
import { configSchema } from '../../../../src/config/schema.js';
import { hourKey } from '../../../../src/store/archive/archive-layout.js';
import { EventBus, type OriginEvents } from '../../../../src/events.js';
import { silentLogger } from '../../../../src/log.js';
import { jpegSize } from '../../../helpers/jpeg.js';
import { waitUntil } from '../../../helpers/origin.js';

const T0 = Date.UTC(2026, 10, 25, 18, 59, 50); // crosses an hour boundary 10 s in
const native: ThumbnailerFactory = (o, h) => new Thumbnailer(o, h);
const settings = thumbnailSettings(configSchema.parse({}).thumbnails,
  { intervalSec: 10, preview: { intervalSec: 2, tileWidth: 64, columns: 3, rows: 2 } });

const fixture = fixtureAndDir(t, { width: 320, height: 180, fps: 30, gop: 30, audio: false, durationSec: 21 }, 'sigma-thumbs-');

function make(name: string, o: { writable?: () => boolean; events?: EventBus; stored?: boolean } = {}) {
  const paths = new ThumbnailPaths(join(fixture.root, name));
  const gate = { get writable() { return o.writable?.() ?? true; }, reportWriteError() {} };
  const store = o.stored === false ? undefined : new ThumbnailStore(paths, gate, silentLogger());
  const th = new ChannelThumbnails({ channelId: name, settings, createThumbnailer: native, logger: silentLogger(), store, events: o.events,
    retainMs: 3_600_000, now: () => T0 + 30_000 });
  return { th, paths, store };
}

/**
 * Feeds the video AUs with dts in [fromMs, toMs), waiting at each keyframe until the worker has
 * answered (as live input, a keyframe a second, would), then until the writes have landed.
 */
async function feed(th: ChannelThumbnails, fromMs: number, toMs: number, base = T0, store?: ThumbnailStore): Promise<void> {
  for (const au of fixture.fx.aus) {
    if (au.dts < fromMs || au.dts >= toMs) continue;
    th.write(au, base + au.dts);
    if (au.keyframe) await waitUntil(() => th.pending === 0, 10_000, 'the thumbnailer to catch up');
  }
  await waitUntil(() => th.pending === 0, 10_000, 'the thumbnailer to catch up');
  await store?.idle();
}

const filesUnder = (dir: string): string[] => (existsSync(dir)
  ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name).slice(dir.length + 1)).sort()
  : []);
const tileLines = (dir: string) => filesUnder(dir).filter((f) => f.endsWith('tiles.log')).flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n'));

t.test('one session: a thumbnail every 10 s, a tile every 2 s; sheets written per row and at the end', async (t) => {
  const { th, paths, store } = make('a');
  th.setTracks(fixture.fx.tracks);
  t.equal(th.latest(), undefined, 'no thumbnail before the first keyframe');
  await feed(th, 0, 7000, T0, store);
  t.equal(th.latest()?.timeMs, T0, 'the first keyframe gave the first thumbnail');
  t.same(th.liveTiles(T0).map((x) => x.timeMs - T0), [0, 2000, 4000, 6000], 'tiles at 0, 2, 4, 6 s');
  // The first row (3 tiles) is complete: on disk with its 3 tiles; the 4th is in RAM only.
  const midLines = tileLines(paths.root);
  t.equal(midLines.length, 3, 'the first row was written with its index lines');
  t.same((await th.tilesBetween(T0, T0 + 60_000)).map((x) => x.timeMs - T0), [0, 2000, 4000, 6000], 'catchup sees disk + the RAM-only tile');
  const current = await th.sheet(T0);
  t.equal(current?.complete, false, 'the sheet being filled is not immutable');
  t.same(jpegSize(current!.data), { width: 192, height: 72 }, 'RAM has the newest version (2 rows in use)');
  t.same(jpegSize(readFileSync(paths.sheet(T0))), { width: 192, height: 36 }, 'disk has the version of the last complete row');

  await feed(th, 7000, 21_000);
  th.endSession();
  await th.close();
  t.same(th.liveTiles(T0).map((x) => (x.timeMs - T0) / 1000), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20], 'eleven tiles');
  t.equal(th.latest()?.timeMs, T0 + 20_000, 'the newest thumbnail is from 20 s');
  const files = filesUnder(paths.root);
  t.same(files.filter((f) => /\/\d{13}\.jpg$/.test(f)),
    [`${hourKey(T0)}/${T0}.jpg`, `${hourKey(T0 + 10_000)}/${T0 + 10_000}.jpg`, `${hourKey(T0 + 20_000)}/${T0 + 20_000}.jpg`],
    'periodic thumbnails by the hour of their time (18h, then 19h)');
  t.same(files.filter((f) => f.includes('sheet-')), [`${hourKey(T0)}/sheet-${T0}.jpg`, `${hourKey(T0 + 12_000)}/sheet-${T0 + 12_000}.jpg`], 'two sheets of 6, named by their first tile');
  t.same(jpegSize(readFileSync(paths.sheet(T0 + 12_000))), { width: 192, height: 72 }, 'the last, partial sheet was written at session end');
  t.equal(tileLines(paths.root).length, 11, 'every tile indexed once');
  const tileFiles = files.filter((f) => f.includes('tile-'));
  t.same(tileFiles, th.liveTiles(T0).map((x) => `${hourKey(x.timeMs)}/tile-${x.timeMs}.jpg`), 'every tile\'s own JPEG, in the hour of its time');
  t.ok(tileFiles.every((f) => jpegSize(readFileSync(join(paths.root, f))).width === 64 && jpegSize(readFileSync(join(paths.root, f))).height === 36), 'each one 64x36 tile');
  t.ok((await th.tileImage(T0 + 20_000))?.equals(readFileSync(paths.tile(T0 + 20_000))), 'a tile\'s JPEG: the same bytes from RAM and disk');
  t.same([th.tileNumber(T0), th.tileNumber(T0 + 2000), th.tileNumber(T0 + 20_000)], [T0, T0 + 1, T0 + 10],
    'tiles numbered for the image playlist one by one from the first one\'s time');
  t.same((await th.tilesBetween(T0, T0 + 60_000)).map((x) => (x.timeMs - T0) / 1000), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
  t.equal((await th.sheet(T0 + 12_000))?.complete, true, 'after the session, its last sheet is final');
  t.ok((await th.thumbnail(T0 + 10_000))?.equals(readFileSync(paths.thumbnail(T0 + 10_000))), 'an older thumbnail is read from disk');
  t.equal(await th.thumbnail(T0 + 1), undefined, 'no thumbnail at another time');
});

t.test('a restart: the newest thumbnail and the window\'s tiles come back from disk', async (t) => {
  const { th } = make('a'); // the directory the first test filled
  t.equal(th.latest(), undefined);
  await th.restore();
  t.equal(th.latest()?.timeMs, T0 + 20_000, 'thumbnail.jpg answers again with the newest kept one');
  t.same({ w: th.latest()?.width, h: th.latest()?.height }, { w: 320, h: 180 });
  t.same(th.liveTiles(T0).map((x) => (x.timeMs - T0) / 1000), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20], 'the live track lists the restored tiles');
  t.same([th.tileNumber(T0), th.tileNumber(T0 + 2000), th.tileNumber(T0 + 20_000)], [T0, T0 + 1, T0 + 10],
    'restored tiles numbered for the image playlist from the first one\'s time, one by one (never below the numbers before the restart)');
  t.same(jpegSize((await th.tileImage(T0 + 4000))!), { width: 64, height: 36 }, 'their own JPEGs are served from disk');
  t.equal(await th.tileImage(T0 + 4001), undefined, 'no tile at another time');
  const sheet = await th.sheet(T0 + 12_000);
  t.same({ complete: sheet?.complete, size: sheet && jpegSize(sheet.data) }, { complete: true, size: { width: 192, height: 72 } }, 'their sheets are served from disk');
  await th.close();
});

t.test('a second session starts a new sheet; the first session\'s last sheet is final', async (t) => {
  const { th } = make('b');
  th.setTracks(fixture.fx.tracks);
  await feed(th, 0, 3000);
  th.endSession();
  th.setTracks(fixture.fx.tracks);
  await feed(th, 0, 3000, T0 + 60_000);
  await th.close();
  const tiles = th.liveTiles(0);
  t.same(tiles.map((x) => [(x.timeMs - T0) / 1000, (x.sheetId - T0) / 1000, x.x]), [[0, 0, 0], [2, 0, 64], [60, 60, 0], [62, 60, 64]],
    'session 2 starts at tile 0 of its own sheet');
  t.same(tiles.map((x) => th.tileNumber(x.timeMs)! - T0), [0, 1, 2, 3], 'the image playlist numbers tiles one by one across sessions');
  t.equal((await th.sheet(T0))?.complete, true);
});

t.test('disk low: nothing written, pictures still served from RAM; the tiles go with the next version once space is back', async (t) => {
  let writable = false;
  const { th, paths, store } = make('c', { writable: () => writable });
  th.setTracks(fixture.fx.tracks);
  await feed(th, 0, 7000, T0, store);
  t.same(filesUnder(paths.root), [], 'no file while the gate is closed');
  t.ok(await th.tileImage(T0 + 2000), 'a tile\'s own JPEG is served from RAM meanwhile');
  t.ok(store!.dropped >= 2, `writes dropped and counted (${store!.dropped})`);
  t.ok(th.latest(), 'the newest thumbnail is served anyway');
  writable = true;
  await feed(th, 7000, 13_000);
  await th.close();
  t.same(tileLines(paths.root).map((l) => (Number(l.split(' ')[0]) - T0) / 1000), [0, 2, 4, 6, 8, 10, 12],
    'the first sheet, written when complete, indexes the tiles of the closed-gate time too');
});

t.test('without the archive: RAM only; tiles whose sheet left RAM leave the live track', async (t) => {
  const { th, paths } = make('d', { stored: false });
  th.setTracks(fixture.fx.tracks);
  await feed(th, 0, 21_000);
  await th.close();
  t.same(filesUnder(paths.root), []);
  t.same(th.liveTiles(0).map((x) => (x.timeMs - T0) / 1000), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20], 'two sheets in RAM hold all 11');
  t.same(jpegSize((await th.tileImage(T0))!), { width: 64, height: 36 }, 'and their tiles\' own JPEGs');
  t.equal(await th.thumbnail(T0), undefined, 'older thumbnails are gone without a store');
});

t.test('an avcC the decoder refuses, and undecodable keyframes: a channel.error event, ingest unaffected', async (t) => {
  const events = new EventBus();
  const seen: OriginEvents['channel.error'][] = [];
  events.on('channel.error', (e) => seen.push(e));
  const { th } = make('e', { events, stored: false });
  th.setTracks(fixture.fx.tracks.map((x) => ({ ...x, codecConfig: Buffer.from([1, 2, 3]) })));
  t.doesNotThrow(() => th.write(fixture.fx.aus[0], T0), 'write is a no-op without a thumbnailer');
  t.match(seen[0], { channel: 'e', code: 'ERR_NATIVE_CONFIG' });
  th.setTracks(fixture.fx.tracks);
  for (let i = 0; i < 5; i++) th.write({ ...fixture.fx.aus[0], data: Buffer.from('garbage, not AVCC') }, T0 + i * 2000);
  await th.close();
  t.equal(seen.length, 2, 'one more event for the session, not one per bad keyframe');
  t.match(seen[1], { channel: 'e', code: 'ERR_THUMB_INPUT' });
});
