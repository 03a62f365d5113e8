/**
 * HLS image media playlists (pure): tiles planned as one-tile segments against the video
 * timeline (durations fixed once listed, the live edge, the publisher's absence as a
 * discontinuity, the target-duration cap), the playlist text (golden) read back strictly, and
 * the multivariant playlist naming it (golden; m3u8-parser, what video.js reads, still sees
 * exactly the variants).
 */
import t from 'tap';
import { planTiles, renderImagePlaylist, type VideoSegment, type VideoTimeline } from '../../../src/packager/hls/image-playlist.js';
import type { TileRecord } from '../../../src/media/thumbnails/thumbnail-layout.js';
import { renderMultivariantPlaylist } from '../../../src/packager/hls/multivariant-playlist.js';
import { imageStreams, parseImagePlaylist } from '../../helpers/image-playlist.js';
import { parseM3u8 } from '../../helpers/m3u8.js';
import { matchesGolden as golden } from '../../helpers/golden.js';

const T0 = Date.UTC(2026, 10, 25, 18, 0, 0);
const TD = 2000;

/** Tiles at the given offsets (ms from T0); their sheets do not matter to the image playlist. */
const tiles = (offsets: number[]): TileRecord[] => offsets.map((off) => ({ timeMs: T0 + off, sheetId: T0, x: 0, y: 0, width: 160, height: 90 }));
const every = (from: number, to: number, step: number) => Array.from({ length: Math.ceil((to - from) / step) }, (_, i) => from + i * step);
/** 2 s video segments covering each [from, to) ms from T0; each stretch after the first starts with EXT-X-DISCONTINUITY. */
function video(stretches: Array<[number, number]>, o: { ended?: boolean; discontinuitySequence?: number } = {}): VideoTimeline {
  const segments: VideoSegment[] = [];
  for (const [from, to] of stretches) {
    for (let at = from; at < to; at += TD) segments.push({ programDateTimeMs: T0 + at, durationMs: Math.min(TD, to - at), discontinuity: at === from && segments.length > 0 });
  }
  return { segments, discontinuitySequence: o.discontinuitySequence ?? 0, ended: o.ended ?? false };
}
const plan = (ts: TileRecord[], v: VideoTimeline, td = TD) => planTiles(ts, v, { targetDurationMs: td });
const rows = (p: ReturnType<typeof plan>) => p.segments.map((s) => [s.timeMs - T0, s.durationMs, s.discontinuity]);

t.test('tiles: each stands until the next; the newest waits for the next tile', async (t) => {
  const v = video([[0, 9000]]); // the video lists media up to 9 s (the open segment's parts so far)
  t.same(rows(plan(tiles(every(0, 10_000, 2000)), v)), [[0, 2000, false], [2000, 2000, false], [4000, 2000, false], [6000, 2000, false]],
    'the tile at 8 s is not listed: its end (the tile at 10 s... not taken yet) is unknown');
  t.same(rows(plan(tiles(every(0, 12_000, 2000)), v)).length, 4, 'a next tile beyond the media listed does not list the tile either (8-10 s reaches past 9 s)');
  t.same(rows(plan(tiles([0, 1900, 4100, 6000]), video([[0, 8000]]))), [[0, 1900, false], [1900, 2000, false], [4100, 1900, false]],
    'keyframe jitter: the spacing as it is, capped at the target duration');
  t.same(plan([], v).segments, []);
  t.same(plan(tiles([0]), { segments: [], discontinuitySequence: 3, ended: false }), { segments: [], discontinuitySequence: 3 });
});

t.test('tiles: a listed tile never changes as the stream goes on (every reload agrees)', async (t) => {
  const all = tiles(every(0, 40_000, 2000));
  const seen = new Map<number, number>();
  let changed = 0, listed = 0;
  for (let endMs = 2500; endMs <= 40_000; endMs += 500) {
    const p = plan(all.filter((x) => x.timeMs < T0 + endMs), video([[Math.max(0, endMs - 20_000) - (Math.max(0, endMs - 20_000) % TD), endMs]]));
    for (const s of p.segments) {
      if (seen.has(s.timeMs) && seen.get(s.timeMs) !== s.durationMs) changed++;
      seen.set(s.timeMs, s.durationMs);
    }
    listed = Math.max(listed, p.segments.length);
  }
  t.equal(changed, 0, 'no tile\'s duration ever changed');
  t.ok(listed >= 9, `up to ${listed} tiles listed at once in a 20 s window`);
});

t.test('tiles: the window starts after a tile: that tile is left out', async (t) => {
  t.same(rows(plan(tiles(every(0, 12_000, 2000)), video([[3000, 11_000]]))).map((r) => r[0]), [4000, 6000, 8000]);
});

