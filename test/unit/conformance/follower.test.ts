import t from 'tap';
import { followMediaPlaylist, followMultivariant } from '../../helpers/conformance/follower.js';
import { formatViolations } from '../../helpers/conformance/report.js';
import { SyntheticOrigin } from './synthetic-stream.js';

/** The follower asks what hls.js asks, counts its reloads, and reports nothing on a conforming stream. */

t.test('blocking requests for the next part, _HLS_skip on every other reload, directives in §6.3.2 order', async (t) => {
  const origin = new SyntheticOrigin();
  const base = await origin.start();
  t.teardown(() => origin.close());
  const r = await followMultivariant(`${base}/index.m3u8`, { reloads: 10, maxPollIntervalMs: 10, compareSegments: 1 });
  t.equal(r.total, 0, formatViolations(r.groups));
  t.same([...r.playlists.values()].map((p) => p.responses), [11, 11, 11], 'multivariant, a and b: the first load and 10 reloads each');
  t.same([...r.playlists.values()].map((p) => p.blocking), [0, 10, 10], 'the media playlists reload blocking');
  t.ok([...r.playlists.values()].every((p, i) => i === 0 || p.deltaUpdates > 0), 'delta updates were checked');
  const a = origin.requests.filter((q) => q.startsWith('/a.m3u8'));
  t.equal(a[0], '/a.m3u8', 'the first load is plain');
  // 26 parts produced at the start: 6 complete segments (100-105) and part 106.1 the newest.
  t.equal(a[1], '/a.m3u8?_HLS_msn=106&_HLS_part=2&_HLS_skip=YES');
  t.ok(a.slice(1).every((q) => /^\/a\.m3u8\?_HLS_msn=\d+&_HLS_part=\d+(&_HLS_skip=YES)?$/.test(q)), 'every reload blocks on a part');
  t.equal(a.slice(1).filter((q) => q.endsWith('_HLS_skip=YES')).length, 5, 'half of them ask for a delta update');
  t.ok(origin.requests.some((q) => /^\/v\/\d+\.\d+\.m4s$/.test(q)), 'parts are fetched');
});

t.test('a playlist followed on its own (catchup): plain reloads when it has ENDLIST', async (t) => {
  const origin = new SyntheticOrigin({}, true);
  const base = await origin.start();
  t.teardown(() => origin.close());
  const r = await followMediaPlaylist(`${base}/a.m3u8`, { reloads: 10, maxPollIntervalMs: 10 });
  t.equal(r.total, 0, formatViolations(r.groups));
  t.same([...r.playlists.values()].map((p) => [p.responses, p.blocking]), [[11, 0]]);
  t.same(new Set(origin.requests.filter((q) => q.startsWith('/a.m3u8'))), new Set(['/a.m3u8']), 'no directives');
});

t.test('a failed blocking request is followed by a plain one, as hls.js retries', async (t) => {
  const origin = new SyntheticOrigin({ refuseBlocking: true });
  const base = await origin.start();
  t.teardown(() => origin.close());
  const r = await followMediaPlaylist(`${base}/a.m3u8`, { reloads: 3, maxPollIntervalMs: 10, retryDelayMs: 1, checkResources: false });
  t.same(r.groups.map((g) => g.rule), ['HJ-15']);
  const a = origin.requests.filter((q) => q.startsWith('/a.m3u8'));
  t.same(a.slice(0, 4).map((q) => q.includes('_HLS_part')), [false, true, false, true]);
});
