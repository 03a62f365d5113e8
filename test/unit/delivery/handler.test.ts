import t from 'tap';
import { gunzipSync } from 'node:zlib';
import { OriginHandler } from '../../../src/delivery/handler.js';
import { silentLogger } from '../../../src/log.js';
import { fakeChannel, request, bodyText, TRACKS } from '../../helpers/fake-channel.js';
import { parseM3u8 } from '../../helpers/m3u8.js';
import type { OriginReply } from '../../../src/delivery/types.js';
import { ManualClock } from '../../helpers/manual-clock.js';
import { waitUntil } from '../../helpers/wait.js';

function setup(...args: Parameters<typeof fakeChannel>) {
  const f = fakeChannel(...args);
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 12, 0, 0, 400));
  const handler = new OriginHandler({ get: (id) => (id === 'test' ? f.channel : undefined) }, silentLogger(), undefined, clock.read);
  return { f, handler, clock, get: async (path: string, o?: Parameters<typeof request>[1]) => handler.handle(request(path, o)) };
}
const json = async (r: OriginReply) => JSON.parse(await bodyText(r.body));
const tick = () => new Promise((r) => setImmediate(r));

t.test('health, unknown channel, not live, unknown path, CORS, OPTIONS, bad method', async (t) => {
  const { get, handler } = setup();
  t.equal((await get('/healthz')).status, 200);
  const r = await get('/live/nope/index.m3u8');
  t.equal(r.status, 404);
  t.equal((await json(r)).error.code, 'CHANNEL_NOT_FOUND');
  t.equal(r.headers['access-control-allow-origin'], '*');
  t.match(r.headers['access-control-expose-headers'], /Age/);
  t.equal((await get('/nothing/here')).status, 404);
  const pre = await get('/live/test/index.m3u8', { method: 'OPTIONS' });
  t.equal(pre.status, 204);
  t.match(pre.headers['access-control-allow-headers'], /Range/);
  t.equal((await get('/live/test/index.m3u8', { method: 'POST' })).status, 405);
  const idle = new OriginHandler({ get: () => fakeChannel().channel }, silentLogger());
  void idle; void handler;
});

t.test('multivariant: exact CODECS, RESOLUTION, FRAME-RATE and measured BANDWIDTH once a segment exists', async (t) => {
  const { f, get } = setup();
  f.parts(10 + 3);
  const r = await get('/live/test/index.m3u8?token=xyz');
  t.equal(r.status, 200);
  t.equal(r.headers['content-type'], 'application/vnd.apple.mpegurl');
  const { manifest } = parseM3u8(await bodyText(r.body));
  const v = manifest.playlists[0];
  t.equal(v.attributes.CODECS, 'avc1.64001f,mp4a.40.2');
  t.same(v.attributes.RESOLUTION, { width: 1280, height: 720 });
  t.equal(v.attributes['FRAME-RATE'], 30);
  t.equal(v.attributes.BANDWIDTH, 100 * 10 * 8 / 2, 'peak = bytes × 8 / duration of the segment');
  t.equal(v.uri, 'source.m3u8?token=xyz');
});

t.test('media playlist: gzip, cache lifetimes, token carried, first offered once a segment is complete', async (t) => {
  const { f, get } = setup();
  f.parts(3);
  const early = get('/live/test/source.m3u8');
  let settled = false;
  void early.then(() => { settled = true; });
  await tick();
  t.notOk(settled, 'held until the first complete segment (hls.js needs one)');
  f.parts(8);
  const r0 = await early;
  t.equal(r0.status, 200);
  const r = await get('/live/test/source.m3u8?token=abc', { headers: { 'Accept-Encoding': 'gzip, br' } });
  t.equal(r.headers['content-encoding'], 'gzip');
  t.equal(r.headers.vary, 'Accept-Encoding');
  t.equal(r.headers['cache-control'], 'public, max-age=1', '0.5 × TD for a non-blocking playlist');
  const text = gunzipSync(r.body as Buffer).toString();
  t.match(text, /source\/init-\d+\.mp4\?token=abc/);
  t.notMatch(text, /_HLS_/);
});

