/**
 * At least one failing example per rule of the checker: a conforming playlist (or stream)
 * from synthetic-stream.ts with one thing broken. rules-fire.test.ts runs them all and fails
 * when a rule of RULES has no example here, or an example does not fire its rule.
 */
import { checkMediaPlaylist } from '../../helpers/conformance/check-media.js';
import { checkMultivariantPlaylist, checkRenditionSet } from '../../helpers/conformance/check-multivariant.js';
import { ReloadHistory } from '../../helpers/conformance/check-reloads.js';
import { checkRenditionReports, RenditionBoard } from '../../helpers/conformance/check-rendition-reports.js';
import { ResourceChecker } from '../../helpers/conformance/check-resources.js';
import { followMultivariant } from '../../helpers/conformance/follower.js';
import { readMediaPlaylist } from '../../helpers/conformance/media-playlist.js';
import { readMultivariantPlaylist } from '../../helpers/conformance/multivariant-playlist.js';
import type { RuleId, Violation } from '../../helpers/conformance/rules.js';
import { playlistKey } from '../../helpers/conformance/urls.js';
import { edit, renderPlaylist, SyntheticOrigin, type Faults } from './synthetic-stream.js';

/** A failing example: running it must report `rule`. */
export interface RuleCase {
  rule: RuleId;
  title: string;
  run: () => Violation[] | Promise<Violation[]>;
}

/** The URLs the examples are answered to (nothing is fetched from them). */
export const PLAYLIST_URL = 'http://origin.test/live/ch/a.m3u8';
export const MULTIVARIANT_URL = 'http://origin.test/live/ch/index.m3u8';

/** Single-playlist rules on `text`, as the answer to `url`. */
export function checkText(text: string, url = PLAYLIST_URL): Violation[] {
  return checkMediaPlaylist(readMediaPlaylist(text), url);
}

/** Cross-reload rules over responses received in this order. */
export function checkReloads(texts: readonly string[], url = PLAYLIST_URL): Violation[] {
  const history = new ReloadHistory();
  return texts.flatMap((text) => history.add(readMediaPlaylist(text), text, url));
}

/** A conforming multivariant playlist of two video variants. */
export const MULTIVARIANT = `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-STREAM-INF:BANDWIDTH=800000,AVERAGE-BANDWIDTH=700000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=30.000
a.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=400000,CODECS="avc1.42c015,mp4a.40.2",RESOLUTION=426x240,FRAME-RATE=30.000
b.m3u8
#EXT-X-IMAGE-STREAM-INF:BANDWIDTH=10000,RESOLUTION=160x90,CODECS="jpeg",URI="previews.m3u8"
`;

