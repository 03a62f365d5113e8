/**
 * HLS image media playlists (pure): sheets planned from tiles (spans, tile durations, gaps,
 * the window starting inside a sheet, the live edge), the playlist text (golden) read back
 * strictly, and the multivariant playlist naming it (golden; m3u8-parser, what video.js reads,
 * still sees exactly the variants).
 */
import t from 'tap';
import { planSheets, renderImagePlaylist, type ImageTile } from '../../../src/packager/hls/image-playlist.js';
import { renderMultivariantPlaylist } from '../../../src/packager/hls/multivariant-playlist.js';
import { imageStreams, parseImagePlaylist } from '../../helpers/image-playlist.js';
import { parseM3u8 } from '../../helpers/m3u8.js';
import { matchesGolden as golden } from '../../helpers/golden.js';

const T0 = Date.UTC(2026, 10, 25, 18, 0, 0);
const COLUMNS = 3, ROWS = 2;

/** Tiles at the given offsets (ms from T0), filling sheets of COLUMNS x ROWS in order; a new sheet at each `newSheetAt`. */
function tiles(offsets: number[], newSheetAt: number[] = []): ImageTile[] {
  const out: ImageTile[] = [];
  let sheetId = 0, cell = COLUMNS * ROWS;
  for (const off of offsets) {
    if (cell === COLUMNS * ROWS || newSheetAt.includes(off)) { sheetId = T0 + off; cell = 0; }
    out.push({ timeMs: T0 + off, sheetId, x: (cell % COLUMNS) * 160, y: Math.floor(cell / COLUMNS) * 90, width: 160, height: 90 });
    cell++;
  }
  return out;
}
const every = (from: number, to: number, step: number) => Array.from({ length: Math.ceil((to - from) / step) }, (_, i) => from + i * step);
const spans = (o: Parameters<typeof planSheets>[0], until?: number) =>
  planSheets(o, { columns: COLUMNS, intervalMs: 2000, untilMs: until }).map((s) => [s.startMs - T0, s.durationMs, s.tileMs, s.cells]);

t.test('sheets: a tile every 2 s; each sheet ends where the next begins', async (t) => {
  t.same(spans(tiles(every(0, 16_000, 2000))), [[0, 12_000, 2000, 6], [12_000, 4000, 2000, 2]],
    'a full sheet of 6 covers 12 s; the newest ends one spacing after its last tile');
});

t.test('sheets: the tile DURATION is the measured spacing (3 s keyframes for a 2 s interval)', async (t) => {
  t.same(spans(tiles(every(0, 21_000, 3000))), [[0, 18_000, 3000, 6], [18_000, 3000, 3000, 1]]);
  // Keyframe jitter: the sheet's mean spacing, so cell k sits at k × DURATION within a fraction of a GOP.
  const jittered = tiles([0, 2040, 3980, 6010, 8000, 9990, 12_000]);
  t.same(spans(jittered), [[0, 12_000, 2000, 6], [12_000, 1998, 1998, 1]], 'a one-tile sheet takes the spacing of the sheet before it');
});

t.test('sheets: the window starts inside a sheet; cell 0 still starts it', async (t) => {
  const all = tiles(every(0, 16_000, 2000));
  t.same(spans(all.slice(3)), [[0, 12_000, 2000, 6], [12_000, 4000, 2000, 2]], 'the same spans without the sheet\'s first three tiles');
});

t.test('sheets: a gap (publisher away) ends the sheet one spacing after its last tile', async (t) => {
  const s = tiles([0, 2000, 4000, 30_000, 32_000], [30_000]);
  t.same(spans(s), [[0, 6000, 2000, 3], [30_000, 4000, 2000, 2]]);
  t.same(spans(tiles([0, 2000, 4000, 6500], [6500])), [[0, 6500, 6500 / 3, 3], [6500, 2000, 2000, 1]],
    'a next sheet within half a spacing follows on: the sheet ends where it begins');
  t.same(spans(tiles([0])), [[0, 2000, 2000, 1]], 'a single tile alone stands for one preview interval');
});

t.test('sheets: cut at the newest media, the tile DURATION kept', async (t) => {
  t.same(spans(tiles(every(0, 16_000, 2000)), T0 + 15_000), [[0, 12_000, 2000, 6], [12_000, 3000, 2000, 2]]);
  t.same(spans(tiles(every(0, 16_000, 2000)), T0 + 12_000), [[0, 12_000, 2000, 6]], 'a sheet starting at the cut is left out');
  t.same(planSheets([], { columns: COLUMNS, intervalMs: 2000 }), []);
});

