/**
 * The WebVTT thumbnails track renderer: cues on the playlist's timeline, table-driven, each
 * output parsed back the way players read it.
 */
import t from 'tap';
import { renderPreviewVtt, vttTime, type TimelineSegment } from '../../../../src/media/thumbnails/preview-vtt.js';
import type { TileRecord } from '../../../../src/media/thumbnails/thumbnail-layout.js';
import { parseThumbnailVtt } from '../../../helpers/webvtt.js';

const T0 = Date.UTC(2026, 10, 25, 18, 0, 0);
const tile = (offsetMs: number, i: number, sheetId = T0): TileRecord => ({ timeMs: T0 + offsetMs, sheetId, x: (i % 10) * 160, y: Math.floor(i / 10) * 90, width: 160, height: 90 });
const segs = (...spans: Array<[number, number]>): TimelineSegment[] => spans.map(([start, dur]) => ({ programDateTimeMs: T0 + start, durationMs: dur }));
const render = (tiles: TileRecord[], s: TimelineSegment[]) => renderPreviewVtt(tiles, { segments: s, intervalMs: 2000, sheetUri: (id) => `previews/${id}.jpg?token=a` });
const starts = (text: string) => parseThumbnailVtt(text).cues.map((c) => [c.startMs, c.endMs]);

t.test('timestamps', async (t) => {
  t.equal(vttTime(0), '00:00:00.000');
  t.equal(vttTime(3_723_004), '01:02:03.004');
  t.equal(vttTime(360_000_000), '100:00:00.000', 'hours grow past 99');
});

t.test('cues from each tile to the next, relative to the first segment', async (t) => {
  const text = render([0, 2000, 4000, 6000].map((o, i) => tile(o, i)), segs([0, 2000], [2000, 2000], [4000, 2000], [6000, 1000]));
  t.same(starts(text), [[0, 2000], [2000, 4000], [4000, 6000], [6000, 8000]], 'the newest cue lasts one interval');
  const { cues, notes } = parseThumbnailVtt(text);
  t.same(cues[1], { startMs: 2000, endMs: 4000, uri: `previews/${T0}.jpg?token=a`, xywh: { x: 160, y: 0, w: 160, h: 90 } });
  t.match(notes[0], /PROGRAM-DATE-TIME 2026-11-25T18:00:00.000Z/);
});

t.test('the window starts between tiles: the tile before it covers time 0, older ones are left out', async (t) => {
  const text = render([0, 2000, 4000, 6000].map((o, i) => tile(o, i)), segs([3000, 2000], [5000, 2000]));
  t.same(starts(text), [[0, 1000], [1000, 3000], [3000, 5000]], 'tile at 2 s → 0; tile at 4 s → 1 s; tile at 6 s → 3 s');
});

t.test('a gap in wall time (publisher away 10 s) does not shift later cues', async (t) => {
  // Segments: [0,4) s, then the publisher is away until 14 s, then [14,18) s.
  const text = render([0, 2000, 14_000, 16_000].map((o, i) => tile(o, i)), segs([0, 2000], [2000, 2000], [14_000, 2000], [16_000, 2000]));
  t.same(starts(text), [[0, 2000], [2000, 4000], [4000, 6000], [6000, 8000]], 'the tile at 14 s wall time is at 4 s of the timeline');
});

t.test('tiles outside every segment are left out; the open segment grows', async (t) => {
  // A tile during a gap (wall 5 s, between segments ending at 4 s and starting at 14 s); one past the open segment's end.
  const text = render([0, 5000, 14_000, 17_000].map((o, i) => tile(o, i)), segs([0, 4000], [14_000, 1000]));
  t.same(starts(text), [[0, 4000], [4000, 7000], [7000, 9000]], 'the gap tile is dropped; the live-edge tile is placed past the open segment');
});

t.test('no segments: an empty track; no tiles: a header only', async (t) => {
  t.equal(render([tile(0, 0)], []), 'WEBVTT\n\n');
  t.same(parseThumbnailVtt(render([], segs([0, 2000]))).cues, []);
});

t.test('tiles of several sheets keep their own sheet URI', async (t) => {
  const tiles = [tile(0, 99, T0 - 198_000), tile(2000, 0, T0 + 2000)];
  const { cues } = parseThumbnailVtt(render(tiles, segs([0, 4000])));
  t.same(cues.map((c) => [c.uri, c.xywh.x, c.xywh.y]), [[`previews/${T0 - 198_000}.jpg?token=a`, 1440, 810], [`previews/${T0 + 2000}.jpg?token=a`, 0, 0]]);
});
