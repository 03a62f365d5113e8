import t from 'tap';
import { fakeStream } from '../../helpers/window.js';

/** 1 s segments of five 200 ms parts; a 60 s DVR window of which the newest 4 s stay in RAM. */
const dvr = (archived = true) => fakeStream({ partsPerSegment: 5, windowMs: 60_000, hotMs: 4_000, archived, minSegments: 3 });

const archiveAll = (s: ReturnType<typeof dvr>) => {
  for (const seg of s.window.segments) if (seg.complete && seg.archive === 'pending') s.window.archived(seg.msn);
};

t.test('beyond the hot edge, archived segments keep their facts but drop their bytes', async (t) => {
  const s = dvr();
  s.addParts(20 * 5 + 2); // 20 complete segments and an open one
  t.equal(s.window.segments.length, 21);
  t.ok(s.window.segments.every((x) => x.parts.length > 0), 'nothing leaves RAM before the archive has it');
  archiveAll(s);
  const inRam = s.window.segments.filter((x) => x.parts.length > 0).map((x) => x.msn);
  t.same(inRam, [17, 18, 19, 20, 21], 'the newest 4 s of complete segments and the open one stay in RAM');
  t.equal(s.window.segments.length, 21, 'the DVR window still lists every segment');
  t.equal(s.window.segments[0].archive, 'stored');
  t.equal(s.window.segments[0].parts, s.window.segments[1].parts, 'one shared empty parts list');
  t.equal(s.window.segments[0].durationMs, 1000, 'facts kept');
});

t.test('the DVR window slides at its configured length, independent of the hot edge', async (t) => {
  const s = dvr();
  for (let i = 0; i < 90; i++) { s.addParts(5); archiveAll(s); }
  const complete = s.window.segments.filter((x) => x.complete);
  const listedMs = complete.reduce((a, x) => a + x.durationMs, 0);
  t.ok(listedMs >= 60_000 && listedMs < 61_000, `listed ${listedMs} ms`);
  t.ok(s.window.segments.filter((x) => x.parts.length > 0).length <= 6, 'RAM holds only the hot edge');
});

t.test('a segment the archive will not hold leaves the playlist, with everything older, at the hot edge', async (t) => {
  const s = dvr();
  s.addParts(10 * 5);
  archiveAll(s);
  s.addParts(1); // closes segment 10
  s.window.notArchived(10);
  s.addParts(6 * 5);
  archiveAll(s);
  const msns = s.window.segments.map((x) => x.msn);
  t.equal(msns[0], 11, 'segments 1..10 left the playlist: no hole in the middle of it');
  t.same(msns, [...Array(msns.length).keys()].map((i) => 11 + i), 'contiguous');
});

t.test('without the archive the playlist lists only the hot edge', async (t) => {
  const s = dvr(false);
  s.addParts(30 * 5);
  const complete = s.window.segments.filter((x) => x.complete);
  t.ok(complete.length <= 5, `${complete.length} complete segments listed`);
  t.ok(s.window.segments.every((x) => x.parts.length > 0), 'all listed segments are servable from RAM');
});

t.test('a pending segment is kept in RAM past the hot edge until the archive answers', async (t) => {
  const s = dvr();
  s.addParts(12 * 5);
  t.equal(s.window.segments[0].parts.length, 5);
  s.window.archived(1);
  t.equal(s.window.segments[0].parts.length, 0, 'dropped as soon as it is stored');
  t.equal(s.window.segments[1].parts.length, 5, 'the next one still waits for the archive');
});

t.test('restore lists archived segments before new parts; MSNs continue', async (t) => {
  const s = dvr();
  s.window.restore([1, 2, 3].map((msn) => ({ msn, initId: 1, discontinuity: false, programDateTimeMs: msn * 1000, startMs: msn * 1000,
    durationMs: 1000, bytes: 500 })));
  t.same(s.window.segments.map((x) => [x.msn, x.complete, x.archive]), [[1, true, 'stored'], [2, true, 'stored'], [3, true, 'stored']]);
  s.window.addPart({ msn: 4, index: 0, durationMs: 200, independent: true, data: Buffer.alloc(10) },
    { initId: 2, discontinuity: true, programDateTimeMs: 9000, startMs: 0 });
  t.same(s.window.segments.map((x) => x.msn), [1, 2, 3, 4]);
  t.equal(s.window.segments[3].discontinuity, true);
  t.ok(s.window.has(3, -1));
});

t.test('appendGaps: after a restored window (a channel adopted from another origin), gap segments take the MSNs that origin may have used', async (t) => {
  const s = dvr();
  s.window.restore([1, 2, 3].map((msn) => ({ msn, initId: 1, discontinuity: false, programDateTimeMs: msn * 1000, startMs: msn * 1000,
    durationMs: 1000, bytes: 500 })));
  s.window.appendGaps(6, 1000);
  t.same(s.window.segments.map((x) => [x.msn, x.gap === true, x.complete, x.programDateTimeMs]),
    [[1, false, true, 1000], [2, false, true, 2000], [3, false, true, 3000], [4, true, true, 4000], [5, true, true, 5000], [6, true, true, 6000]]);
  t.ok(s.window.has(4, 7), 'a part of a gap with a newer segment listed is there (the player goes on)');
  t.notOk(s.window.has(6, 3), 'a part after the newest gap waits for the new media');
  let woke = false;
  const waited = s.window.waitFor(6, 3, 5000).then((r) => { woke = true; return r; });
  s.window.addPart({ msn: 7, index: 0, durationMs: 200, independent: true, data: Buffer.alloc(10) },
    { initId: 2, discontinuity: true, programDateTimeMs: 9000, startMs: 0 });
  t.equal(await waited, 'ready', 'woken by the continuation\'s first part');
  t.ok(woke);
  t.same(s.window.segments.map((x) => x.msn), [1, 2, 3, 4, 5, 6, 7], 'consecutive MSNs');
});
