import t from 'tap';
import { gunzipSync } from 'node:zlib';
import { LiveWindow } from '../../../src/store/live-window.js';
import { SETTLED_BLOCK_SEGMENTS as B, renderMediaPlaylist, renderMediaPlaylistPieces, type MediaPlaylistConfig, type SkipRequest } from '../../../src/packager/hls/media-playlist.js';
import { PiecewisePlaylist, SettledBlocksBySuffix } from '../../../src/delivery/settled-blocks.js';
import { crc32, crc32Combine, deflatePiece, gzipPieces } from '../../../src/delivery/gzip-pieces.js';

const cfg = (parts: boolean): MediaPlaylistConfig => ({
  targetDurationSec: 2, partTargetSec: parts ? 0.21 : undefined, partHoldBackSec: parts ? 0.63 : undefined,
  holdBackSec: 6, canSkipUntilSec: 12,
  initUri: (id) => `source/init-${id}.mp4`, segmentUri: (m) => `source/${m}.m4s`, partUri: (m, i) => `source/${m}.${i}.m4s`,
});

t.test('gzip from pieces: CRC-32 check value, combine, and members that gunzip to the concatenation', async (t) => {
  t.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  const a = Buffer.from('#EXTM3U\n'), b = Buffer.from('#EXTINF:2.0,\nsource/1.m4s\n'.repeat(500));
  t.equal(crc32Combine(crc32(a), crc32(b), b.length), crc32(Buffer.concat([a, b])));
  t.same(gunzipSync(gzipPieces([a, deflatePiece(b), Buffer.alloc(0), a])), Buffer.concat([a, b, a]));
});

t.test('a window rendered with cached settled blocks equals the plain render, text and gzip, as it grows and slides, with and without a query suffix', async (t) => {
  let now = Date.UTC(2026, 10, 25, 12, 0, 0);
  for (const withParts of [true, false]) {
    const w = new LiveWindow({ windowMs: 1_600_000, hotMs: 20_000, archived: true, minSegments: 6, retainAfterRemovalMs: 30_000, now: () => now });
    const blocks = new SettledBlocksBySuffix();
    const c = cfg(withParts);
    let msn = 1000, initId = 1, checked = 0, mismatches = 0;
    for (let seg = 0; seg < 1300; seg++) {
      // A reconnect every 397 segments: discontinuity and a new init, inside blocks and at their edges.
      const reconnect = seg > 0 && seg % 397 === 0;
      if (reconnect) initId++;
      msn++;
      for (let p = 0; p < 10; p++) {
        w.addPart({ msn, index: p, durationMs: 200 + (seg % 3), independent: p === 0, data: Buffer.alloc(4) },
          { initId, discontinuity: reconnect, programDateTimeMs: now, startMs: seg * 2000 });
        now += 200;
      }
      for (const s of w.segments) if (s.complete && s.archive === 'pending') w.archived(s.msn);
      // Every 7th segment, and every segment around block boundaries (a block may end the list).
      if (seg % 23 !== 0 && (msn % B) > 2 && (msn % B) < B - 2) continue;
      for (const skip of ['NO', 'YES'] as SkipRequest[]) {
        for (const querySuffix of ['', '?token=abc']) {
          const view = { segments: w.segments, discontinuitySequence: w.discontinuitySequence, ended: seg === 1299, renditionReports: [] };
          const plain = renderMediaPlaylist(view, c, { skip, querySuffix });
          const pw = new PiecewisePlaylist(renderMediaPlaylistPieces(view, c, { skip, querySuffix }, blocks.for(querySuffix, w.segments[0].msn)), 'x');
          checked++;
          if (!pw.text.equals(Buffer.from(plain)) || !gunzipSync(pw.gzip).equals(Buffer.from(plain))) mismatches++;
        }
      }
    }
    t.equal(mismatches, 0, `parts=${withParts}: ${checked} renders identical`);
    t.ok(blocks.plain.size >= 2, `blocks in use (${blocks.plain.size})`);
    t.ok(blocks.for('?token=abc', w.segments[0].msn).size >= 2, 'and for the suffix');
  }
});

t.test('blocks of query suffixes: a token viewer\'s later renders reuse theirs; least recently used suffixes go beyond the budget', async (t) => {
  let now = Date.UTC(2026, 10, 25, 12, 0, 0);
  const w = new LiveWindow({ windowMs: 4_000_000, hotMs: 20_000, archived: true, minSegments: 6, retainAfterRemovalMs: 30_000, now: () => now });
  for (let msn = 1; msn <= 3 * B + 10; msn++) {
    for (let p = 0; p < 10; p++) {
      w.addPart({ msn, index: p, durationMs: 200, independent: p === 0, data: Buffer.alloc(4) }, { initId: 1, discontinuity: false, programDateTimeMs: now, startMs: (msn - 1) * 2000 });
      now += 200;
    }
    for (const s of w.segments) if (s.complete && s.archive === 'pending') w.archived(s.msn);
  }
  const view = { segments: w.segments, discontinuitySequence: 0, ended: false, renditionReports: [] };
  const c = cfg(true);
  const render = (blocks: SettledBlocksBySuffix, q: string) =>
    renderMediaPlaylistPieces(view, c, { skip: 'NO', querySuffix: q }, blocks.for(q, w.segments[0].msn));
  const unbounded = new SettledBlocksBySuffix();
  const first = render(unbounded, '?token=viewer-1');
  const again = render(unbounded, '?token=viewer-1');
  const blocksOf = (pieces: unknown[]) => pieces.filter((p) => typeof p !== 'string');
  t.ok(blocksOf(first).length >= 2, 'a token viewer\'s playlist is made of blocks');
  t.ok(blocksOf(again).every((b, i) => b === blocksOf(first)[i]), 'the same block objects on the next render: nothing re-rendered');
  t.match(new PiecewisePlaylist(again, 'x').text.toString(), /source\/1\.m4s\?token=viewer-1\n/, 'the blocks carry the token');

  const oneViewer = unbounded.suffixes.bytes;
  const bounded = new SettledBlocksBySuffix(Math.floor(2.5 * oneViewer));
  for (let v = 1; v <= 5; v++) render(bounded, `?token=viewer-${v}`);
  t.ok(bounded.suffixes.bytes <= 3.5 * oneViewer, `bytes held stay near the budget (${bounded.suffixes.bytes} for ${oneViewer} per viewer)`);
  t.ok(bounded.suffixes.count <= 3, `the oldest suffixes were dropped (${bounded.suffixes.count} kept)`);
  t.ok(blocksOf(render(bounded, '?token=viewer-5')).every((b, i) => b === blocksOf(render(bounded, '?token=viewer-5'))[i]), 'the newest kept');
});
