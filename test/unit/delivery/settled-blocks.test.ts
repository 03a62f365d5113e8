import t from 'tap';
import { gunzipSync } from 'node:zlib';
import { LiveWindow } from '../../../src/store/live-window.js';
import { SETTLED_BLOCK_SEGMENTS as B, renderMediaPlaylist, renderMediaPlaylistPieces, type MediaPlaylistConfig, type SkipRequest } from '../../../src/packager/hls/media-playlist.js';
import { PiecewisePlaylist, SettledBlocks } from '../../../src/delivery/settled-blocks.js';
import { crc32, crc32Combine, deflatePiece, gzipPieces } from '../../../src/delivery/gzip-pieces.js';

const cfg = (parts: boolean): MediaPlaylistConfig => ({
  targetDurationSec: 2, segmentTargetMs: 2000, partTargetSec: parts ? 0.21 : undefined, partHoldBackSec: parts ? 0.63 : undefined,
  holdBackSec: 6, canSkipUntilSec: 12,
  initUri: (id) => `source/init-${id}.mp4`, segmentUri: (m) => `source/${m}.m4s`, partUri: (m, i) => `source/${m}.${i}.m4s`,
});

t.test('gzip from pieces: CRC-32 check value, combine, and members that gunzip to the concatenation', async (t) => {
  t.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  const a = Buffer.from('#EXTM3U\n'), b = Buffer.from('#EXTINF:2.0,\nsource/1.m4s\n'.repeat(500));
  t.equal(crc32Combine(crc32(a), crc32(b), b.length), crc32(Buffer.concat([a, b])));
  t.same(gunzipSync(gzipPieces([a, deflatePiece(b), Buffer.alloc(0), a])), Buffer.concat([a, b, a]));
});

t.test('a window rendered with cached settled blocks equals the plain render, text and gzip, as it grows and slides', async (t) => {
  let now = Date.UTC(2026, 10, 25, 12, 0, 0);
  for (const withParts of [true, false]) {
    const w = new LiveWindow({ windowMs: 1_600_000, hotMs: 20_000, archived: true, minSegments: 6, retainAfterRemovalMs: 30_000, now: () => now });
    const blocks = new SettledBlocks();
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
          blocks.prune(w.segments[0].msn);
          const plain = renderMediaPlaylist(view, c, { skip, querySuffix });
          const pw = new PiecewisePlaylist(renderMediaPlaylistPieces(view, c, { skip, querySuffix }, blocks), 'x');
          checked++;
          if (!pw.text.equals(Buffer.from(plain)) || !gunzipSync(pw.gzip).equals(Buffer.from(plain))) mismatches++;
        }
      }
    }
    t.equal(mismatches, 0, `parts=${withParts}: ${checked} renders identical`);
    t.ok(blocks.size >= 2, `blocks in use (${blocks.size})`);
  }
});
