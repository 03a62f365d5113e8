import t from 'tap';
import { parseAttributeList, attrNumber, attrText } from '../../helpers/conformance/attributes.js';
import { splitPlaylistLines } from '../../helpers/conformance/lines.js';
import { listedParts, readMediaPlaylist } from '../../helpers/conformance/media-playlist.js';
import { readMultivariantPlaylist } from '../../helpers/conformance/multivariant-playlist.js';
import { numberFromUri } from '../../helpers/conformance/uri-numbering.js';
import { IMAGE_PLAYLIST, MULTIVARIANT } from './rule-cases.js';
import { renderPlaylist } from './synthetic-stream.js';

/** The checker's playlist readers: what they make of the lines, independent of any rule. */

t.test('attribute lists: quoted strings keep their commas; errors are collected, not thrown', async (t) => {
  const ok = parseAttributeList('CODECS="avc1.64001f,mp4a.40.2",BANDWIDTH=800000,RESOLUTION=640x360');
  t.same(ok.errors, []);
  t.equal(attrText(ok, 'CODECS'), 'avc1.64001f,mp4a.40.2');
  t.equal(attrNumber(ok, 'BANDWIDTH'), 800000);
  t.ok(Number.isNaN(attrNumber(ok, 'CODECS')!), 'a quoted value is not a number');
  t.equal(attrNumber(ok, 'NONE'), undefined);
  t.match(parseAttributeList('A=1,A=2').errors, [/twice/]);
  t.match(parseAttributeList('a=1').errors, [/not \[A-Z0-9-\]/]);
  t.match(parseAttributeList('A=1,').errors, [/trailing comma/]);
  t.match(parseAttributeList('URI="x').errors, [/cannot read/]);
});

t.test('lines: tags, URIs, comments and blanks, numbered from 1; CRLF and a final newline', async (t) => {
  const lines = splitPlaylistLines('#EXTM3U\r\n# a comment\r\n\r\n#EXT-X-ENDLIST\r\nseg.m4s\r\n');
  t.same(lines.map((l) => [l.number, l.kind, l.tag, l.value]), [
    [1, 'tag', 'EXTM3U', undefined], [2, 'comment', '', undefined], [3, 'blank', '', undefined],
    [4, 'tag', 'EXT-X-ENDLIST', undefined], [5, 'uri', '', undefined]]);
});

t.test('media playlist: MSNs from MEDIA-SEQUENCE and position, part indexes from position, the open parent last', async (t) => {
  const pl = readMediaPlaylist(renderPlaylist({ firstMsn: 100, segments: 3, openParts: 2, partsForLast: 1 }));
  t.same(pl.segments.map((s) => [s.msn, s.complete, s.parts.length]), [[100, true, 0], [101, true, 0], [102, true, 4], [103, false, 2]]);
  t.same(listedParts(pl).map((p) => `${p.msn}.${p.index}`), ['102.0', '102.1', '102.2', '102.3', '103.0', '103.1']);
  t.equal(pl.segments[3].programDateTime?.value, '2026-01-01T00:00:06.000Z', 'the open parent has its PROGRAM-DATE-TIME');
  t.equal(pl.segments[0].map?.uri, 'v/init-1.mp4');
  t.equal(pl.segments[3].map?.uri, 'v/init-1.mp4', 'the MAP stays in force');
  t.same(pl.danglingTags, []);
  t.equal(pl.preloadHints[0].uri, 'v/103.2.m4s');
  t.equal(pl.firstSegmentLine, 8, 'the first segment begins at its EXT-X-MAP');
});

t.test('media playlist: after EXT-X-SKIP the first listed segment is MEDIA-SEQUENCE + SKIPPED-SEGMENTS', async (t) => {
  const pl = readMediaPlaylist(renderPlaylist({ firstMsn: 104, segments: 10, skipped: 4 }));
  t.equal(pl.mediaSequence, 100);
  t.equal(pl.skip?.skippedSegments, 4);
  t.equal(pl.segments[0].msn, 104);
  t.equal(numberFromUri(pl.segments[0].uri!)?.msn, 104);
});

t.test('media playlist: segment tags with nothing after them are dangling; discontinuities are counted', async (t) => {
  const pl = readMediaPlaylist(`${renderPlaylist({ parts: false, discontinuityAt: [101] })}#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:06.000Z\n`);
  t.same(pl.danglingTags.map((l) => l.tag), ['EXT-X-PROGRAM-DATE-TIME']);
  t.same(pl.segments.map((s) => [s.msn, s.discontinuity, s.discontinuitiesSoFar, s.map?.uri]), [
    [100, false, 0, 'v/init-1.mp4'], [101, true, 1, 'v/init-2.mp4'], [102, false, 1, 'v/init-2.mp4']]);
});

t.test('image playlist: sheets are segments, EXT-X-TILES applies to the next one', async (t) => {
  const pl = readMediaPlaylist(IMAGE_PLAYLIST);
  t.ok(pl.imagesOnly);
  t.same(pl.segments.map((s) => [s.msn, s.durationSec, s.tags.map((l) => l.tag)]), [
    [1767225600000, 12, ['EXT-X-PROGRAM-DATE-TIME', 'EXT-X-TILES']], [1767225600001, 12, ['EXT-X-PROGRAM-DATE-TIME', 'EXT-X-TILES']]]);
});

t.test('multivariant playlist: variants with their URI lines, image playlists', async (t) => {
  const mv = readMultivariantPlaylist(MULTIVARIANT);
  t.same(mv.playlists.map((p) => [p.kind, p.uri]), [['variant', 'a.m3u8'], ['variant', 'b.m3u8'], ['image', 'previews.m3u8']]);
});

t.test('URI numbering: the origin\'s names and the common ones', async (t) => {
  t.same(numberFromUri('source/898289440.9.m4s?token=x'), { msn: 898289440, part: 9 });
  t.same(numberFromUri('../source/2026120617/898289452.m4s'), { msn: 898289452 });
  t.same(numberFromUri('part-12-3.m4s'), { msn: 12, part: 3 });
  t.same(numberFromUri('segment-12.m4s'), { msn: 12 });
  t.equal(numberFromUri('init-1796578875.mp4'), undefined);
  t.equal(numberFromUri('previews/1796578904866.jpg'), undefined);
});