t.test('blocking reload: held until the part exists, answered the moment it does', async (t) => {
  const { f, get } = setup();
  f.parts(12); // msn first: 10 parts, first+1: parts 0..1
  const msn = f.firstMsn + 1;
  const held = get(`/live/test/source.m3u8?_HLS_msn=${msn}&_HLS_part=4`);
  let reply: OriginReply | undefined;
  void held.then((r) => { reply = r; });
  f.part(); await tick();
  f.part(); await tick();
  t.notOk(reply, 'not answered before part 4 exists');
  const p4 = f.part();
  t.same([p4.msn, p4.index], [msn, 4]);
  await held;
  t.equal(reply!.status, 200);
  t.equal(reply!.headers['cache-control'], 'public, max-age=12', '6 × TD for a blocking response');
  const text = await bodyText(reply!.body);
  t.match(text, new RegExp(`source/${msn}\\.4\\.m4s`), 'the awaited part is listed');
  t.match(text, new RegExp(`PRELOAD-HINT:TYPE=PART,URI="source/${msn}\\.5\\.m4s"`), 'and the hint moved on');
});

t.test('blocking reload: target already present or removed ▶ immediate; _HLS_msn alone ▶ part 0', async (t) => {
  const { f, get } = setup();
  f.parts(25);
  t.equal((await get(`/live/test/source.m3u8?_HLS_msn=${f.firstMsn}&_HLS_part=2`)).status, 200);
  t.equal((await get(`/live/test/source.m3u8?_HLS_msn=1&_HLS_part=0`)).status, 200, 'long removed: immediate');
  const next = get(`/live/test/source.m3u8?_HLS_msn=${f.firstMsn + 3}`);
  let done = false; void next.then(() => { done = true; });
  for (let i = 0; i < 5; i++) { f.part(); await tick(); } // parts 5..9 of msn+2
  t.notOk(done);
  f.part(); // msn+3 part 0
  t.equal((await next).status, 200);
});

t.test('blocking reload: index past the final part of a segment waits for part 0 of the next (§6.2.5.2)', async (t) => {
  const { f, get } = setup();
  f.parts(15);
  const msn = f.firstMsn + 1;
  const held = get(`/live/test/source.m3u8?_HLS_msn=${msn}&_HLS_part=12`);
  let done = false; void held.then(() => { done = true; });
  for (let i = 0; i < 5; i++) { f.part(); await tick(); }
  t.notOk(done, 'segment closed at index 9 but part 0 of the next is not there yet');
  f.part();
  const text = await bodyText((await held).body);
  t.match(text, new RegExp(`source/${msn + 1}\\.0\\.m4s`));
});

t.test('blocking reload errors: 400 cases, 503 after 3 × TD', async (t) => {
  const { f, get } = setup('ultra-low', { segmentTargetSec: 1, partTargetSec: 0.2 });
  f.parts(12);
  const last = f.firstMsn + 2;
  const cases: [string, number, string][] = [
    ['_HLS_part=1', 400, 'PART_WITHOUT_MSN'],
    [`_HLS_msn=${last + 3}`, 400, 'MSN_TOO_FAR'],
    [`_HLS_msn=${last + 2}&_HLS_part=9`, 400, 'PART_TOO_FAR'],
    ['_HLS_msn=-1', 400, 'BAD_DIRECTIVE'],
    ['_HLS_msn=abc', 400, 'BAD_DIRECTIVE'],
    ['_HLS_msn=1&_HLS_skip=MAYBE', 400, 'BAD_DIRECTIVE'],
  ];
  for (const [q, status, code] of cases) {
    const r = await get(`/live/test/source.m3u8?${q}`);
    t.equal(r.status, status, q);
    t.equal((await json(r)).error.code, code, q);
  }
  const started = Date.now();
  const r = await get(`/live/test/source.m3u8?_HLS_msn=${last}&_HLS_part=5`);
  const waited = Date.now() - started;
  t.equal(r.status, 503);
  t.ok(waited >= 2900 && waited < 4500, `503 after 3 × TD (${waited} ms)`);
});

t.test('an aborted blocking request leaves no waiter behind', async (t) => {
  const { f, get } = setup();
  f.parts(12);
  const ac = new AbortController();
  const p = get(`/live/test/source.m3u8?_HLS_msn=${f.firstMsn + 1}&_HLS_part=5`, { signal: ac.signal });
  await tick();
  t.equal(f.channel.rendition()!.window.waiting, 1);
  ac.abort();
  await p;
  t.equal(f.channel.rendition()!.window.waiting, 0);
});

