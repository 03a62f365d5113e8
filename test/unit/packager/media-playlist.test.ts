import t from 'tap';
import { renderMediaPlaylist, type MediaPlaylistConfig, reportFor } from '../../../src/packager/hls/media-playlist.js';
import { renderMultivariantPlaylist } from '../../../src/packager/hls/multivariant-playlist.js';
import { fakeStream } from '../../helpers/window.js';
import { parseM3u8 } from '../../helpers/m3u8.js';
import { matchesGolden as golden } from '../../helpers/golden.js';

const llConfig: MediaPlaylistConfig = {
  targetDurationSec: 2, partTargetSec: 0.21, partHoldBackSec: 0.63, holdBackSec: 6, canSkipUntilSec: 12,
  initUri: (id) => `source/init-${id}.mp4`, segmentUri: (m) => `source/${m}.m4s`, partUri: (m, i) => `source/${m}.${i}.m4s`,
};
const normalConfig: MediaPlaylistConfig = { ...llConfig, targetDurationSec: 6, partTargetSec: undefined, partHoldBackSec: undefined, holdBackSec: 18, canSkipUntilSec: 36 };

function llStream(parts: number) {
  const s = fakeStream({ partsPerSegment: 10, partMs: 200, windowMs: 20_000, minSegments: 6 });
  s.addParts(parts);
  return s;
}

t.test('LL-HLS playlist: tags, order and values (golden), parsed back by m3u8-parser', async (t) => {
  const s = llStream(10 * 4 + 3);
  const text = renderMediaPlaylist({ segments: s.window.segments, discontinuitySequence: 0, ended: false,
    renditionReports: [{ uri: 'low.m3u8', lastMsn: 5, lastPart: 2 }] }, llConfig, { skip: 'NO', querySuffix: '?token=abc' });
  golden(t, 'll-live.m3u8', text);
  const { manifest, warnings } = parseM3u8(text);
  t.same(warnings, []);
  t.equal(manifest.mediaSequence, 1);
  t.equal(manifest.targetDuration, 2);
  t.equal(manifest.segments.length, 4);
  t.equal(manifest.partInf.partTarget, 0.21);
  t.equal(manifest.serverControl.canBlockReload, true);
  t.equal(manifest.serverControl.partHoldBack, 0.63);
  t.ok(manifest.serverControl.partHoldBack >= 3 * manifest.partInf.partTarget, 'PART-HOLD-BACK ≥ 3 × PART-TARGET (AAS 14.3)');
  t.ok(manifest.serverControl.holdBack >= 3 * manifest.targetDuration, 'HOLD-BACK ≥ 3 × TD');
  t.ok(manifest.serverControl.canSkipUntil >= 6 * manifest.targetDuration, 'CAN-SKIP-UNTIL ≥ 6 × TD');
  t.equal(manifest.preloadSegment.preloadHints[0].type, 'PART');
  t.equal(manifest.preloadSegment.preloadHints[0].uri, 'source/5.3.m4s?token=abc');
  t.equal(manifest.renditionReports[0].lastMsn, 5);
  for (const seg of manifest.segments) {
    t.ok(seg.dateTimeString, 'PROGRAM-DATE-TIME on every segment');
    t.match(seg.uri, /\?token=abc$/, 'token carried on segment URIs');
    t.equal(seg.map.uri, 'source/init-1.mp4?token=abc');
    for (const p of seg.parts ?? []) t.ok(p.duration <= 0.21, 'part DURATION ≤ PART-TARGET');
  }
  t.equal(manifest.preloadSegment.parts.length, 3, 'open segment lists its 3 parts');
  t.equal(manifest.preloadSegment.parts[0].independent, true);
});

