import t from 'tap';
import { fmtSec, isoTime } from '../../../src/packager/hls/media-playlist.js';

t.test('isoTime matches Date.toISOString, across hours, days, years and fractional milliseconds', async (t) => {
  const cases = [0, 1, 999, 3_599_999, 3_600_000, Date.UTC(2026, 11, 31, 23, 59, 59, 999), Date.UTC(2027, 0, 1), 1795631645656.5];
  for (let i = 0; i < 2000; i++) cases.push(1.7e12 + Math.floor(i * 7_919_311.7));
  let bad = 0;
  for (const ms of cases) if (isoTime(ms) !== new Date(ms).toISOString()) bad++;
  t.equal(bad, 0, `${cases.length} times`);
});

t.test('fmtSec keeps the last answer but never serves it for another value', async (t) => {
  t.same([2000, 2000, 1999.9, 2000, 33.333, 0].map(fmtSec), ['2.0', '2.0', '1.9999', '2.0', '0.03333', '0.0']);
});