t.test('delta update with _HLS_skip=YES', async (t) => {
  const { f, get } = setup('ultra-low', { segmentTargetSec: 1, partTargetSec: 0.2 });
  f.parts(5 * 18 + 2);
  const text = await bodyText((await get('/live/test/source.m3u8?_HLS_skip=YES')).body);
  t.match(text, /#EXT-X-SKIP:SKIPPED-SEGMENTS=\d+/);
});

t.test('a gap (no input on air) never ends the playlist with a bare segment line: hls.js would take that segment as its hint too', async (t) => {
  // The gap opens a segment of its own, or goes on in the one the source left open (4 media parts).
  for (const openParts of [0, 4]) {
    await t.test(`${openParts} source parts in the open segment`, async (t) => {
      const { f, get } = setup();
      f.pub.write({ trackId: 0, dts: 0, pts: 0, keyframe: true, data: Buffer.alloc(1) }); // sets the wall clock of the timeline
      f.parts(10 * 7 + openParts);
      f.pub.startGap('test');
      await waitUntil(() => f.pub.advanceGap(0) !== undefined, 2000, 'the gap on air');
      const epochMs = f.pub.wallOffset!;
      const last = f.channel.rendition()!.window.segments.at(-1)!;
      const gapMsn = last.complete ? last.msn + 1 : last.msn;
      const lastLine = (text: string) => text.trimEnd().split('\n').at(-1)!;
      // The gap starts where the source's media ended; a gap part is released once the wall clock passes its end.
      const release = (gapParts: number) => f.pub.advanceGap(epochMs + (10 * 7 + openParts + gapParts) * 200);
      const toSegmentEnd = 10 - openParts;
      release(toSegmentEnd - 1);
      // What hls.js asks for next: the segment's last part, blocking, as a delta update.
      const held = get(`/live/test/source.m3u8?_HLS_msn=${gapMsn}&_HLS_part=9&_HLS_skip=YES`);
      await tick();
      release(toSegmentEnd);
      const atEnd = await bodyText((await held).body);
      if (openParts === 0) {
        t.match(lastLine(atEnd), new RegExp(`^#EXT-X-PART:DURATION=0\\.2,URI="source/${gapMsn}\\.9\\.m4s",INDEPENDENT=YES,GAP=YES$`),
          'answered at the gap segment\'s last part: it stays open, its parts end the playlist');
        t.notMatch(atEnd, /PRELOAD-HINT/, 'no hint after a gap segment');
      } else {
        t.match(lastLine(atEnd), new RegExp(`^#EXT-X-PRELOAD-HINT:TYPE=PART,URI="source/${gapMsn + 1}\\.0\\.m4s"$`),
          'the segment the source left open closes at its last part, as before: a hint follows it');
      }
      release(toSegmentEnd + 1);
      const next = await bodyText((await get(`/live/test/source.m3u8?_HLS_msn=${gapMsn + 1}&_HLS_part=0&_HLS_skip=YES`)).body);
      t.match(next, new RegExp(`#EXTINF:2\\.0,\\nsource/${gapMsn}\\.m4s\\n`), 'closed once the next gap part is there');
      t.match(lastLine(next), new RegExp(`source/${gapMsn + 1}\\.0\\.m4s",INDEPENDENT=YES,GAP=YES$`));
      for (let n = toSegmentEnd + 2; n <= toSegmentEnd + 21; n++) {
        release(n);
        const text = await bodyText((await get('/live/test/source.m3u8?_HLS_skip=YES')).body);
        t.ok(/^#EXT-X-PART:.*GAP=YES$/.test(lastLine(text)) && !/PRELOAD-HINT/.test(text), `${n} gap parts: a gap part line last, no hint`);
      }
      await f.channel.close();
    });
  }
});

t.test('parts: existing ▶ 200; hinted ▶ held then sent whole; beyond the hint ▶ 404', async (t) => {
  const { f, get } = setup();
  const [p0] = f.parts(12);
  const r = await get(`/live/test/source/${p0.msn}.${p0.index}.m4s`);
  t.equal(r.status, 200);
  t.equal(r.headers['content-type'], 'video/iso.segment');
  t.match(r.headers['cache-control'], /immutable/);
  t.same(r.body, p0.data);
  const msn = f.firstMsn + 1;
  const hinted = get(`/live/test/source/${msn}.2.m4s`);
  t.equal((await get(`/live/test/source/${msn}.3.m4s`)).status, 404, 'not hinted');
  const p2 = f.part();
  const hr = await hinted;
  t.equal(hr.status, 200);
  t.same(hr.body, p2.data);
  f.parts(7); // msn now holds parts 0..9: the next part opens msn+1
  const atBoundary = get(`/live/test/source/${msn + 1}.0.m4s`);
  const first = f.part();
  t.same([first.msn, first.index], [msn + 1, 0]);
  const br = await atBoundary;
  t.equal(br.status, 200, 'part 0 of the next MSN is the hinted part at a segment boundary');
  t.same(br.body, first.data);
});

t.test('another source on air: the open segment carries over, so no hint names the new source\'s first part under the old init', async (t) => {
  const { f, get } = setup();
  f.parts(10); // a whole segment: the playlist is offered
  let last = f.part();
  while (last.index !== 4) last = f.part(); // the next open with parts 0..4: the hint is part 5
  const msn = last.msn;
  const held = get(`/live/test/source/${msn}.5.m4s`);
  await new Promise((r) => setImmediate(r));
  // Another input goes on air (a backup, the slate): the pipeline restarts on another init.
  f.pub.switchSource(TRACKS.map((tr) => ({ ...tr, codecConfig: Buffer.from([...tr.codecConfig, 1]) })), 'test switch');
  await new Promise((r) => setTimeout(r, 10));
  const during = await bodyText((await get('/live/test/source.m3u8')).body);
  t.match(during, new RegExp(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="source/${msn}\\.5\\.m4s"`), 'while the new source starts, the hint stays on the open segment');
  f.init(Buffer.from('INIT-2'));
  const p0 = f.part();
  t.same([p0.msn, p0.index], [msn + 1, 0], 'the new source starts the next segment');
  t.equal((await held).status, 404, 'the hinted part of the old source is abandoned (PHS-04)');
  const after = await bodyText((await get('/live/test/source.m3u8')).body);
  t.match(after, new RegExp(`#EXTINF:1\\.0,\\nsource/${msn}\\.m4s\\n#EXT-X-DISCONTINUITY\\n#EXT-X-MAP:URI="source/init-\\d+\\.mp4"\\n`),
    'the carried segment closes with its five parts; the new one follows a discontinuity and its init');
  t.match(after, new RegExp(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="source/${msn + 1}\\.1\\.m4s"`));
  const first = await get(`/live/test/source/${msn + 1}.0.m4s`);
  t.equal(first.status, 200);
  t.same(first.body, p0.data);
});

t.test('segments: complete ▶ its parts back to back; open ▶ streamed part by part; ranges; HEAD', async (t) => {
  const { f, get } = setup();
  const first = f.parts(10);
  f.parts(2);
  const whole = await get(`/live/test/source/${f.firstMsn}.m4s`);
  t.equal(whole.status, 200);
  t.equal(await bodyText(whole.body), Buffer.concat(first.map((p) => p.data)).toString());
  const ranged = await get(`/live/test/source/${f.firstMsn}.m4s`, { headers: { range: 'bytes=150-249' } });
  t.equal(ranged.status, 206);
  t.equal(ranged.headers['content-range'], 'bytes 150-249/1000');
  t.equal((await bodyText(ranged.body)).length, 100);
  t.equal((await get(`/live/test/source/${f.firstMsn}.m4s`, { headers: { range: 'bytes=5000-' } })).status, 416);
  const head = await get(`/live/test/source/${f.firstMsn}.m4s`, { method: 'HEAD' });
  t.equal(head.headers['content-length'], '1000');
  t.equal(head.body, undefined);

  const open = await get(`/live/test/source/${f.firstMsn + 1}.m4s`);
  t.equal(open.status, 200);
  const it = (open.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  t.match((await it.next()).value.toString(), /^\d+\.0\|/, 'part 0 at once');
  t.match((await it.next()).value.toString(), /^\d+\.1\|/);
  const pending = it.next();
  const p2 = f.part();
  t.same((await pending).value, p2.data, 'part 2 as soon as it is complete');
  const rest = (async () => { let n = 0; for (;;) { const x = await it.next(); if (x.done) return n; n++; } })();
  f.parts(8); // completes the segment (parts 3..9) and opens the next
  t.equal(await rest, 7, 'stream ends when the segment closes');
  t.equal((await get(`/live/test/source/${f.firstMsn + 5}.m4s`)).status, 404);
});

t.test('reconnect continues MSNs with a discontinuity; the end brings ENDLIST', async (t) => {
  const { f, get } = setup();
  f.parts(25);
  await f.pub.finish('test');
  const ch = f.channel;
  const lastMsn = ch.rendition()!.window.segments.at(-1)!.msn;
  let emit: any;
  (ch as any).opts.createPipeline = (opts: any, onChunk: any) => { emit = { onChunk, first: opts.firstMsn }; return { write: () => true, close: async () => {} }; };
  const pub2 = ch.startPublication('127.0.0.1');
  pub2.setTracks((f.channel.rendition()!.tracks));
  t.equal(emit.first, lastMsn + 1, 'MSNs continue one by one in a continuing playlist');
  emit.onChunk({ kind: 'init', data: Buffer.from('INIT2') });
  for (let i = 0; i < 11; i++) emit.onChunk({ kind: 'part', msn: emit.first + Math.floor(i / 10), partIndex: i % 10, independent: i % 10 === 0, segmentStart: i % 10 === 0, startMs: i * 200, durationMs: 200, data: Buffer.alloc(10) });
  const text = await bodyText((await get('/live/test/source.m3u8')).body);
  t.match(text, /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="source\/init-\d+\.mp4"/);
  await pub2.finish('bye');
  await new Promise((r) => setTimeout(r, 120)); // reconnect window (50 ms in this fixture)
  const ended = await bodyText((await get('/live/test/source.m3u8')).body);
  t.match(ended, /#EXT-X-ENDLIST/);
  await new Promise((r) => setTimeout(r, 150)); // ended retention
  t.equal((await get('/live/test/source.m3u8')).status, 404);
});

t.test('Date and Expires from the handler\'s clock: Expires = Date + max-age where a lifetime is planned (§6.2.2, AV-06)', async (t) => {
  const { f, get } = setup();
  f.parts(12); // msn first complete, first+1 open with parts 0..1
  const msn = f.firstMsn;
  const lifetime = (r: OriginReply) => (r.headers.expires === undefined ? undefined : (Date.parse(r.headers.expires) - Date.parse(r.headers.date)) / 1000);
  const cases: [string, string, number | undefined][] = [
    ['multivariant playlist', '/live/test/index.m3u8', 2],
    ['media playlist', '/live/test/source.m3u8', 1],
    ['blocking playlist (target present)', `/live/test/source.m3u8?_HLS_msn=${msn}&_HLS_part=0`, 12],
    ['init segment', `/live/test/source/init-${f.channel.rendition()!.window.segments[0].initId}.mp4`, 31_536_000],
    ['part', `/live/test/source/${msn}.3.m4s`, 31_536_000],
    ['segment', `/live/test/source/${msn}.m4s`, 31_536_000],
    ['segment in progress (no-store)', `/live/test/source/${msn + 1}.m4s`, undefined],
    ['part beyond the hint (404, 1 × TD)', `/live/test/source/${msn + 1}.5.m4s`, 2],
    ['health (no-store)', '/healthz', undefined],
  ];
  for (const [what, path, expected] of cases) {
    const r = await get(path);
    t.equal(r.headers.date, 'Wed, 25 Nov 2026 12:00:00 GMT', `${what}: Date is the handler's clock`);
    t.equal(lifetime(r), expected, `${what}: ${expected === undefined ? 'no Expires' : `Expires = Date + ${expected} s`}`);
    if (expected !== undefined) t.match(r.headers['cache-control'], `max-age=${expected}`, `${what}: as Cache-Control says`);
    if (r.body && typeof (r.body as AsyncIterable<Buffer>)[Symbol.asyncIterator] === 'function') {
      void (r.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]().return?.();
    }
  }
});

t.test('player: /player/sigma-beacon.js, and the page posts beacons where the origin says (none before)', async (t) => {
  const { get, handler } = setup();
  const js = await get('/player/sigma-beacon.js');
  t.equal(js.status, 200);
  t.match(js.headers['content-type'], /^text\/javascript/);
  t.match(await bodyText(js.body), /^\/\*[^]*\nvar sigmaBeacon = function sigmaBeacon\(hls, options\)/, 'defines sigmaBeacon');
  t.notMatch(await bodyText(js.body), /\?\.|\?\?/, 'ES2017: no optional chaining or nullish coalescing');

  t.match(await bodyText((await get('/player/test')).body), /var beacons = null;/, 'no API yet: no beacons');
  handler.useBeaconTarget({ port: 8081 });
  const own = await bodyText((await get('/player/test')).body);
  t.match(own, '<script src="/player/sigma-beacon.js"></script>');
  t.match(own, "sigmaBeacon(hls, { url: location.protocol + '//' + location.hostname + ':' + 8081 + '/v1/beacon' })");
  handler.useBeaconTarget({ url: 'https://cdn.example/v1/beacon' });
  t.match(await bodyText((await get('/player/test')).body), 'sigmaBeacon(hls, { url: "https://cdn.example/v1/beacon" })');
});