t.test('the live image playlist (golden), read back: tiles, durations adding up, sequence, URIs', async (t) => {
  // The window starts at 4 s (inside the first sheet), the publisher is away from 16 s to 30 s, the newest media ends at 33.5 s.
  const sheets = planSheets(tiles(every(0, 16_000, 2000).concat([30_000, 32_000]), [30_000]).slice(2), { columns: COLUMNS, intervalMs: 2000, untilMs: T0 + 33_500 });
  const text = renderImagePlaylist(sheets, {
    columns: COLUMNS, rows: ROWS, mediaSequence: 41, minTargetDurationSec: 12, ended: false,
    videoParts: { partHoldBackSec: 0.63, partTargetSec: 0.21 },
    sheetUri: (id) => `previews/${id}.jpg`, querySuffix: '?token=abc',
  });
  golden(t, 'image-live.m3u8', text);
  const p = parseImagePlaylist(text);
  t.same([p.version, p.targetDurationSec, p.mediaSequence, p.ended], [7, 12, 41, false]);
  t.same(p.serverControl, { 'PART-HOLD-BACK': '0.63' }, 'the video\'s PART-HOLD-BACK (Shaka\'s live delay), no CAN-BLOCK-RELOAD');
  t.notOk('HOLD-BACK' in p.serverControl!, 'no HOLD-BACK: implied 3 × TARGETDURATION, as SC-02 asks of any HOLD-BACK');
  t.equal(p.partTargetSec, 0.21);
  t.same(p.segments.map((s) => s.uri), [`previews/${T0}.jpg?token=abc`, `previews/${T0 + 12_000}.jpg?token=abc`, `previews/${T0 + 30_000}.jpg?token=abc`],
    'each sheet once, named by its first tile, the query carried');
  t.ok(p.segments.every((s) => s.tileWidth === 160 && s.tileHeight === 90 && s.columns === COLUMNS && s.rows === ROWS), 'RESOLUTION is a tile, LAYOUT the sheet');
  t.same(p.segments.map((s) => [s.programDateTimeMs - T0, s.durationSec, s.tileSec]), [[0, 12, 2], [12_000, 4, 2], [30_000, 3.5, 2]]);
  t.ok(p.segments.every((s) => s.durationSec / s.tileSec <= COLUMNS * ROWS + 1e-9), 'no sheet claims more tiles than it has cells');
  t.ok(p.segments.every((s) => Math.round(s.durationSec) <= p.targetDurationSec), 'TARGETDURATION covers every EXTINF');
  // Where sheets follow on, durations add up to the next PROGRAM-DATE-TIME; the gap is a jump in PROGRAM-DATE-TIME.
  t.equal(p.segments[0].programDateTimeMs + p.segments[0].durationSec * 1000, p.segments[1].programDateTimeMs);

  const ended = parseImagePlaylist(renderImagePlaylist(sheets.slice(0, 1), {
    columns: COLUMNS, rows: ROWS, mediaSequence: 7, minTargetDurationSec: 12, ended: true, sheetUri: (id) => `p/${id}.jpg`, querySuffix: '',
  }));
  t.same([ended.ended, ended.serverControl, ended.partTargetSec, ended.segments[0].uri], [true, undefined, undefined, `p/${T0}.jpg`], 'ENDLIST; no server control unless given');
  const normal = parseImagePlaylist(renderImagePlaylist(sheets, {
    columns: COLUMNS, rows: ROWS, mediaSequence: 7, minTargetDurationSec: 200, ended: false, sheetUri: String, querySuffix: '',
  }));
  t.same([normal.serverControl, normal.partTargetSec, normal.targetDurationSec], [undefined, undefined, 200],
    'video playlists without parts: nothing to repeat (a HOLD-BACK would be ≥ 3 sheets); TD at least the nominal span');
});

t.test('the multivariant playlist names the image playlist (golden); players reading variants see the same variants', async (t) => {
  const variant = { uri: 'source.m3u8', bandwidth: 1_234_567, averageBandwidth: 900_000, codecs: ['avc1.64001f', 'mp4a.40.2'], width: 1280, height: 720, frameRate: 30 };
  const text = renderMultivariantPlaylist([variant], '?token=abc', [{ uri: 'previews.m3u8', bandwidth: 20_480.4, tileWidth: 160, tileHeight: 90 }]);
  golden(t, 'multivariant-images.m3u8', text);
  t.same(imageStreams(text), [{ BANDWIDTH: '20480', RESOLUTION: '160x90', CODECS: 'jpeg', URI: 'previews.m3u8?token=abc' }]);
  t.ok(text.endsWith('#EXT-X-IMAGE-STREAM-INF:BANDWIDTH=20480,RESOLUTION=160x90,CODECS="jpeg",URI="previews.m3u8?token=abc"\n'),
    'after the variants, never between an EXT-X-STREAM-INF and its URI');
  const { manifest, warnings } = parseM3u8(text);
  t.same(warnings, [], 'm3u8-parser passes over the unknown tag');
  t.same(manifest.playlists.map((p: { uri: string }) => p.uri), ['source.m3u8?token=abc'], 'one variant, as without previews');
  t.equal(renderMultivariantPlaylist([variant], '?token=abc'), text.slice(0, text.indexOf('#EXT-X-IMAGE')), 'without images: the playlist as before');
});
