import t from 'tap';
import { fakeStream } from '../../helpers/window.js';

t.test('parts group into segments; the previous segment closes when part 0 of the next arrives', async (t) => {
  const s = fakeStream({ partsPerSegment: 5 });
  s.addParts(12);
  const w = s.window;
  t.same(w.segments.map((x) => [x.msn, x.parts.length, x.complete]), [[1, 5, true], [2, 5, true], [3, 2, false]]);
  t.equal(w.segments[0].durationMs, 1000);
  t.same(w.lastPart, { msn: 3, index: 1 });
  t.equal(w.lastCompleteSegment?.msn, 2);
});

t.test('waitFor resolves exactly when the awaited part appears, not before', async (t) => {
  const s = fakeStream({ partsPerSegment: 5 });
  s.addParts(3); // msn 1, parts 0..2
  let done: string | undefined;
  const p = s.window.waitFor(1, 4, 10_000).then((r) => { done = r; });
  s.addPart(); // part 3
  await new Promise((r) => setImmediate(r));
  t.equal(done, undefined, 'not woken by an earlier part');
  s.addPart(); // part 4
  await p;
  t.equal(done, 'ready');
  t.equal(s.window.waiting, 0);
});

t.test('only the waiters of the published part are woken', async (t) => {
  const s = fakeStream({ partsPerSegment: 10 });
  s.addParts(2);
  const woken: number[] = [];
  for (const idx of [2, 3, 4]) void s.window.waitFor(1, idx, 10_000).then(() => woken.push(idx));
  s.addPart();
  await new Promise((r) => setImmediate(r));
  t.same(woken, [2]);
  t.equal(s.window.waiting, 2);
  s.window.close();
  await new Promise((r) => setImmediate(r));
  t.same(woken.sort(), [2, 3, 4], 'close releases the rest');
});

t.test('a part index beyond the final part of a closed segment means (msn+1, 0)', async (t) => {
  const s = fakeStream({ partsPerSegment: 3 });
  s.addParts(2);
  let r: string | undefined;
  const p = s.window.waitFor(1, 7, 10_000).then((x) => { r = x; });
  s.addPart(); // msn 1 part 2 (last)
  await new Promise((res) => setImmediate(res));
  t.equal(r, undefined, 'still waiting after the last part of msn 1');
  s.addPart(); // msn 2 part 0 closes msn 1
  await p;
  t.equal(r, 'ready');
  t.ok(s.window.has(1, 7), 'has() agrees once msn 2 part 0 exists');
});

t.test('asked after its segment closed, a part index beyond the final part waits for (msn+1, 0)', async (t) => {
  const s = fakeStream({ partsPerSegment: 3 });
  s.addParts(3); // msn 1 closed by its last part; msn 2 not begun
  let r: string | undefined;
  const p = s.window.waitFor(1, 3, 10_000).then((x) => { r = x; });
  await new Promise((res) => setImmediate(res));
  t.equal(r, undefined, 'waiting: msn 2 part 0 does not exist yet');
  s.addPart(); // msn 2 part 0
  await p;
  t.equal(r, 'ready', 'answered by msn 2 part 0 (it timed out before: the waiter sat under msn 1)');
  t.equal(s.window.waiting, 0);
});

t.test('segment-level wait (-1) resolves when the segment completes, with its last part', async (t) => {
  const s = fakeStream({ partsPerSegment: 3 });
  s.addParts(1);
  let r: string | undefined;
  const p = s.window.waitFor(1, -1, 10_000).then((x) => { r = x; });
  s.addParts(1);
  await new Promise((res) => setImmediate(res));
  t.equal(r, undefined);
  s.addPart(); // the segment's last part: the cutter marks it and the segment closes with it
  await p;
  t.equal(r, 'ready');
  t.equal(s.window.openSegment, undefined, 'no open segment until the next part arrives');
});

t.test('timeout and abort', async (t) => {
  const s = fakeStream();
  s.addParts(1);
  t.equal(await s.window.waitFor(5, 0, 20), 'timeout');
  const ac = new AbortController();
  const p = s.window.waitFor(5, 0, 10_000, ac.signal);
  ac.abort();
  t.equal(await p, 'aborted');
  t.equal(s.window.waiting, 0, 'no waiter left behind');
});

