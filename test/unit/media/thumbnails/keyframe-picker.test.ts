import t from 'tap';
import { KeyframePicker } from '../../../../src/media/thumbnails/keyframe-picker.js';

/** Which keyframe times a picker takes, given keyframes at `times`. */
function picks(intervalMs: number, times: number[]): number[] {
  const p = new KeyframePicker(intervalMs);
  return times.filter((x) => (p.due(x) ? (p.taken(x), true) : false));
}

t.test('keyframes are taken at most every interval, with slack for timestamp jitter', async (t) => {
  const cases: Array<[string, number, number[], number[]]> = [
    ['1 s GOP, 2 s interval: every other keyframe', 2000, [0, 1000, 2000, 3000, 4000], [0, 2000, 4000]],
    ['2 s GOP, 2 s interval, keyframes 1 ms early: all taken', 2000, [0, 1999, 3999, 5998], [0, 1999, 3999, 5998]],
    ['2 s GOP, 10 s interval', 10_000, [0, 2000, 4000, 6000, 8000, 10_000, 12_000, 20_000], [0, 10_000, 20_000]],
    ['1.5 s GOP, 2 s interval: next keyframe after the interval', 2000, [0, 1500, 3000, 4500, 6000], [0, 3000, 6000]],
    ['clock went back: start over', 2000, [10_000, 11_000, 3000, 4000, 5000], [10_000, 3000, 5000]],
  ];
  for (const [name, interval, times, want] of cases) t.same(picks(interval, times), want, name);
});

t.test('reset: the next keyframe is due', async (t) => {
  const p = new KeyframePicker(10_000);
  p.taken(0);
  t.notOk(p.due(1000));
  p.reset();
  t.ok(p.due(1000));
});
