import t from 'tap';
import http2 from 'node:http2';
import { startOrigin, waitUntil } from '../helpers/origin.js';
import { startPublisher, stopPublisher } from '../helpers/ffmpeg.js';
import { parseM3u8 } from '../helpers/m3u8.js';
import { parseCmaf } from '../helpers/cmaf.js';

/**
 * The whole live path with real parts: ffmpeg publishes a test pattern over RTMP, the native
 * addon cuts CMAF, the origin serves LL-HLS over uWebSockets.js and HTTP/2 (h2c).
 */
t.test('ffmpeg ▶ RTMP ▶ native CMAF ▶ LL-HLS', async (t) => {
  const o = await startOrigin({
    channels: [
      { id: 'demo', streamKey: 'demo-key-123', latencyMode: 'ultra-low' },
      { id: 'calm', streamKey: 'calm-key-123', latencyMode: 'normal' },
    ],
  });
  t.teardown(() => o.close());
  const pub = startPublisher(o.rtmp('demo-key-123'), { fps: 30, gop: 30, audio: true });
  t.teardown(() => stopPublisher(pub));

  const mvText = await waitUntil(async () => {
    const r = await fetch(`${o.http}/live/demo/index.m3u8`);
    return r.status === 200 ? r.text() : undefined;
  }, 20_000, 'the multivariant playlist');

  await t.test('multivariant playlist: codecs, resolution, frame rate, bandwidth', async (t) => {
    const v = parseM3u8(mvText).manifest.playlists[0];
    t.match(v.attributes.CODECS, /^avc1\.64[0-9a-f]{4},mp4a\.40\.2$/);
    t.same(v.attributes.RESOLUTION, { width: 640, height: 360 });
    t.equal(v.attributes['FRAME-RATE'], 30);
    t.ok(v.attributes.BANDWIDTH > 100_000 && v.attributes.BANDWIDTH < 5_000_000, `BANDWIDTH ${v.attributes.BANDWIDTH}`);
    t.ok(v.attributes['AVERAGE-BANDWIDTH'] <= v.attributes.BANDWIDTH);
  });

  // Let a few segments accumulate.
  await new Promise((r) => setTimeout(r, 5000));
  const text = await (await fetch(`${o.http}/live/demo/source.m3u8`)).text();
  const { manifest, warnings } = parseM3u8(text);

  await t.test('media playlist follows LL-HLS rules', async (t) => {
    t.same(warnings, []);
    t.ok(manifest.mediaSequence >= 1, 'MSN starts at 1 or above');
    const partTarget = manifest.partInf.partTarget;
    t.ok(partTarget >= 0.2 && partTarget <= 0.34, `PART-TARGET ${partTarget}`);
    t.ok(manifest.serverControl.partHoldBack >= 3 * partTarget);
    const allParts = [...manifest.segments.flatMap((s: any) => s.parts ?? []), ...(manifest.preloadSegment?.parts ?? [])];
    t.ok(allParts.length > 5, `${allParts.length} parts listed`);
    for (const p of allParts) t.ok(p.duration <= partTarget, `part ${p.uri} ${p.duration} ≤ ${partTarget}`);
    for (const s of manifest.segments) {
      t.ok(s.duration <= manifest.targetDuration + 0.5, `EXTINF ${s.duration} within TD`);
      t.ok(s.dateTimeString, 'PROGRAM-DATE-TIME');
      if (s.parts?.length) t.equal(s.parts[0].independent, true, 'first part of a segment is INDEPENDENT');
    }
    t.equal(manifest.preloadSegment.preloadHints[0].type, 'PART');
  });

  await t.test('CMAF parsed back with mp4box: tfdt continuity, segments start with a keyframe, parts ≤ PART-TARGET', async (t) => {
    const seg = manifest.segments[manifest.segments.length - 2];
    const base = `${o.http}/live/demo/`;
    const init = Buffer.from(await (await fetch(base + seg.map.uri)).arrayBuffer());
    const whole = Buffer.from(await (await fetch(base + seg.uri)).arrayBuffer());
    const parts: Buffer[] = [];
    for (const p of seg.parts) parts.push(Buffer.from(await (await fetch(base + p.uri)).arrayBuffer()));
    t.same(Buffer.concat(parts), whole, 'a segment is exactly its parts');
    const cmaf = parseCmaf(init, parts);
    t.ok(cmaf.hasMvex);
    const videoId = [...cmaf.tracks].find(([, v]) => v.kind === 'vide')![0];
    const video = cmaf.parts.map((runs) => runs.find((r) => r.trackId === videoId)!);
    t.ok(video[0].firstIsSync, 'segment starts with a keyframe');
    const timescale = cmaf.tracks.get(videoId)!.timescale;
    for (let i = 1; i < video.length; i++) {
      const prev = video[i - 1];
      t.equal(video[i].tfdt, prev.tfdt + prev.durations.reduce((a, b) => a + b, 0), `tfdt continuity at part ${i}`);
    }
    for (const run of video) {
      const d = run.durations.reduce((a, b) => a + b, 0) / timescale;
      t.ok(d <= manifest.partInf.partTarget, `part duration ${d.toFixed(3)} ≤ PART-TARGET`);
    }
  });

  await t.test('blocking reload answers when the next part appears', async (t) => {
    const last = manifest.preloadSegment;
    const msn = manifest.mediaSequence + manifest.segments.length;
    const next = (last?.parts?.length ?? 0) + 2;
    const started = Date.now();
    const r = await fetch(`${o.http}/live/demo/source.m3u8?_HLS_msn=${msn}&_HLS_part=${next}`);
    const waited = Date.now() - started;
    t.equal(r.status, 200);
    t.ok(waited < 3000, `answered after ${waited} ms`);
    const fresh = parseM3u8(await r.text()).manifest;
    const have = fresh.mediaSequence + fresh.segments.length;
    t.ok(have > msn || (fresh.preloadSegment?.parts?.length ?? 0) > next || have === msn + 1, 'the awaited part is in the answer');
  });

  await t.test('the segment in progress streams part by part over uWS (chunked), also from an open-ended range', async (t) => {
    const m = parseM3u8(await (await fetch(`${o.http}/live/demo/source.m3u8`)).text()).manifest;
    const openMsn = m.mediaSequence + m.segments.length;
    const url = `${o.http}/live/demo/source/${openMsn}.m4s`;
    const [whole, ranged] = await Promise.all([fetch(url), fetch(url, { headers: { range: 'bytes=100-' } })]);
    t.equal(whole.status, 200);
    t.equal(whole.headers.get('transfer-encoding'), 'chunked', 'no length known up front');
    t.equal(ranged.status, 206);
    t.match(ranged.headers.get('content-range'), /^bytes 100-9007199254740991\/\*$/);
    const [a, b] = await Promise.all([whole.arrayBuffer(), ranged.arrayBuffer()]);
    const done = Buffer.from(await (await fetch(url)).arrayBuffer());
    t.ok(done.length > 10_000, `complete segment ${done.length} bytes`);
    t.same(Buffer.from(a), done, 'the streamed segment equals the finished one');
    t.same(Buffer.from(b), done.subarray(100), 'the ranged stream is its tail');
  });

  await t.test('the same routes over HTTP/2 cleartext (h2c)', async (t) => {
    const client = http2.connect(`http://127.0.0.1:${o.ports.h2c}`);
    t.teardown(() => client.close());
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = client.request({ ':path': '/live/demo/source.m3u8' });
      let body = '';
      let status = 0;
      req.on('response', (h) => { status = Number(h[':status']); });
      req.setEncoding('utf8');
      req.on('data', (d) => { body += d; });
      req.on('end', () => resolve({ status, body }));
      req.on('error', reject);
    });
    t.equal(status, 200);
    t.match(body, /#EXT-X-PART-INF/);
  });

  await t.test('a second publisher on a live key and an unknown key are refused; the first keeps going', async (t) => {
    const second = startPublisher(o.rtmp('demo-key-123'), { durationSec: 5 });
    const unknown = startPublisher(o.rtmp('no-such-key-1'), { durationSec: 5 });
    const [c2, c3] = await Promise.all([new Promise((r) => second.on('exit', r)), new Promise((r) => unknown.on('exit', r))]);
    t.not(c2, 0, 'second publisher refused');
    t.not(c3, 0, 'unknown key refused');
    t.equal(pub.exitCode, null, 'first publisher still running');
    const before = parseM3u8(await (await fetch(`${o.http}/live/demo/source.m3u8`)).text()).manifest;
    await new Promise((r) => setTimeout(r, 1500));
    const after = parseM3u8(await (await fetch(`${o.http}/live/demo/source.m3u8`)).text()).manifest;
    const hint = (m: any) => m.preloadSegment.preloadHints[0].uri;
    t.not(hint(after), hint(before), 'the stream advanced');
  });

  await t.test('a channel nobody publishes to answers 404; unpublish ends the playlist after the reconnect window', async (t) => {
    const r = await fetch(`${o.http}/live/calm/index.m3u8`);
    t.equal(r.status, 404);
    t.equal((await r.json()).error.code, 'CHANNEL_NOT_LIVE');
    await stopPublisher(pub);
    const ended = await waitUntil(async () => {
      const text = await (await fetch(`${o.http}/live/demo/source.m3u8`)).text();
      return text.includes('#EXT-X-ENDLIST') ? text : undefined;
    }, 10_000, 'ENDLIST');
    t.notMatch(ended, /PRELOAD-HINT/);
  });
});