t.test('the window slides by duration, keeps removed segments downloadable for a while, and never grows', async (t) => {
  const s = fakeStream({ partsPerSegment: 10, windowMs: 10_000, minSegments: 3, retainAfterRemovalMs: 5_000 });
  s.addParts(10 * 40);
  const w = s.window;
  const complete = w.segments.filter((x) => x.complete);
  t.ok(complete.length >= 3 && complete.length <= 6, `listed ${complete.length} complete segments`);
  t.equal(w.segments[0].msn, 41 - complete.length, 'the newest segment (msn 40) is complete and listed');
  const firstListed = w.segments[0].msn;
  t.ok(w.segment(firstListed - 1), 'just removed: still downloadable');
  t.notOk(w.segment(firstListed - 10), 'long removed: gone');
  t.ok(w.has(firstListed - 10, 0), 'already removed counts as present for blocking requests');
});

t.test('endSegment(final) ends the window and releases waiters', async (t) => {
  const s = fakeStream();
  s.addParts(3);
  const p = s.window.waitFor(9, 0, 10_000);
  s.window.endSegment(true);
  t.equal(await p, 'ready');
  t.ok(s.window.ended);
  t.ok(s.window.segments.every((x) => x.complete));
});

t.test('carryOver: the open segment stays open through the old source\'s end until the new source\'s first part (another init)', async (t) => {
  const s = fakeStream({ partsPerSegment: 5 });
  s.addParts(7); // msn 1 whole, msn 2 open with parts 0..1
  const w = s.window;
  w.carryOver();
  const last = w.segments[1];
  w.addPart({ msn: 2, index: 2, durationMs: 200, independent: false, data: Buffer.from('flushed') }, { ...s.last!.facts });
  w.endSegment(false); // the old pipeline's flush said its segment ends here
  t.same([last.parts.length, last.complete], [3, false], 'the old source\'s last part joins; its segment end is not taken');
  w.addPart({ msn: 3, index: 0, durationMs: 200, independent: true, data: Buffer.from('new') },
    { ...s.last!.facts, initId: s.last!.facts.initId + 1, discontinuity: true });
  t.same(w.segments.map((x) => [x.msn, x.parts.length, x.complete]), [[1, 5, true], [2, 3, true], [3, 1, false]], 'the new source\'s first part closes it');
  w.endSegment(false);
  t.equal(w.segments[2].complete, true, 'carrying is over: a source\'s end closes its segment again');

  const t2 = fakeStream({ partsPerSegment: 5 });
  t2.addParts(3);
  t2.window.carryOver();
  t2.window.endSegment(false, true);
  t.equal(t2.window.segments[0].complete, true, 'a forced end (the session is over) closes a carried segment');
});

t.test('carryOver right after a segment closed: the old source\'s flushed part opens one more, which stays open until the new source', async (t) => {
  const s = fakeStream({ partsPerSegment: 5 });
  s.addParts(5);
  s.window.endSegment(false); // the cutter closed msn 1: the hint is (2, 0)
  s.window.carryOver();
  s.window.addPart({ msn: 2, index: 0, durationMs: 120, independent: true, data: Buffer.from('flushed') }, { ...s.last!.facts });
  s.window.endSegment(false);
  t.same(s.window.segments.map((x) => [x.msn, x.complete]), [[1, true], [2, false]], 'the flushed segment stays open');
  s.window.addPart({ msn: 3, index: 0, durationMs: 200, independent: true, data: Buffer.from('new') },
    { ...s.last!.facts, initId: s.last!.facts.initId + 1, discontinuity: true });
  t.same(s.window.segments.map((x) => [x.msn, x.complete]), [[1, true], [2, true], [3, false]]);
});

t.test('gap parts (no input on air): listed like parts, segments flagged gap and never pending the archive', async (t) => {
  const s = fakeStream({ partsPerSegment: 5, archived: true, hotMs: 1000, windowMs: 60_000, minSegments: 1 });
  s.addParts(5);
  const w = s.window;
  w.archived(1);
  const gapFacts = { initId: 1, discontinuity: false, programDateTimeMs: s.clock.now, startMs: 1000, gap: true };
  for (let msn = 2; msn <= 4; msn++) {
    for (let i = 0; i < 5; i++) {
      w.addPart({ msn, index: i, durationMs: 200, independent: true, data: Buffer.alloc(0), gap: true }, gapFacts);
    }
    w.endSegment(false);
  }
  t.same(w.segments.map((x) => [x.msn, !!x.gap, x.archive, x.complete]), [[1, false, 'stored', true], [2, true, 'stored', true], [3, true, 'stored', true], [4, true, 'stored', true]],
    'gap segments count as stored: nothing to write, and the DVR window is not cut at them');
  t.equal(w.segments[1].parts.length, 0, 'past the hot edge a gap segment keeps no parts, like any stored segment');
  t.equal(w.part(4, 2)?.gap, true, 'the hot edge\'s gap parts are there, marked');
  t.equal(w.part(4, 2)?.data.length, 0);
});