/** A conforming live image playlist (Image Media Playlist extension) with the video's timing repeated. */
export const IMAGE_PLAYLIST = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:12
#EXT-X-SERVER-CONTROL:PART-HOLD-BACK=1.5,HOLD-BACK=36
#EXT-X-PART-INF:PART-TARGET=0.5
#EXT-X-MEDIA-SEQUENCE:1767225600000
#EXT-X-IMAGES-ONLY
#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z
#EXT-X-TILES:RESOLUTION=160x90,LAYOUT=3x2,DURATION=2.0
#EXTINF:12.0,
previews/1767225600000.jpg
#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:12.000Z
#EXT-X-TILES:RESOLUTION=160x90,LAYOUT=3x2,DURATION=2.0
#EXTINF:12.0,
previews/1767225612000.jpg
`;

const good = renderPlaylist();
const plain = renderPlaylist({ parts: false });
const skipUrl = `${PLAYLIST_URL}?_HLS_skip=YES`;
// Ten segments and one part: the four whose end lies more than 12 s from the end are skipped.
const delta = renderPlaylist({ firstMsn: 104, segments: 10, skipped: 4 });

/** Rendition reports of `text` (rendition a) judged against rendition b's playlist `b`, seen earlier. */
function checkReport(text: string, b: string, renditions = ['a.m3u8', 'b.m3u8']): Violation[] {
  const board = new RenditionBoard();
  const bUrl = new URL('b.m3u8', PLAYLIST_URL).href;
  board.record(playlistKey(bUrl), readMediaPlaylist(b), 1);
  return checkRenditionReports(readMediaPlaylist(text), PLAYLIST_URL, {
    renditions: renditions.map((r) => playlistKey(r, PLAYLIST_URL)), optional: [], board, sentAt: 2,
  });
}

/** The follower on a scripted two-rendition stream with one fault switched on. */
async function followFaulty(faults: Faults, reloads = 4): Promise<Violation[]> {
  const origin = new SyntheticOrigin(faults);
  const base = await origin.start();
  try {
    const r = await followMultivariant(`${base}/index.m3u8`, { reloads, maxPollIntervalMs: 10, retryDelayMs: 10, compareSegments: 1 });
    return r.groups.flatMap((g) => g.examples);
  } finally {
    await origin.close();
  }
}

/** The resource checks on one response of a scripted stream with one fault switched on. */
async function checkResourcesOf(faults: Faults): Promise<Violation[]> {
  const origin = new SyntheticOrigin(faults);
  const base = await origin.start();
  try {
    const found: Violation[] = [];
    const checker = new ResourceChecker({ compareSegments: 1, concurrency: 2 }, (v) => found.push(v));
    const url = `${base}/a.m3u8`;
    checker.schedule(readMediaPlaylist(await (await fetch(url)).text()), url);
    await checker.drain();
    return found;
  } finally {
    await origin.close();
  }
}

const firstPdt = /#EXT-X-PROGRAM-DATE-TIME:[^\n]*\n/;

/** The failing examples, by rule group. */
export const RULE_CASES: RuleCase[] = [
  // Envelope
  { rule: 'PL-03', title: 'no #EXTM3U first', run: () => checkText(edit(good, '#EXTM3U\n', '')) },
  { rule: 'PL-04', title: 'an attribute twice', run: () => checkText(edit(good, 'CAN-BLOCK-RELOAD=YES,', 'CAN-BLOCK-RELOAD=YES,CAN-BLOCK-RELOAD=YES,')) },
  { rule: 'PL-04', title: 'an unterminated quoted string', run: () => checkText(edit(good, 'URI="v/101.1.m4s"', 'URI="v/101.1.m4s')) },
  { rule: 'PL-05', title: 'TARGETDURATION twice', run: () => checkText(edit(good, '#EXT-X-TARGETDURATION:2\n', '#EXT-X-TARGETDURATION:2\n#EXT-X-TARGETDURATION:2\n')) },
  { rule: 'PL-06', title: 'a multivariant tag in a media playlist', run: () => checkText(edit(good, '#EXT-X-MEDIA-SEQUENCE', '#EXT-X-SESSION-DATA:DATA-ID="x",VALUE="y"\n#EXT-X-MEDIA-SEQUENCE')) },
  { rule: 'PL-06', title: 'a media tag in a multivariant playlist', run: () => checkMultivariantPlaylist(readMultivariantPlaylist(edit(MULTIVARIANT, '#EXT-X-INDEPENDENT-SEGMENTS', '#EXT-X-TARGETDURATION:2')), MULTIVARIANT_URL) },
  { rule: 'VER-01', title: 'no EXT-X-VERSION with EXT-X-MAP', run: () => checkText(edit(good, '#EXT-X-VERSION:6\n', '')) },
  { rule: 'VER-01', title: 'EXT-X-VERSION twice', run: () => checkText(edit(good, '#EXT-X-VERSION:6\n', '#EXT-X-VERSION:6\n#EXT-X-VERSION:6\n')) },
  { rule: 'VER-03', title: 'version 3 with EXT-X-MAP', run: () => checkText(edit(good, '#EXT-X-VERSION:6', '#EXT-X-VERSION:3')) },
  { rule: 'TD-01', title: 'no TARGETDURATION', run: () => checkText(edit(good, '#EXT-X-TARGETDURATION:2\n', '')) },
  { rule: 'TD-01', title: 'a fractional TARGETDURATION', run: () => checkText(edit(good, '#EXT-X-TARGETDURATION:2', '#EXT-X-TARGETDURATION:2.5')) },
  { rule: 'MS-01', title: 'MEDIA-SEQUENCE after the first segment', run: () => checkText(edit(edit(good, '#EXT-X-MEDIA-SEQUENCE:100\n', ''), 'v/100.m4s\n', 'v/100.m4s\n#EXT-X-MEDIA-SEQUENCE:100\n')) },
  { rule: 'CK-01', title: 'PART-INF after the first segment', run: () => checkText(edit(edit(good, '#EXT-X-PART-INF:PART-TARGET=0.5\n', ''), 'v/100.m4s\n', 'v/100.m4s\n#EXT-X-PART-INF:PART-TARGET=0.5\n')) },
  { rule: 'CK-02', title: 'a PROGRAM-DATE-TIME after the last segment (low/normal playlists)', run: () => checkText(`${plain}#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:06.000Z\n`) },
  { rule: 'CK-02', title: 'an EXTINF with no URI after it', run: () => checkText(`${plain}#EXTINF:2.000,\n`) },
  // Segments and server control
  { rule: 'TD-02', title: 'EXTINF 2.6 with TARGETDURATION 2', run: () => checkText(edit(good, '#EXTINF:2.000,\nv/100.m4s', '#EXTINF:2.600,\nv/100.m4s')) },
  { rule: 'MAP-02', title: 'fMP4 segments without EXT-X-MAP', run: () => checkText(edit(good, /#EXT-X-MAP:[^\n]*\n/, '')) },
  { rule: 'SC-02', title: 'HOLD-BACK below 3 × TD (the image playlist of the origin)', run: () => checkText(edit(IMAGE_PLAYLIST, 'HOLD-BACK=36', 'HOLD-BACK=6')) },
  { rule: 'SC-03', title: 'PART-INF without PART-HOLD-BACK', run: () => checkText(edit(good, 'PART-HOLD-BACK=1.5,', '')) },
  { rule: 'SC-04', title: 'PART-HOLD-BACK below 3 × PART-TARGET', run: () => checkText(edit(good, 'PART-HOLD-BACK=1.5', 'PART-HOLD-BACK=1')) },
  { rule: 'SC-05', title: 'CAN-SKIP-UNTIL below 6 × TD', run: () => checkText(edit(good, 'CAN-SKIP-UNTIL=12', 'CAN-SKIP-UNTIL=10')) },
  { rule: 'SC-06', title: 'CAN-SKIP-DATERANGES without CAN-SKIP-UNTIL', run: () => checkText(edit(good, 'CAN-SKIP-UNTIL=12', 'CAN-SKIP-DATERANGES=YES')) },
  // Parts
  { rule: 'PI-01', title: 'parts without PART-INF', run: () => checkText(edit(good, '#EXT-X-PART-INF:PART-TARGET=0.5\n', '')) },
  { rule: 'PT-01', title: 'a part without DURATION', run: () => checkText(edit(good, 'DURATION=0.500,URI="v/101.1.m4s"', 'URI="v/101.1.m4s"')) },
  { rule: 'PT-01', title: 'a part with an unquoted URI', run: () => checkText(edit(good, 'URI="v/101.1.m4s"', 'URI=v/101.1.m4s')) },
  { rule: 'PT-02', title: 'an audio part of 0.513 s under PART-TARGET 0.5', run: () => checkText(edit(good, 'DURATION=0.500,URI="v/101.1.m4s"', 'DURATION=0.513,URI="v/101.1.m4s"')) },
  { rule: 'PT-02', title: 'a part of the parent in progress longer than PART-TARGET', run: () => checkText(edit(good, 'DURATION=0.500,URI="v/103.1.m4s"', 'DURATION=0.600,URI="v/103.1.m4s"')) },
  { rule: 'PT-03', title: 'a short part in the middle of a parent', run: () => checkText(edit(good, 'DURATION=0.500,URI="v/101.1.m4s"', 'DURATION=0.400,URI="v/101.1.m4s"')) },
  { rule: 'PT-07', title: 'PROGRAM-DATE-TIME after the first part of its parent', run: () => checkText(edit(good, /(#EXT-X-PROGRAM-DATE-TIME:[^\n]*\n)(#EXT-X-PART:[^\n]*URI="v\/103\.0\.m4s"[^\n]*\n)/, '$2$1')) },
  { rule: 'PT-08', title: 'a part URI naming another index than its position', run: () => checkText(edit(good, 'URI="v/102.2.m4s"', 'URI="v/102.3.m4s"')) },
  { rule: 'PT-09', title: 'parts adding up to more than EXTINF', run: () => checkText(edit(good, '#EXTINF:2.000,\nv/101.m4s', '#EXTINF:1.900,\nv/101.m4s')) },
  { rule: 'PT-09', title: 'a segment whose bytes are not its parts', run: () => checkResourcesOf({ segmentNotParts: true }) },
  // Preload hints
  { rule: 'PH-01', title: 'a hint without TYPE', run: () => checkText(edit(good, 'PRELOAD-HINT:TYPE=PART,', 'PRELOAD-HINT:')) },
  { rule: 'PH-02', title: 'the hint names part 0 of the next segment; the open segment gets another part', run: () => checkReloads([
    edit(renderPlaylist({ openParts: 2 }), 'URI="v/103.2.m4s"', 'URI="v/104.0.m4s"'), renderPlaylist({ openParts: 3 })]) },
  { rule: 'PH-02', title: 'the follower sees hints that never come true', run: () => followFaulty({ wrongHint: true }) },
  { rule: 'PH-03', title: 'a hint with ENDLIST', run: () => checkText(edit(renderPlaylist({ ended: true }), '#EXT-X-ENDLIST', '#EXT-X-ENDLIST\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="v/103.0.m4s"')) },
  { rule: 'PH-04', title: 'two PART hints', run: () => checkText(edit(good, /(#EXT-X-PRELOAD-HINT[^\n]*\n)/, '$1$1')) },
  { rule: 'PH-05', title: 'a live playlist with parts but no hint', run: () => checkText(edit(good, /#EXT-X-PRELOAD-HINT[^\n]*\n/, '')) },
  // Gaps
  { rule: 'GAP-01', title: 'a segment marked EXT-X-GAP whose parts have media', run: () => checkText(edit(good, '#EXTINF:2.000,\nv/102.m4s', '#EXT-X-GAP\n#EXTINF:2.000,\nv/102.m4s')) },
  // Delta updates
  { rule: 'SK-01', title: 'EXT-X-SKIP without SKIPPED-SEGMENTS', run: () => checkText(edit(delta, 'SKIPPED-SEGMENTS=4', 'SKIPPED=4'), skipUrl) },
  { rule: 'SK-03', title: 'EXT-X-SKIP with version 6', run: () => checkText(edit(delta, '#EXT-X-VERSION:9', '#EXT-X-VERSION:6'), skipUrl) },
  { rule: 'SK-04', title: 'SKIPPED-SEGMENTS that do not reach the first listed segment', run: () => checkText(edit(delta, 'SKIPPED-SEGMENTS=4', 'SKIPPED-SEGMENTS=5'), skipUrl) },
  { rule: 'SK-05', title: 'DISCONTINUITY-SEQUENCE after EXT-X-SKIP', run: () => checkText(edit(delta, /(#EXT-X-DISCONTINUITY-SEQUENCE:0\n)(#EXT-X-SKIP[^\n]*\n)/, '$2$1'), skipUrl) },
  { rule: 'DU-01', title: 'a delta update nobody asked for', run: () => checkText(delta, PLAYLIST_URL) },
  { rule: 'DU-01', title: '_HLS_skip asked, the whole playlist sent', run: () => checkText(renderPlaylist({ segments: 10 }), skipUrl) },
  { rule: 'DU-02', title: 'segments inside the Skip Boundary skipped', run: () => checkText(renderPlaylist({ firstMsn: 109, segments: 10, skipped: 9 }), skipUrl) },
  { rule: 'DU-05', title: 'a delta update of an ended playlist', run: () => checkText(renderPlaylist({ firstMsn: 102, segments: 10, skipped: 2, ended: true }), skipUrl) },
  // Rendition reports
  { rule: 'RR-01', title: 'an absolute report URI', run: () => checkText(good.replace(/\n$/, '\n#EXT-X-RENDITION-REPORT:URI="http://else.test/b.m3u8",LAST-MSN=103,LAST-PART=1\n')) },
  { rule: 'RR-02', title: 'LAST-MSN not an integer', run: () => checkText(`${good}#EXT-X-RENDITION-REPORT:URI="b.m3u8",LAST-MSN=x,LAST-PART=1\n`) },
  { rule: 'RR-03', title: 'LAST-PART not an integer', run: () => checkText(`${good}#EXT-X-RENDITION-REPORT:URI="b.m3u8",LAST-MSN=103,LAST-PART=-1\n`) },
  { rule: 'RR-03', title: 'no LAST-PART for a rendition with parts, from a playlist without', run: () => checkReport(`${plain}#EXT-X-RENDITION-REPORT:URI="b.m3u8",LAST-MSN=103\n`, good) },
  { rule: 'RR-04', title: 'a report three parts behind its rendition', run: () => checkReport(`${good}#EXT-X-RENDITION-REPORT:URI="b.m3u8",LAST-MSN=102,LAST-PART=3\n`, renderPlaylist({ openParts: 3 })) },
  { rule: 'RR-04', title: 'a report a segment behind a rendition without parts', run: () => checkReport(`${plain}#EXT-X-RENDITION-REPORT:URI="b.m3u8",LAST-MSN=101\n`, plain) },
  { rule: 'RR-04', title: 'the follower sees stale reports', run: () => followFaulty({ staleReports: true }) },
  { rule: 'RR-06', title: 'no report for the other rendition', run: () => checkReport(good, good) },
  { rule: 'RR-06', title: 'a report for a playlist the multivariant playlist does not list', run: () => checkReport(`${good}#EXT-X-RENDITION-REPORT:URI="b.m3u8",LAST-MSN=103,LAST-PART=1\n#EXT-X-RENDITION-REPORT:URI="c.m3u8",LAST-MSN=103,LAST-PART=1\n`, good) },
  // Across reloads
  { rule: 'MS-02', title: 'URIs that disagree with MEDIA-SEQUENCE', run: () => checkText(edit(good, '#EXT-X-MEDIA-SEQUENCE:100', '#EXT-X-MEDIA-SEQUENCE:99')) },
  { rule: 'MS-02', title: 'MEDIA-SEQUENCE going back', run: () => checkReloads([renderPlaylist({ firstMsn: 101 }), renderPlaylist({ firstMsn: 100, segments: 4 })]) },
  { rule: 'MS-03', title: 'DISCONTINUITY-SEQUENCE going back', run: () => checkReloads([renderPlaylist({ discontinuitySequence: 2 }), renderPlaylist({ discontinuitySequence: 1, openParts: 3 })]) },
  { rule: 'MS-03', title: 'a segment changing its discontinuity sequence number', run: () => checkReloads([
    renderPlaylist({ discontinuityAt: [102] }), renderPlaylist({ discontinuityAt: [102], discontinuitySequence: 1, openParts: 3 })]) },
  { rule: 'MS-04', title: 'an MSN with another URI', run: () => checkReloads([good, edit(renderPlaylist({ openParts: 3 }), /\nv\/101\.m4s/, '\nv/101-again.m4s')]) },
  { rule: 'MS-04', title: 'an MSN with another EXTINF (the image playlist\'s growing sheet)', run: () => checkReloads([IMAGE_PLAYLIST, edit(IMAGE_PLAYLIST, /#EXTINF:12.0,\nprevi[^\n]*1767225612000/, '#EXTINF:11.0,\npreviews/1767225612000')]) },
  { rule: 'TD-03', title: 'TARGETDURATION changing', run: () => checkReloads([good, edit(renderPlaylist({ openParts: 3 }), '#EXT-X-TARGETDURATION:2', '#EXT-X-TARGETDURATION:3')]) },
  { rule: 'SC-08', title: 'PART-HOLD-BACK changing', run: () => checkReloads([good, edit(renderPlaylist({ openParts: 3 }), 'PART-HOLD-BACK=1.5', 'PART-HOLD-BACK=2')]) },
  { rule: 'SC-08', title: 'PART-TARGET changing', run: () => checkReloads([good, edit(renderPlaylist({ openParts: 3 }), 'PART-TARGET=0.5', 'PART-TARGET=0.6')]) },
  { rule: 'PT-14', title: 'the last segment disappearing', run: () => checkReloads([renderPlaylist({ segments: 4, parts: false }), renderPlaylist({ segments: 3, parts: false })]) },
  { rule: 'PT-14', title: 'the last part disappearing', run: () => checkReloads([renderPlaylist({ openParts: 3 }), renderPlaylist({ openParts: 2 })]) },
  { rule: 'AV-02', title: 'a listed part changing its DURATION', run: () => checkReloads([good, edit(renderPlaylist({ openParts: 3 }), 'DURATION=0.500,URI="v/103.1.m4s"', 'DURATION=0.450,URI="v/103.1.m4s"')]) },
  { rule: 'AV-02', title: 'a playlist changing after ENDLIST', run: () => checkReloads([renderPlaylist({ ended: true }), renderPlaylist({ ended: true, segments: 4 })]) },
  { rule: 'AV-02', title: 'a segment changing its PROGRAM-DATE-TIME', run: () => checkReloads([good, edit(renderPlaylist({ openParts: 3 }), firstPdt, '#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000Z\n')]) },
  // Multivariant and the rendition set
  { rule: 'TD-04', title: 'renditions with different TARGETDURATION', run: () => checkRenditionSet([
    { url: 'a', playlist: readMediaPlaylist(good) }, { url: 'b', playlist: readMediaPlaylist(edit(good, '#EXT-X-TARGETDURATION:2', '#EXT-X-TARGETDURATION:3')) }], MULTIVARIANT_URL) },
  { rule: 'TD-04', title: 'an image playlist of sprite sheets (TARGETDURATION 12) beside 2 s video', run: () => checkRenditionSet(
    [{ url: 'a', playlist: readMediaPlaylist(good) }], MULTIVARIANT_URL, [{ url: 'i', playlist: readMediaPlaylist(IMAGE_PLAYLIST) }]) },
  { rule: 'SC-07', title: 'renditions with different SERVER-CONTROL', run: () => checkRenditionSet([
    { url: 'a', playlist: readMediaPlaylist(good) }, { url: 'b', playlist: readMediaPlaylist(edit(good, 'HOLD-BACK=6', 'HOLD-BACK=7')) }], MULTIVARIANT_URL) },
  { rule: 'MV-05', title: 'a variant without CODECS', run: () => checkMultivariantPlaylist(readMultivariantPlaylist(edit(MULTIVARIANT, 'CODECS="avc1.42c015,mp4a.40.2",', '')), MULTIVARIANT_URL) },
  { rule: 'MV-05', title: 'a video variant without RESOLUTION or FRAME-RATE', run: () => checkMultivariantPlaylist(readMultivariantPlaylist(edit(MULTIVARIANT, ',RESOLUTION=426x240,FRAME-RATE=30.000', '')), MULTIVARIANT_URL) },
  { rule: 'MV-06', title: 'a variant without BANDWIDTH', run: () => checkMultivariantPlaylist(readMultivariantPlaylist(edit(MULTIVARIANT, 'BANDWIDTH=400000,', '')), MULTIVARIANT_URL) },
  // Delivery
  { rule: 'AV-01', title: 'listed parts that answer 404', run: () => checkResourcesOf({ missingParts: true }) },
  { rule: 'AV-03', title: 'blocking requests answered 503', run: () => followFaulty({ unavailable: true }, 2) },
  { rule: 'HJ-13', title: 'blocking requests answered before the part exists', run: () => followFaulty({ premature: true }) },
  { rule: 'HJ-15', title: 'blocking requests refused with 400', run: () => followFaulty({ refuseBlocking: true }, 2) },
];

/** Conforming inputs: each must come out of the checker without a single violation. */
export const CLEAN_CASES: { title: string; run: () => Violation[] | Promise<Violation[]> }[] = [
  { title: 'an LL-HLS playlist with parts, a hint and an open parent', run: () => checkText(good) },
  { title: 'a playlist without parts (low/normal)', run: () => checkText(plain) },
  { title: 'an ended playlist (catchup VOD)', run: () => checkText(renderPlaylist({ ended: true, parts: false })) },
  { title: 'a delta update, asked for', run: () => checkText(delta, skipUrl) },
  { title: 'a delta update asked for while nothing lies beyond the Skip Boundary', run: () => checkText(good, skipUrl) },
  { title: 'parts of a complete segment listed without the open parent', run: () => checkText(renderPlaylist({ openParts: 0 })) },
  { title: 'a discontinuity with a new EXT-X-MAP', run: () => checkText(renderPlaylist({ discontinuityAt: [102] })) },
  { title: 'an image playlist', run: () => checkText(IMAGE_PLAYLIST, 'http://origin.test/live/ch/previews.m3u8') },
  { title: 'a multivariant playlist', run: () => checkMultivariantPlaylist(readMultivariantPlaylist(MULTIVARIANT), MULTIVARIANT_URL) },
  { title: 'a live playlist growing part by part, with deltas, a discontinuity and segments leaving the front', run: () => {
    const texts: string[] = [];
    for (let produced = 10; produced < 60; produced++) {
      const segments = Math.floor(produced / 4), first = Math.max(100, 100 + segments - 8);
      const skip = produced % 3 === 0 && segments - (first - 100) > 7 ? 1 : 0;
      texts.push(renderPlaylist({ firstMsn: first + skip, segments: segments - (first - 100), skipped: skip, openParts: produced % 4,
        partsForLast: 3, discontinuityAt: [104], discontinuitySequence: first >= 104 ? 1 : 0 }));
    }
    return checkReloads(texts);
  } },
  { title: 'the follower on a conforming two-rendition stream', run: () => followFaulty({}, 12) },
];
