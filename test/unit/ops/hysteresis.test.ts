import t from 'tap';
import { Hysteresis } from '../../../src/ops/alerts/hysteresis.js';

/** Observes `key` every second from `from` to `to` (inclusive) with the same condition; the transitions with their times. */
function run(h: Hysteresis, breached: (s: number) => boolean, from: number, to: number, forMs: number, clearMs: number) {
  const out: [number, string][] = [];
  for (let s = from; s <= to; s++) {
    const tr = h.observe('stalled|news', breached(s), s * 1000, forMs, clearMs);
    if (tr) out.push([s, tr]);
  }
  return out;
}

t.test('raised once the condition held forSec, cleared once it was gone clearSec; one raise while it holds', async (t) => {
  const h = new Hysteresis();
  t.same(run(h, (s) => s >= 3 && s < 20, 0, 40, 5000, 4000), [[8, 'raise'], [24, 'clear']],
    'holds from 3 s: raised at 8 s, not again until it cleared; gone from 20 s: cleared at 24 s');
  t.notOk(h.isRaised('stalled|news'));
  t.same(h.raisedKeys(), []);
});

t.test('flapping inside forSec never raises; inside clearSec never clears', async (t) => {
  const h = new Hysteresis();
  t.same(run(h, (s) => s % 4 !== 3, 0, 30, 5000, 0), [], 'breaks every 4 s, so it never holds 5 s');
  t.same(run(h, () => true, 31, 31, 0, 3000), [[31, 'raise']], 'forSec 0: raised at the first observation');
  t.same(run(h, (s) => s % 3 === 0, 32, 60, 0, 3000), [], 'back every 3 s: never gone for 3 s');
  t.ok(h.isRaised('stalled|news'));
  t.same(run(h, () => false, 61, 70, 0, 3000), [[64, 'clear']]);
});

t.test('keys are independent; an adopted key clears like a raised one', async (t) => {
  const h = new Hysteresis();
  h.adopt('drift|a');
  t.equal(h.observe('drift|b', true, 0, 0, 0), 'raise');
  t.equal(h.observe('drift|a', false, 0, 0, 2000), null);
  t.same(h.raisedKeys().sort(), ['drift|a', 'drift|b']);
  t.equal(h.observe('drift|a', false, 2000, 0, 2000), 'clear');
  t.same(h.raisedKeys(), ['drift|b']);
  h.forget('drift|b');
  t.same(h.raisedKeys(), []);
});
