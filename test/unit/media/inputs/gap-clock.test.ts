/**
 * The gap clock alone (failover.slate 'gap'): gap parts of the part target, grouped into
 * segments of the segment target, released as the wall clock passes their end.
 */
import t from 'tap';
import { GapClock } from '../../../../src/media/inputs/gap-clock.js';

t.test('parts come due with the wall clock, numbered on from the first MSN, a segment every segment target', async (t) => {
  const epoch = 1_000_000;
  const g = new GapClock({ firstMsn: 40, startMs: 5000, epochMs: epoch, partMs: 200, segmentMs: 1000 });
  t.same(g.due(epoch + 5199), [], 'nothing before the first part\'s end');
  t.same(g.due(epoch + 5200), [{ msn: 40, index: 0, durationMs: 200, startMs: 5000, segmentEnd: false }]);
  const more = g.due(epoch + 6450);
  t.same(more.map((p) => [p.msn, p.index, p.segmentEnd]), [[40, 1, false], [40, 2, false], [40, 3, false], [40, 4, true], [41, 0, false], [41, 1, false]],
    'five parts make a segment; the next starts at index 0 of the next MSN');
  t.equal(g.endMs, 6400, 'the gap reaches the end of the last part released');
  t.ok(more.every((p, i) => i === 0 || p.startMs === more[i - 1].startMs + 200), 'parts follow each other without a hole');
});

t.test('modes without parts: one part per segment; a stalled event loop gets a bounded batch, the rest later', async (t) => {
  const g = new GapClock({ firstMsn: 1, startMs: 0, epochMs: 0, partMs: 6000, segmentMs: 6000 });
  t.same(g.due(12_000).map((p) => [p.msn, p.index, p.segmentEnd]), [[1, 0, true], [2, 0, true]]);
  const h = new GapClock({ firstMsn: 1, startMs: 0, epochMs: 0, partMs: 200, segmentMs: 2000 });
  t.equal(h.due(1_000_000, 50).length, 50, 'at most the batch asked for');
  t.equal(h.due(1_000_000, 50)[0].startMs, 50 * 200, 'the next batch goes on where it stopped');
  t.throws(() => new GapClock({ firstMsn: 1, startMs: 0, epochMs: 0, partMs: 0, segmentMs: 2000 }), /positive/);
});
