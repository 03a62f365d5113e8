/**
 * The gap clock alone (failover.slate 'gap'): gap parts of the part target, grouped into
 * segments of the segment target, released as the wall clock passes their end.
 */
import t from 'tap';
import { GapClock } from '../../../../src/media/inputs/gap-clock.js';

t.test('parts come due with the wall clock, numbered on from the first MSN, a segment every segment target', async (t) => {
  const epoch = 1_000_000;
  const g = new GapClock({ firstMsn: 40, startMs: 5000, epochMs: epoch, partMs: 200, segmentMs: 1000, segmentMaxMs: 1499 });
  t.same(g.due(epoch + 5199), [], 'nothing before the first part\'s end');
  t.same(g.due(epoch + 5200), [{ msn: 40, index: 0, durationMs: 200, startMs: 5000, segmentEnd: false }]);
  const more = g.due(epoch + 6450);
  t.same(more.map((p) => [p.msn, p.index, p.segmentEnd]), [[40, 1, false], [40, 2, false], [40, 3, false], [40, 4, true], [41, 0, false], [41, 1, false]],
    'five parts make a segment; the next starts at index 0 of the next MSN');
  t.equal(g.endMs, 6400, 'the gap reaches the end of the last part released');
  t.ok(more.every((p, i) => i === 0 || p.startMs === more[i - 1].startMs + 200), 'parts follow each other without a hole');
});

t.test('modes without parts: one part per segment; a stalled event loop gets a bounded batch, the rest later', async (t) => {
  const g = new GapClock({ firstMsn: 1, startMs: 0, epochMs: 0, partMs: 6000, segmentMs: 6000, segmentMaxMs: 6499 });
  t.same(g.due(12_000).map((p) => [p.msn, p.index, p.segmentEnd]), [[1, 0, true], [2, 0, true]]);
  const h = new GapClock({ firstMsn: 1, startMs: 0, epochMs: 0, partMs: 200, segmentMs: 2000, segmentMaxMs: 2499 });
  t.equal(h.due(1_000_000, 50).length, 50, 'at most the batch asked for');
  t.equal(h.due(1_000_000, 50)[0].startMs, 50 * 200, 'the next batch goes on where it stopped');
  t.throws(() => new GapClock({ firstMsn: 1, startMs: 0, epochMs: 0, partMs: 0, segmentMs: 2000, segmentMaxMs: 2499 }), /positive/);
});

t.test('the segment the source left open is completed first, from the index its playlist hinted, never past its longest', async (t) => {
  // 400 ms of media in msn 7 (parts 0-2): the gap goes on at index 3 up to the 1-s target.
  const g = new GapClock({ firstMsn: 7, continuedMs: 400, startMs: 10_400, epochMs: 0, partMs: 200, segmentMs: 1000, segmentMaxMs: 1499 }, 3);
  t.same(g.due(11_400).map((p) => [p.msn, p.index, p.durationMs, p.segmentEnd]), [[7, 3, 200, false], [7, 4, 200, false], [7, 5, 200, true], [8, 0, 200, false], [8, 1, 200, false]]);
  // A segment already at 1.4 s: one short gap part takes it to its longest (1.499 s) and closes it.
  const h = new GapClock({ firstMsn: 7, continuedMs: 1400, startMs: 0, epochMs: 0, partMs: 200, segmentMs: 1000, segmentMaxMs: 1499 }, 6);
  t.same(h.due(300).map((p) => [p.msn, p.index, p.durationMs, p.segmentEnd]), [[7, 6, 99, true], [8, 0, 200, false]],
    'a 99-ms gap part closes it; the next segment starts');
});
