/**
 * Cache lifetimes as headers: which Cache-Control values plan a lifetime, and Date / Expires
 * from the injected clock (Expires = Date + max-age, whole seconds), formatted at most once a
 * second per lifetime.
 */
import t from 'tap';
import { cachePolicy, HttpDates, plannedMaxAge } from '../../../src/delivery/cache-policy.js';
import { ManualClock } from '../../helpers/manual-clock.js';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

t.test('plannedMaxAge: max-age when a lifetime is planned, none for no-store / no-cache', async (t) => {
  t.equal(plannedMaxAge(cachePolicy.playlist(2)), 1);
  t.equal(plannedMaxAge(cachePolicy.blockingPlaylist(2)), 12);
  t.equal(plannedMaxAge(cachePolicy.immutableMedia), 31_536_000);
  t.equal(plannedMaxAge(cachePolicy.multivariant), 2);
  t.equal(plannedMaxAge(cachePolicy.noStore), undefined);
  t.equal(plannedMaxAge('no-cache'), undefined);
  t.equal(plannedMaxAge('no-cache, max-age=5'), undefined, 'revalidated on every use: nothing to expire');
  t.equal(plannedMaxAge('public'), undefined);
  t.equal(plannedMaxAge('public, s-maxage=9, max-age=3'), 3, 's-maxage is not max-age');
  t.equal(plannedMaxAge('Max-Age=7'), 7, 'directive names are case-insensitive');
});

t.test('HttpDates: Date from the clock, Expires = Date + max-age, none without a planned lifetime', async (t) => {
  const clock = new ManualClock(T0 + 250);
  const dates = new HttpDates(clock.read);
  const stamped = (cacheControl?: string) => {
    const h: Record<string, string> = cacheControl === undefined ? {} : { 'cache-control': cacheControl };
    dates.stamp(h);
    return h;
  };
  t.same(stamped(cachePolicy.playlist(2)), { 'cache-control': 'public, max-age=1', date: 'Wed, 25 Nov 2026 12:00:00 GMT', expires: 'Wed, 25 Nov 2026 12:00:01 GMT' },
    'a playlist: its short lifetime');
  t.equal(stamped(cachePolicy.blockingPlaylist(2)).expires, 'Wed, 25 Nov 2026 12:00:12 GMT', 'a blocking playlist: 6 × TD');
  t.equal(stamped(cachePolicy.immutableMedia).expires, 'Thu, 25 Nov 2027 12:00:00 GMT', 'media, parts and init segments: a year');
  t.same(stamped(cachePolicy.noStore), { 'cache-control': 'no-store', date: 'Wed, 25 Nov 2026 12:00:00 GMT' }, 'no-store: Date only');
  t.same(stamped(), { date: 'Wed, 25 Nov 2026 12:00:00 GMT' }, 'no Cache-Control: Date only');
  clock.advance(749);
  t.equal(stamped(cachePolicy.playlist(2)).date, 'Wed, 25 Nov 2026 12:00:00 GMT', 'the same second until it ends (HTTP-dates are whole seconds)');
  clock.advance(1);
  t.same(stamped(cachePolicy.playlist(2)), { 'cache-control': 'public, max-age=1', date: 'Wed, 25 Nov 2026 12:00:01 GMT', expires: 'Wed, 25 Nov 2026 12:00:02 GMT' },
    'the next second');
  clock.advance(-5000);
  t.equal(stamped(cachePolicy.playlist(2)).date, 'Wed, 25 Nov 2026 11:59:56 GMT', 'a clock stepped back is followed');
});

t.test('HttpDates: each HTTP-date is formatted at most once per second, whatever the request rate', async (t) => {
  const clock = new ManualClock(T0);
  const dates = new HttpDates(clock.read);
  const toUTCString = Date.prototype.toUTCString;
  let formatted = 0;
  Date.prototype.toUTCString = function (this: Date) { formatted++; return toUTCString.call(this); };
  t.teardown(() => { Date.prototype.toUTCString = toUTCString; });
  const lifetimes = [cachePolicy.playlist(2), cachePolicy.blockingPlaylist(2), cachePolicy.immutableMedia, cachePolicy.noStore];
  for (let i = 0; i < 10_000; i++) {
    dates.stamp({ 'cache-control': lifetimes[i % lifetimes.length] });
    clock.advance(0.09); // 10 000 replies within 900 ms
  }
  t.equal(formatted, 1 + 3, 'one Date and one Expires per lifetime in that second');
  clock.advance(100);
  dates.stamp({ 'cache-control': cachePolicy.immutableMedia });
  t.equal(formatted, 4 + 2, 'a new second: Date and that Expires again');
});
