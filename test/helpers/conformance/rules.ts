/**
 * The rules the conformance checker enforces, by the ids of the LL-HLS checklist
 * (docs/conformance-checker.md says where they come from). Every id here has at least one
 * failing example in test/unit/conformance/rule-cases.ts, and rules-fire.test.ts fails when a
 * rule is added without one: a check that never fires is a defect.
 *
 * Ids starting with CK- are this checker's own, for MUSTs of the spec the checklist does not
 * number; their text says which section they come from.
 */
export const RULES = {
  // Playlist envelope
  'PL-03': '#EXTM3U is the first line (§4.4.1.1)',
  'PL-04': 'attribute lists are well formed, each AttributeName at most once (§4.2)',
  'PL-05': 'at most one of each once-only playlist tag (§4.4.3, §4.4.5)',
  'PL-06': 'Multivariant Playlist tags and Media Playlist / Media Segment tags are not mixed (§4.4.4, §4.4.6)',
  'VER-01': 'EXT-X-VERSION present when a tag needs more than version 1, and at most once (§4.4.1.2)',
  'VER-03': 'EXT-X-VERSION is at least what the tags need: 3 for floating-point EXTINF, 4 for BYTERANGE / I-FRAMES-ONLY, 6 for EXT-X-MAP (§8)',
  'TD-01': 'EXT-X-TARGETDURATION present, a decimal-integer ≥ 1 (§4.4.3.1)',
  'MS-01': 'EXT-X-MEDIA-SEQUENCE and EXT-X-DISCONTINUITY-SEQUENCE appear before the first Media Segment (§4.4.3.2, §4.4.3.3)',
  'CK-01': 'the other tags that describe the whole Media Playlist (TARGETDURATION, SERVER-CONTROL, PART-INF, PLAYLIST-TYPE, SKIP, …) appear before the first Media Segment or Partial Segment (§4.4.3; hls.js refuses header tags after a segment, HJ-05)',
  'CK-02': 'every Media Segment tag (PROGRAM-DATE-TIME, MAP, DISCONTINUITY, EXTINF, …) applies to a segment or partial segment that follows it (§4.4.4)',
  // Segments and the server-control numbers
  'TD-02': 'every EXTINF, rounded to the nearest integer, is ≤ TARGETDURATION (§4.4.3.1)',
  'MAP-02': 'every fMP4 segment and part has an EXT-X-MAP applied (§3.1.2)',
  'SC-02': 'HOLD-BACK ≥ 3 × TARGETDURATION (§4.4.3.8)',
  'SC-03': 'PART-HOLD-BACK is present whenever EXT-X-PART-INF is (§4.4.3.8)',
  'SC-04': 'PART-HOLD-BACK ≥ 3 × PART-TARGET (AAS 14.3; the draft: ≥ 2×, SHOULD ≥ 3×)',
  'SC-05': 'CAN-SKIP-UNTIL ≥ 6 × TARGETDURATION (§4.4.3.8)',
  'SC-06': 'CAN-SKIP-DATERANGES=YES only with CAN-SKIP-UNTIL (§4.4.3.8)',
  // Parts
  'PI-01': 'EXT-X-PART-INF with PART-TARGET is present when the playlist has EXT-X-PART tags (§4.4.3.7)',
  'PT-01': 'EXT-X-PART has URI (quoted) and DURATION (§4.4.4.9)',
  'PT-02': 'every part DURATION ≤ PART-TARGET (§4.4.4.9)',
  'PT-03': 'every part DURATION ≥ 0.85 × PART-TARGET, except INDEPENDENT=YES, GAP=YES, before a GAP part, and the final part of a parent (§4.4.4.9)',
  'PT-07': 'DISCONTINUITY, KEY, MAP and PROGRAM-DATE-TIME of a parent segment appear before its first EXT-X-PART (§4.4.4.9)',
  'PT-08': 'parts of a parent segment are indexed 0, 1, 2 … in playlist order and carry the parent\'s MSN (§3.2)',
  'PT-09': 'a parent segment holds the same media as its parts: Σ part DURATION ≈ EXTINF (±1 ms per part), and here its bytes are its parts\' bytes (§3.2)',
  'PT-14': 'segments and parts are removed only from the start of the playlist, in order (§6.2.2)',
  // Preload hints
  'PH-01': 'EXT-X-PRELOAD-HINT has TYPE (PART or MAP) and URI (§4.4.5.3)',
  'PH-02': 'the hinted URI is the one later published for that resource: the next part after the last part listed (§4.4.5.3)',
  'PH-03': 'no EXT-X-PRELOAD-HINT in a playlist with EXT-X-ENDLIST (§4.4.5.3)',
  'PH-04': 'at most one EXT-X-PRELOAD-HINT of each TYPE (§6.2.6)',
  'PH-05': 'a live playlist with parts has an EXT-X-PRELOAD-HINT for the next part (B.1); none while it ends in a gap',
  'GAP-01': 'a segment marked EXT-X-GAP lists only GAP=YES parts (§4.4.4.7, §6.2.1)',
  // Delta updates
  'SK-01': 'EXT-X-SKIP has SKIPPED-SEGMENTS, a decimal-integer (§4.4.5.2)',
  'SK-03': 'EXT-X-VERSION ≥ 9 when EXT-X-SKIP is present (§8)',
  'SK-04': 'after EXT-X-SKIP the first listed segment is MSN = MEDIA-SEQUENCE + SKIPPED-SEGMENTS (§4.4.5.2)',
  'SK-05': 'header tags (MEDIA-SEQUENCE, DISCONTINUITY-SEQUENCE, …) come before EXT-X-SKIP (hls.js #7905)',
  'DU-01': 'a delta update only when the request asked for one (_HLS_skip), and then the segments beyond the Skip Boundary are skipped (§6.2.5.1)',
  'DU-02': 'a delta update skips exactly the segments further than CAN-SKIP-UNTIL from the end (±1 segment) (§6.2.5.1)',
  'DU-05': 'no delta update from a playlist without CAN-SKIP-UNTIL or with EXT-X-ENDLIST (§6.2.5.1)',
  // Rendition reports
  'RR-01': 'EXT-X-RENDITION-REPORT URI is relative to the playlist (§4.4.5.4)',
  'RR-02': 'LAST-MSN is a decimal-integer: the MSN of the rendition\'s last segment or part (§4.4.5.4)',
  'RR-03': 'LAST-PART is a decimal-integer, present when the rendition has parts (§4.4.5.4)',
  'RR-04': 'reports are as up to date as the playlist that carries them: not behind the rendition\'s own playlist by more than one part (§4.4.5.4)',
  'RR-06': 'one report per other rendition of the Multivariant Playlist, none for anything else (B.1)',
  // Across reloads
  'MS-02': 'MEDIA-SEQUENCE never decreases and numbers the segments: a URI that names its MSN agrees with the position (§6.2.2)',
  'MS-03': 'DISCONTINUITY-SEQUENCE never decreases; a segment keeps its discontinuity sequence number in every reload (§6.2.2)',
  'MS-04': 'the same MSN keeps the same URI and EXTINF in every reload (§6.3.4)',
  'TD-03': 'TARGETDURATION never changes (§6.2.1)',
  'SC-08': 'SERVER-CONTROL and PART-INF never change between reloads (§6.2.1)',
  'AV-02': 'a playlist only changes in the allowed ways: listed parts keep their URI and DURATION, a segment keeps its tags, nothing changes after ENDLIST (§6.2.1)',
  // Multivariant and the rendition set
  'TD-04': 'every Media Playlist of the Multivariant Playlist has the same TARGETDURATION (§6.2.4)',
  'SC-07': 'every Media Playlist of the Multivariant Playlist has EXT-X-SERVER-CONTROL with the same attributes and values (§6.2.4)',
  'MV-05': 'every variant has CODECS; video variants have RESOLUTION and FRAME-RATE (§4.4.6.2, AAS 9.1-9.4, 9.15)',
  'MV-06': 'every variant has BANDWIDTH, a decimal-integer (§4.4.6.2)',
  // Delivery
  'AV-01': 'every listed segment, part and map is served (200) and is not empty (§6.2.1)',
  'AV-03': 'a live playlist gets a new part (or segment) in time: a blocking reload is answered before 3 × TARGETDURATION (§6.2.1, §6.2.5.2)',
  'HJ-13': 'a blocking reload is not answered before the playlist holds the requested part or segment (§6.2.5.2)',
  'HJ-15': 'a playlist request made the way hls.js makes it is not refused (4xx are not retried by hls.js) and does not fail',
} as const;

/** The id of a rule of RULES. */
export type RuleId = keyof typeof RULES;

/** One broken rule, where it was seen. */
export interface Violation {
  rule: RuleId;
  message: string;
  /** The playlist (the URL requested, with any _HLS_ directives) or, for a resource, its URL. */
  url: string;
  /** 1-based line of the playlist the violation is about, when it is about a line. */
  line?: number;
  /** That line's text, so a report shows the excerpt without the playlist at hand. */
  lineText?: string;
  /** A few lines of the response around that line (added by the follower, which has the text). */
  excerpt?: string;
}

/** Builds a Violation; `at` is the playlist line it is about, if any. */
export function violation(rule: RuleId, url: string, message: string, at?: { number: number; text: string }): Violation {
  return at ? { rule, url, message, line: at.number, lineText: at.text } : { rule, url, message };
}