t.test('tiles: the publisher away: the last tile stands to its session\'s end, the next starts a discontinuity', async (t) => {
  const v = video([[0, 7000], [30_000, 36_000]], { discontinuitySequence: 4 });
  const p = plan(tiles([0, 2000, 4000, 6000, 30_000, 32_000, 34_000]), v);
  t.same(rows(p), [[0, 2000, false], [2000, 2000, false], [4000, 2000, false], [6000, 1000, false], [30_000, 2000, true], [32_000, 2000, false]],
    'the tile at 6 s stands to 7 s (where the session\'s media ends), not to the next session');
  t.equal(p.discontinuitySequence, 4, 'the video\'s discontinuity sequence');
  const later = plan(tiles([30_000, 32_000, 34_000]), video([[30_000, 36_000]], { discontinuitySequence: 5 }));
  t.same([later.discontinuitySequence, later.segments[0].discontinuity], [5, false], 'once the first session left the window: the next number, no tag');
  const away = plan(tiles([0, 2000, 4000, 6000]), { ...video([[0, 7000]]), ended: true });
  t.same(rows(away).at(-1), [6000, 1000, false], 'ENDLIST: the last tile stands to the media\'s end');
});

t.test('tiles: spaced further than the target duration (3 s keyframes for a 2 s target): capped, a hole to the next', async (t) => {
  const p = plan(tiles(every(0, 12_000, 3000)), video([[0, 12_000]]));
  t.same(rows(p), [[0, 2000, false], [3000, 2000, false], [6000, 2000, false]], 'EXTINF ≤ TARGETDURATION; PROGRAM-DATE-TIME keeps each tile at its time');
  t.same(rows(plan(tiles(every(0, 12_000, 3000)), video([[0, 12_000]]), 6000)), [[0, 3000, false], [3000, 3000, false], [6000, 3000, false]],
    'a 6 s target duration (normal mode): no cap');
});

t.test('the live image playlist (golden), read back: one tile per segment, the video\'s timing, sequence, URIs', async (t) => {
  // The window starts at 4 s, the publisher is away from 9 s to 30 s, the newest media ends at 35.5 s.
  const p = plan(tiles([...every(0, 9000, 2000), 30_000, 32_000, 34_000]), video([[4000, 9000], [30_000, 35_500]], { discontinuitySequence: 2 }));
  const text = renderImagePlaylist(p, {
    mediaSequence: 41, ended: false, video: { targetDurationSec: 2, holdBackSec: 6, partHoldBackSec: 0.63, partTargetSec: 0.21 },
    tileUri: (ms) => `previews/tiles/${ms}.jpg`, querySuffix: '?token=abc',
  });
  golden(t, 'image-live.m3u8', text);
  const r = parseImagePlaylist(text);
  t.same([r.version, r.targetDurationSec, r.mediaSequence, r.discontinuitySequence, r.ended], [7, 2, 41, 2, false]);
  t.same(r.serverControl, { 'PART-HOLD-BACK': '0.63', 'HOLD-BACK': '6' }, 'the video\'s hold-backs; no CAN-BLOCK-RELOAD, no CAN-SKIP-UNTIL (it neither blocks nor skips)');
  t.equal(r.partTargetSec, 0.21, 'the video\'s PART-TARGET, for Shaka\'s low-latency delay');
  t.same(r.segments.map((s) => s.uri), [4000, 6000, 8000, 30_000, 32_000].map((o) => `previews/tiles/${T0 + o}.jpg?token=abc`), 'each tile once, by its time, the query carried');
  t.ok(r.segments.every((s) => s.tileWidth === 160 && s.tileHeight === 90 && s.columns === 1 && s.rows === 1), 'RESOLUTION is the tile, LAYOUT 1x1');
  t.same(r.segments.map((s) => [s.programDateTimeMs - T0, s.durationSec, s.tileSec, s.discontinuity]),
    [[4000, 2, 2, false], [6000, 2, 2, false], [8000, 1, 1, false], [30_000, 2, 2, true], [32_000, 2, 2, false]]);
  t.ok(r.segments.every((s) => s.durationSec <= r.targetDurationSec), 'TARGETDURATION covers every EXTINF');
  t.ok(Number(r.serverControl!['HOLD-BACK']) >= 3 * r.targetDurationSec, 'HOLD-BACK ≥ 3 × TARGETDURATION (SC-02)');

  const ended = parseImagePlaylist(renderImagePlaylist(plan(tiles([0, 2000]), { ...video([[0, 4000]]), ended: true }), {
    mediaSequence: 7, ended: true, video: { targetDurationSec: 6, holdBackSec: 18 }, tileUri: (ms) => `t/${ms}.jpg`, querySuffix: '',
  }));
  t.same([ended.ended, ended.serverControl, ended.partTargetSec, ended.targetDurationSec, ended.segments.map((s) => s.durationSec)],
    [true, { 'HOLD-BACK': '18' }, undefined, 6, [2, 2]], 'without parts: HOLD-BACK alone, no PART-INF; ENDLIST lists the last tile');
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