t.test('the preload hint names the part published next: the open segment\'s next index, or part 0 once the segment closed', async (t) => {
  const s = llStream(10 * 3 + 9); // msn 4 open with 9 parts
  const render = () => renderMediaPlaylist({ segments: s.window.segments, discontinuitySequence: 0, ended: false, renditionReports: [] },
    llConfig, { skip: 'NO', querySuffix: '' });
  t.match(render(), /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="source\/4\.9\.m4s"/);
  s.addPart(); // the cutter marks part 9 as the segment's last: msn 4 closes with it
  t.match(render(), /#EXTINF:2\.0,\nsource\/4\.m4s\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="source\/5\.0\.m4s"/, 'the closed segment is listed at once');
  s.addPart();
  t.match(render(), /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="source\/5\.1\.m4s"/);
});

t.test('a late keyframe (irregular GOP): the open segment goes past the grid and the hint follows it', async (t) => {
  const s = fakeStream({ partsPerSegment: 13, partMs: 200, windowMs: 20_000, minSegments: 6 });
  s.addParts(13 * 2 + 10); // msn 3 has 10 parts (2 s) and its keyframe has not come yet
  const text = renderMediaPlaylist({ segments: s.window.segments, discontinuitySequence: 0, ended: false, renditionReports: [] },
    llConfig, { skip: 'NO', querySuffix: '' });
  t.match(text, /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="source\/3\.10\.m4s"/);
});

t.test('parts are listed only within 3 target durations of the end (PT-13)', async (t) => {
  const s = llStream(10 * 9 + 5);
  const text = renderMediaPlaylist({ segments: s.window.segments, discontinuitySequence: 0, ended: false, renditionReports: [] },
    llConfig, { skip: 'NO', querySuffix: '' });
  const { manifest } = parseM3u8(text);
  const withParts = manifest.segments.filter((x: any) => x.parts?.length);
  t.ok(withParts.length <= 3 && withParts.length >= 2, `${withParts.length} complete segments keep their parts`);
  t.notOk(manifest.segments[0].parts?.length, 'the oldest segment has no parts listed');
});

t.test('delta update replaces segments beyond the skip boundary with EXT-X-SKIP (golden)', async (t) => {
  const s = fakeStream({ partsPerSegment: 10, windowMs: 60_000, minSegments: 6 });
  s.addParts(10 * 20 + 4);
  const view = { segments: s.window.segments, discontinuitySequence: 0, ended: false, renditionReports: [] };
  const full = parseM3u8(renderMediaPlaylist(view, llConfig, { skip: 'NO', querySuffix: '' })).manifest;
  const deltaText = renderMediaPlaylist(view, llConfig, { skip: 'YES', querySuffix: '' });
  golden(t, 'll-delta.m3u8', deltaText);
  const delta = parseM3u8(deltaText).manifest;
  t.ok(delta.skip.skippedSegments > 0);
  t.match(deltaText, /#EXT-X-VERSION:9/, 'version 9 with EXT-X-SKIP');
  t.ok(deltaText.indexOf('#EXT-X-MEDIA-SEQUENCE') < deltaText.indexOf('#EXT-X-SKIP'), 'header tags before EXT-X-SKIP (SK-05)');
  t.equal(delta.skip.skippedSegments + delta.segments.length, full.segments.length, 'skipped + listed = full');
  t.equal(delta.mediaSequence, full.mediaSequence, 'MEDIA-SEQUENCE is that of the first skipped segment (SK-04)');
  const listedSec = delta.segments.reduce((s: number, x: any) => s + x.duration, 0);
  t.ok(listedSec >= llConfig.canSkipUntilSec, 'segments within the skip boundary are all present');
  t.ok(delta.segments[0].map, 'EXT-X-MAP before the first listed segment');
  const v2 = renderMediaPlaylist(view, llConfig, { skip: 'v2', querySuffix: '' });
  t.match(v2, /RECENTLY-REMOVED-DATERANGES=""/);
});

t.test('ended playlist: ENDLIST, no hint, no reports, skip ignored', async (t) => {
  const s = llStream(25);
  s.window.endSegment(true);
  const text = renderMediaPlaylist({ segments: s.window.segments, discontinuitySequence: 0, ended: true, renditionReports: [{ uri: 'x.m3u8', lastMsn: 1 }] },
    llConfig, { skip: 'YES', querySuffix: '' });
  t.match(text, /#EXT-X-ENDLIST\n$/);
  t.notMatch(text, /PRELOAD-HINT|RENDITION-REPORT|EXT-X-SKIP/);
  t.equal(parseM3u8(text).manifest.endList, true);
});

t.test('normal mode: no PART-INF, no parts, no hint (golden)', async (t) => {
  const s = fakeStream({ partsPerSegment: 1, partMs: 6000, windowMs: 60_000 });
  s.addParts(8);
  const text = renderMediaPlaylist({ segments: s.window.segments, discontinuitySequence: 0, ended: false, renditionReports: [] },
    normalConfig, { skip: 'NO', querySuffix: '' });
  golden(t, 'normal-live.m3u8', text);
  t.notMatch(text, /PART-INF|EXT-X-PART:|PRELOAD-HINT|PART-HOLD-BACK/);
  t.equal(parseM3u8(text).manifest.segments.length, 8, 'each segment is listed as soon as its (only) part closed it');
  t.match(text, /\.m4s\n$/, 'the playlist ends with a segment URI');
});

t.test('no parts listed: a segment in progress leaves no tag behind (no dangling PROGRAM-DATE-TIME or MAP)', async (t) => {
  // A late keyframe: the segment has a first fragment but is not closed yet.
  const s = fakeStream({ partsPerSegment: 2, partMs: 2000, windowMs: 60_000 });
  s.addParts(2 * 7 + 1);
  const text = renderMediaPlaylist({ segments: s.window.segments, discontinuitySequence: 0, ended: false, renditionReports: [] },
    { ...normalConfig, targetDurationSec: 4 }, { skip: 'NO', querySuffix: '' });
  t.match(text, /#EXTINF:4\.0,\nsource\/7\.m4s\n$/, 'ends with the last complete segment');
  t.notMatch(text, /source\/8/);
});

t.test('discontinuity after a reconnect: tag, new MAP before the parts, sequence counted as it slides out', async (t) => {
  const s = fakeStream({ partsPerSegment: 5, windowMs: 3_000, minSegments: 3 });
  s.addParts(10);
  s.window.endSegment(false);
  s.window.addInit(2, Buffer.from('init2'));
  for (let i = 0; i < 5 * 6; i++) {
    s.window.addPart({ msn: 3 + Math.floor(i / 5), index: i % 5, durationMs: 200, independent: i % 5 === 0, data: Buffer.alloc(10) },
      { initId: 2, discontinuity: i === 0, programDateTimeMs: s.clock.now + i * 200, startMs: i * 200 });
  }
  const text = renderMediaPlaylist({ segments: s.window.segments, discontinuitySequence: s.window.discontinuitySequence, ended: false, renditionReports: [] },
    llConfig, { skip: 'NO', querySuffix: '' });
  t.ok(s.window.segments[0].msn > 3, `the discontinuity segment has slid out (first listed ${s.window.segments[0].msn})`);
  t.equal(s.window.discontinuitySequence, 1, 'DISCONTINUITY-SEQUENCE counts the removed tag');
  t.match(text, /#EXT-X-DISCONTINUITY-SEQUENCE:1/);
  t.match(text, /init-2\.mp4/);
});

t.test('rendition report values (RR-02/03)', async (t) => {
  const s = llStream(23);
  t.same(reportFor('a.m3u8', s.window.segments, true), { uri: 'a.m3u8', lastMsn: 3, lastPart: 2 });
  t.same(reportFor('a.m3u8', s.window.segments, false), { uri: 'a.m3u8', lastMsn: 2 });
});

t.test('multivariant playlist (golden)', async (t) => {
  const text = renderMultivariantPlaylist([{ uri: 'source.m3u8', bandwidth: 1_234_567.4, averageBandwidth: 900_000,
    codecs: ['avc1.64001f', 'mp4a.40.2'], width: 1280, height: 720, frameRate: 30 }], '?token=abc');
  golden(t, 'multivariant.m3u8', text);
  const { manifest, warnings } = parseM3u8(text);
  t.same(warnings, []);
  const v = manifest.playlists[0];
  t.equal(v.attributes.BANDWIDTH, 1234567);
  t.equal(v.attributes.CODECS, 'avc1.64001f,mp4a.40.2');
  t.same(v.attributes.RESOLUTION, { width: 1280, height: 720 });
  t.equal(v.uri, 'source.m3u8?token=abc');
});

t.test('multivariant playlist of a ladder (golden): every rung, audio declared once as a group', async (t) => {
  const rung = (name: string, bw: number, codec: string, w: number, h: number, fps: number) =>
    ({ uri: `${name}.m3u8`, bandwidth: bw, averageBandwidth: bw * 0.9, codecs: [codec, 'mp4a.40.2'], width: w, height: h, frameRate: fps, hasAudio: true });
  const text = renderMultivariantPlaylist([rung('360p', 900_000, 'avc1.42c01e', 640, 360, 15),
    rung('source', 5_500_000, 'avc1.640028', 1920, 1080, 30), rung('720p', 3_100_000, 'avc1.64001f', 1280, 720, 30)], '');
  golden(t, 'multivariant-ladder.m3u8', text);
  const { manifest, warnings } = parseM3u8(text);
  t.same(warnings, []);
  t.same(manifest.playlists.map((p: { uri: string }) => p.uri), ['source.m3u8', '720p.m3u8', '360p.m3u8'], 'highest bandwidth first');
  t.ok(manifest.playlists.every((p: { attributes: Record<string, unknown> }) => p.attributes.AUDIO === 'audio'), 'every variant names the audio group');
  const group = manifest.mediaGroups.AUDIO.audio as Record<string, { default: boolean; uri?: string }>;
  t.same(Object.keys(group), ['main'], 'one audio rendition');
  t.equal(group.main.uri, undefined, 'without URI: the audio is in each variant');
  t.equal(manifest.playlists[2].attributes['FRAME-RATE'], 15, 'a capped rung announces its own frame rate');
});

t.test('a gap (no input on air): GAP=YES parts, EXT-X-GAP segments, no preload hint; the returning source follows with a discontinuity', async (t) => {
  const s = llStream(10 * 2);
  const w = s.window;
  const facts = (msn: number, gap: boolean, initId = 1) => ({ initId, discontinuity: !gap, programDateTimeMs: s.clock.now + msn, startMs: msn * 2000, gap });
  for (let i = 0; i < 10; i++) w.addPart({ msn: 3, index: i, durationMs: 200, independent: true, data: Buffer.alloc(0), gap: true }, facts(3, true));
  w.endSegment(false);
  for (let i = 0; i < 4; i++) w.addPart({ msn: 4, index: i, durationMs: 200, independent: true, data: Buffer.alloc(0), gap: true }, facts(4, true));
  const render = () => renderMediaPlaylist({ segments: w.segments, discontinuitySequence: 0, ended: false, renditionReports: [] },
    llConfig, { skip: 'NO', querySuffix: '' });
  const during = render();
  t.match(during, /#EXT-X-PART:DURATION=0\.2,URI="source\/3\.9\.m4s",INDEPENDENT=YES,GAP=YES\n#EXT-X-GAP\n#EXTINF:2\.0,\nsource\/3\.m4s\n/, 'a closed gap segment: its parts GAP=YES, then EXT-X-GAP before EXTINF');
  t.match(during, /source\/4\.3\.m4s",INDEPENDENT=YES,GAP=YES\n$/, 'the open gap segment lists its gap parts');
  t.notMatch(during, /PRELOAD-HINT/, 'no hint while the playlist ends in a gap');
  const { manifest, warnings } = parseM3u8(during);
  t.same(warnings, [], 'm3u8-parser reads it without a warning');
  // m3u8-parser 7.2 knows GAP=YES on parts (not yet the EXT-X-GAP tag, which it passes over).
  t.ok(manifest.segments[2].parts?.length === 10 && manifest.segments[2].parts.every((p: { gap?: boolean }) => p.gap), 'm3u8-parser reads the gap segment\'s parts as GAP=YES');
  // The source returns: the gap segment closes short, the new source follows after a discontinuity with its init.
  w.endSegment(false, true);
  w.addInit(2, Buffer.from('init2'));
  w.addPart({ msn: 5, index: 0, durationMs: 200, independent: true, data: Buffer.from('media') }, facts(5, false, 2));
  const after = render();
  t.match(after, /#EXT-X-GAP\n#EXTINF:0\.8,\nsource\/4\.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="source\/init-2\.mp4"\n/, 'the short gap segment, then the discontinuity and the new init');
  t.match(after, /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="source\/5\.1\.m4s"/, 'the hint is back with the media');
});
