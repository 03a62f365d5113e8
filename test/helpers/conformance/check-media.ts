/**
 * Rules one Media Playlist response must satisfy on its own: envelope and header placement,
 * segment tags, the server-control numbers, parts, preload hints, delta updates and the syntax
 * of rendition reports. Rules that need more than one response live in check-reloads.ts
 * (the same playlist over time) and check-rendition-reports.ts / check-multivariant.ts (the
 * renditions side by side).
 */
import { attrInteger, attrNumber, attrText } from './attributes.js';
import { checkEnvelope } from './check-envelope.js';
import { hasParts, type MediaPlaylist, type MediaSegment } from './media-playlist.js';
import { MULTIVARIANT_TAGS } from './multivariant-playlist.js';
import { violation, type Violation } from './rules.js';
import { numberFromUri } from './uri-numbering.js';

/** Floating-point slack for comparisons of values written with a few decimals. */
const EPSILON = 1e-9;

/** Tags that may appear once in a Media Playlist (§4.4.3, §4.4.5.2, §4.4.2). */
const ONCE_ONLY = ['EXT-X-TARGETDURATION', 'EXT-X-MEDIA-SEQUENCE', 'EXT-X-DISCONTINUITY-SEQUENCE', 'EXT-X-ENDLIST',
  'EXT-X-PLAYLIST-TYPE', 'EXT-X-I-FRAMES-ONLY', 'EXT-X-PART-INF', 'EXT-X-SERVER-CONTROL', 'EXT-X-SKIP',
  'EXT-X-INDEPENDENT-SEGMENTS', 'EXT-X-START', 'EXT-X-IMAGES-ONLY'];

/** Tags describing the whole playlist, which belong before the first segment (CK-01) and before EXT-X-SKIP (SK-05). */
const HEADER_TAGS = ['EXT-X-VERSION', 'EXT-X-TARGETDURATION', 'EXT-X-SERVER-CONTROL', 'EXT-X-PART-INF', 'EXT-X-PLAYLIST-TYPE',
  'EXT-X-I-FRAMES-ONLY', 'EXT-X-IMAGES-ONLY', 'EXT-X-INDEPENDENT-SEGMENTS', 'EXT-X-START'];
const SEQUENCE_TAGS = ['EXT-X-MEDIA-SEQUENCE', 'EXT-X-DISCONTINUITY-SEQUENCE'];

/** Segment tags that PT-07 wants before the first part of their parent. */
const BEFORE_FIRST_PART = new Set(['EXT-X-DISCONTINUITY', 'EXT-X-KEY', 'EXT-X-MAP', 'EXT-X-PROGRAM-DATE-TIME']);

/** fMP4 resources need an EXT-X-MAP (MAP-02). */
const FMP4 = /\.(m4s|mp4|cmf[av]|m4[av])(\?|#|$)/;

/** Every single-response rule on one media playlist, answered to the request `url` (whose `_HLS_skip` matters). */
export function checkMediaPlaylist(pl: MediaPlaylist, url: string): Violation[] {
  return [
    ...checkEnvelope(pl.lines, pl.tags, url),
    ...checkMediaEnvelope(pl, url),
    ...checkSegments(pl, url),
    ...checkServerControl(pl, url),
    ...checkParts(pl, url),
    ...checkPreloadHints(pl, url),
    ...checkGaps(pl, url),
    ...checkDeltaUpdate(pl, url),
    ...checkReportSyntax(pl, url),
  ];
}

/** Whether the request URL asked for a Playlist Delta Update (§6.2.5.1). */
function requestedSkip(url: string): boolean {
  const v = new URL(url, 'http://x/').searchParams.get('_HLS_skip');
  return v === 'YES' || v === 'v2';
}

/** The lowest EXT-X-VERSION the tags used need (§8), EXT-X-SKIP aside (SK-03 checks it). */
function requiredVersion(pl: MediaPlaylist): { version: number; why: string } {
  if (pl.tags.has('EXT-X-MAP') && !pl.iFramesOnly) return { version: 6, why: 'EXT-X-MAP' };
  if (pl.tags.has('EXT-X-BYTERANGE') || pl.iFramesOnly) return { version: 4, why: 'EXT-X-BYTERANGE / EXT-X-I-FRAMES-ONLY' };
  if ((pl.tags.get('EXTINF') ?? []).some((l) => /^\d+\.\d/.test(l.value ?? ''))) return { version: 3, why: 'floating-point EXTINF' };
  return { version: 1, why: '' };
}

function checkMediaEnvelope(pl: MediaPlaylist, url: string): Violation[] {
  const out: Violation[] = [];
  for (const tag of ONCE_ONLY) {
    for (const extra of (pl.tags.get(tag) ?? []).slice(1)) out.push(violation('PL-05', url, `#${tag} appears more than once`, extra));
  }
  for (const line of pl.lines) {
    if (line.kind === 'tag' && MULTIVARIANT_TAGS.has(line.tag)) out.push(violation('PL-06', url, `multivariant tag #${line.tag} in a media playlist`, line));
  }
  const need = requiredVersion(pl);
  const versionLine = pl.tags.get('EXT-X-VERSION')?.[0];
  if (need.version > 1 && !versionLine) out.push(violation('VER-01', url, `no EXT-X-VERSION, but ${need.why} needs version ${need.version}`));
  else if (versionLine && !(pl.version! >= need.version)) {
    out.push(violation('VER-03', url, `EXT-X-VERSION ${versionLine.value} is below the ${need.version} that ${need.why} needs`, versionLine));
  }
  const tdLine = pl.tags.get('EXT-X-TARGETDURATION')?.[0];
  if (!tdLine) out.push(violation('TD-01', url, 'no EXT-X-TARGETDURATION'));
  else if (!(pl.targetDuration! >= 1)) out.push(violation('TD-01', url, `EXT-X-TARGETDURATION ${JSON.stringify(tdLine.value)} is not a decimal-integer ≥ 1`, tdLine));

  const segmentsFrom = pl.firstSegmentLine ?? Infinity;
  const skipLine = pl.skip?.line.number ?? Infinity;
  for (const tag of [...HEADER_TAGS, ...SEQUENCE_TAGS, 'EXT-X-SKIP']) {
    for (const line of pl.tags.get(tag) ?? []) {
      if (line.number > segmentsFrom) {
        out.push(violation(SEQUENCE_TAGS.includes(tag) ? 'MS-01' : 'CK-01', url, `#${tag} after the first media segment (line ${segmentsFrom})`, line));
      } else if (tag !== 'EXT-X-SKIP' && line.number > skipLine) {
        out.push(violation('SK-05', url, `#${tag} after EXT-X-SKIP`, line));
      }
    }
  }
  return out;
}

/** Where a URI's own MSN and the position disagree, the first such segment (MS-02, SK-04). */
function checkUriNumbers(pl: MediaPlaylist, url: string): Violation[] {
  const complete = pl.segments.filter((s) => s.complete);
  const named = complete.map((s) => ({ s, n: numberFromUri(s.uri!) })).filter((x) => x.n !== undefined);
  if (named.length === 0) return [];
  const { s: firstSeg, n: firstNum } = named[0];
  if (pl.skip && firstSeg === complete[0] && firstNum!.msn !== firstSeg.msn) {
    return [violation('SK-04', url, `after EXT-X-SKIP:SKIPPED-SEGMENTS=${pl.skip.skippedSegments} with MEDIA-SEQUENCE ${pl.mediaSequence} the first listed segment is MSN ${firstSeg.msn}, but its URI names ${firstNum!.msn}`, firstSeg.uriLine)];
  }
  // A playlist clients address by MSN (blocking reload) must number exactly as its URIs do; one
  // without may name resources freely but must not renumber inside a run without a discontinuity.
  const addressed = attrText(pl.serverControl, 'CAN-BLOCK-RELOAD') === 'YES';
  let offset = named[0].n!.msn - named[0].s.msn;
  for (const { s, n } of named) {
    const here = n!.msn - s.msn;
    if (addressed ? here !== 0 : here !== offset && !s.discontinuity) {
      return [violation('MS-02', url, `segment at position MSN ${s.msn} (MEDIA-SEQUENCE ${pl.mediaSequence}) has a URI naming MSN ${n!.msn}`, s.uriLine)];
    }
    offset = here;
  }
  return [];
}

function checkSegments(pl: MediaPlaylist, url: string): Violation[] {
  const out: Violation[] = [];
  const td = pl.targetDuration;
  for (const seg of pl.segments) {
    // "Rounded to the nearest integer" (TD-02); an exact .5 is given the benefit of the doubt,
    // as Apple's "not more than 0.5 s over" (AAS 7.7) reads it.
    if (seg.extinf && td !== undefined && Number.isFinite(td) && seg.durationSec! > td + 0.5 + EPSILON) {
      out.push(violation('TD-02', url, `EXTINF ${seg.durationSec} rounds above TARGETDURATION ${td}`, seg.extinf));
    }
    if (seg.complete && !seg.extinf) out.push(violation('CK-02', url, 'segment URI without EXTINF', seg.uriLine));
    // In a delta update the segments before its first EXT-X-MAP take theirs from the skipped part (§4.4.5.2).
    if (!seg.map && !pl.skip && [seg.uri, ...seg.parts.map((p) => p.uri)].some((u) => u !== undefined && FMP4.test(u))) {
      out.push(violation('MAP-02', url, `fMP4 segment MSN ${seg.msn} without EXT-X-MAP`, seg.uriLine ?? seg.parts[0]?.line));
    }
  }
  for (const tag of pl.danglingTags) {
    out.push(violation('CK-02', url, `#${tag.tag} applies to no segment: no segment or part follows it`, tag));
  }
  return [...out, ...checkUriNumbers(pl, url)];
}

function checkServerControl(pl: MediaPlaylist, url: string): Violation[] {
  const out: Violation[] = [];
  const sc = pl.serverControl;
  const scLine = pl.tags.get('EXT-X-SERVER-CONTROL')?.[0];
  const td = pl.targetDuration;
  const partInfLine = pl.tags.get('EXT-X-PART-INF')?.[0];
  const holdBack = attrNumber(sc, 'HOLD-BACK');
  if (holdBack !== undefined && td !== undefined && !(holdBack >= 3 * td - EPSILON)) {
    out.push(violation('SC-02', url, `HOLD-BACK ${holdBack} < 3 × TARGETDURATION ${td}`, scLine));
  }
  const canSkipUntil = attrNumber(sc, 'CAN-SKIP-UNTIL');
  if (canSkipUntil !== undefined && td !== undefined && !(canSkipUntil >= 6 * td - EPSILON)) {
    out.push(violation('SC-05', url, `CAN-SKIP-UNTIL ${canSkipUntil} < 6 × TARGETDURATION ${td}`, scLine));
  }
  if (attrText(sc, 'CAN-SKIP-DATERANGES') === 'YES' && canSkipUntil === undefined) {
    out.push(violation('SC-06', url, 'CAN-SKIP-DATERANGES=YES without CAN-SKIP-UNTIL', scLine));
  }
  if (partInfLine) {
    const partHoldBack = attrNumber(sc, 'PART-HOLD-BACK');
    const partTarget = pl.partTargetSec;
    if (partHoldBack === undefined) out.push(violation('SC-03', url, 'EXT-X-PART-INF without PART-HOLD-BACK in EXT-X-SERVER-CONTROL', scLine ?? partInfLine));
    else if (partTarget !== undefined && !(partHoldBack >= 3 * partTarget - EPSILON)) {
      out.push(violation('SC-04', url, `PART-HOLD-BACK ${partHoldBack} < 3 × PART-TARGET ${partTarget}`, scLine));
    }
    if (!(partTarget! > 0)) out.push(violation('PI-01', url, 'EXT-X-PART-INF without a valid PART-TARGET', partInfLine));
  } else if (hasParts(pl)) {
    out.push(violation('PI-01', url, 'EXT-X-PART tags without EXT-X-PART-INF', pl.tags.get('EXT-X-PART')![0]));
  }
  return out;
}

function checkParts(pl: MediaPlaylist, url: string): Violation[] {
  const out: Violation[] = [];
  const target = pl.partTargetSec;
  const bounded = target !== undefined && target > 0;
  for (const seg of pl.segments) {
    const firstPart = seg.parts[0];
    if (firstPart) {
      for (const tag of seg.tags) {
        if (BEFORE_FIRST_PART.has(tag.tag) && tag.number > firstPart.line.number) {
          out.push(violation('PT-07', url, `#${tag.tag} of MSN ${seg.msn} after its first part (line ${firstPart.line.number})`, tag));
        }
      }
    }
    seg.parts.forEach((p, i) => {
      if (p.uri === undefined || !p.attrs.values.get('URI')?.quoted) out.push(violation('PT-01', url, 'EXT-X-PART without a quoted URI', p.line));
      if (p.durationSec === undefined || Number.isNaN(p.durationSec)) {
        out.push(violation('PT-01', url, 'EXT-X-PART without a valid DURATION', p.line));
        return;
      }
      if (bounded && p.durationSec > target + EPSILON) {
        out.push(violation('PT-02', url, `part DURATION ${p.durationSec} > PART-TARGET ${target}`, p.line));
      }
      const next = seg.parts[i + 1];
      // The last part of the parent still being produced may turn out to be its final part: it
      // is judged in a later reload, once a part follows it or its parent completes.
      const finalOfParent = next === undefined && seg.complete;
      const exempt = p.independent || p.gap || next?.gap || finalOfParent || (next === undefined && !seg.complete);
      if (bounded && !exempt && p.durationSec < 0.85 * target - EPSILON) {
        out.push(violation('PT-03', url, `part DURATION ${p.durationSec} < 0.85 × PART-TARGET ${target} (${(0.85 * target).toFixed(4)}) and not INDEPENDENT, GAP or the final part of its parent`, p.line));
      }
      const named = p.uri === undefined ? undefined : numberFromUri(p.uri);
      if (named?.part !== undefined && (named.msn !== seg.msn || named.part !== i)) {
        out.push(violation('PT-08', url, `part ${i} of MSN ${seg.msn} (by position) has a URI naming part ${named.part} of MSN ${named.msn}`, p.line));
      }
    });
    out.push(...checkPartSum(seg, url));
  }
  return out;
}

/** Σ part DURATION ≈ EXTINF for a complete parent whose parts are listed (PT-09), 1 ms per part. */
function checkPartSum(seg: MediaSegment, url: string): Violation[] {
  if (!seg.complete || seg.parts.length === 0 || seg.durationSec === undefined || Number.isNaN(seg.durationSec)) return [];
  const sum = seg.parts.reduce((s, p) => s + (p.durationSec ?? NaN), 0);
  if (Number.isNaN(sum)) return [];
  const slack = 0.001 * seg.parts.length + 1e-6;
  return Math.abs(sum - seg.durationSec) > slack
    ? [violation('PT-09', url, `the ${seg.parts.length} parts of MSN ${seg.msn} add up to ${sum.toFixed(4)} s, EXTINF says ${seg.durationSec}`, seg.extinf)]
    : [];
}

/** The playlist's newest media is a gap: its last segment carries EXT-X-GAP or its last part GAP=YES. */
function endsInGap(pl: MediaPlaylist): boolean {
  const last = pl.segments[pl.segments.length - 1];
  if (!last) return false;
  const lastPart = last.parts[last.parts.length - 1];
  return lastPart ? lastPart.gap : last.tags.some((l) => l.tag === 'EXT-X-GAP');
}

/** GAP-01: a segment marked EXT-X-GAP has no media, so none of its parts can have any. */
function checkGaps(pl: MediaPlaylist, url: string): Violation[] {
  const out: Violation[] = [];
  for (const seg of pl.segments) {
    const gapTag = seg.tags.find((l) => l.tag === 'EXT-X-GAP');
    if (gapTag && seg.parts.some((p) => !p.gap)) out.push(violation('GAP-01', url, `MSN ${seg.msn} carries EXT-X-GAP but lists parts without GAP=YES`, gapTag));
  }
  return out;
}

function checkPreloadHints(pl: MediaPlaylist, url: string): Violation[] {
  const out: Violation[] = [];
  const seen = new Set<string>();
  for (const h of pl.preloadHints) {
    if (h.type !== 'PART' && h.type !== 'MAP') out.push(violation('PH-01', url, `EXT-X-PRELOAD-HINT TYPE ${JSON.stringify(h.type)} is not PART or MAP`, h.line));
    if (h.uri === undefined) out.push(violation('PH-01', url, 'EXT-X-PRELOAD-HINT without URI', h.line));
    if (pl.endList) out.push(violation('PH-03', url, 'EXT-X-PRELOAD-HINT in a playlist with EXT-X-ENDLIST', h.line));
    if (h.type !== undefined && seen.has(h.type)) out.push(violation('PH-04', url, `a second EXT-X-PRELOAD-HINT of TYPE ${h.type}`, h.line));
    if (h.type !== undefined) seen.add(h.type);
  }
  // Ending in a gap (no input on air), the next part is no media a player should load: no hint (nextPartOf in media-playlist.ts).
  if (hasParts(pl) && !pl.endList && !seen.has('PART') && !endsInGap(pl)) {
    out.push(violation('PH-05', url, 'a live playlist with parts but no EXT-X-PRELOAD-HINT TYPE=PART for the next part'));
  }
  return out;
}

/**
 * Seconds from the end of each listed complete segment to the end of the playlist's last
 * (parent) segment, and the span of everything listed (where the last skipped segment ends).
 */
function endDistances(pl: MediaPlaylist): { complete: { seg: MediaSegment; fromEnd: number }[]; listedSpan: number } {
  let fromEnd = 0;
  const complete: { seg: MediaSegment; fromEnd: number }[] = [];
  for (let i = pl.segments.length - 1; i >= 0; i--) {
    const seg = pl.segments[i];
    if (seg.complete) complete.push({ seg, fromEnd });
    fromEnd += seg.complete ? seg.durationSec ?? 0 : seg.parts.reduce((s, p) => s + (p.durationSec ?? 0), 0);
  }
  return { complete: complete.reverse(), listedSpan: fromEnd };
}

function checkDeltaUpdate(pl: MediaPlaylist, url: string): Violation[] {
  const out: Violation[] = [];
  const asked = requestedSkip(url);
  const skipUntil = attrNumber(pl.serverControl, 'CAN-SKIP-UNTIL');
  const skip = pl.skip;
  if (skip) {
    if (skip.skippedSegments === undefined || Number.isNaN(skip.skippedSegments)) {
      out.push(violation('SK-01', url, 'EXT-X-SKIP without a decimal-integer SKIPPED-SEGMENTS', skip.line));
    }
    if (!(pl.version! >= 9)) out.push(violation('SK-03', url, `EXT-X-SKIP with EXT-X-VERSION ${pl.version ?? 'absent'} (needs 9)`, skip.line));
    if (!asked) out.push(violation('DU-01', url, 'a delta update (EXT-X-SKIP) answers a request without _HLS_skip', skip.line));
    if (pl.endList || skipUntil === undefined) out.push(violation('DU-05', url, `EXT-X-SKIP in a playlist ${pl.endList ? 'with EXT-X-ENDLIST' : 'without CAN-SKIP-UNTIL'}`, skip.line));
  }
  if (!asked || skipUntil === undefined || pl.endList) return out;
  const { complete, listedSpan } = endDistances(pl);
  const oneSegment = pl.targetDuration ?? 0;
  // ±1 segment of tolerance both ways (how "further than the Skip Boundary" is measured is not specified).
  const stillSkippable = complete.filter((d) => d.fromEnd > skipUntil + EPSILON);
  if (stillSkippable.length > 1) {
    out.push(violation('DU-01', url, `_HLS_skip asked, but ${stillSkippable.length} listed segments (MSN ${stillSkippable[0].seg.msn}…) end further than CAN-SKIP-UNTIL ${skipUntil} s from the end`, skip?.line ?? stillSkippable[0].seg.uriLine));
  }
  if (skip && (skip.skippedSegments ?? 0) > 0) {
    if (listedSpan < skipUntil - oneSegment - EPSILON) {
      out.push(violation('DU-02', url, `skipped segments reach to ${listedSpan.toFixed(3)} s from the end, inside CAN-SKIP-UNTIL ${skipUntil} s by more than a segment`, skip.line));
    }
  }
  return out;
}

function checkReportSyntax(pl: MediaPlaylist, url: string): Violation[] {
  const out: Violation[] = [];
  for (const r of pl.renditionReports) {
    if (r.uri === undefined) out.push(violation('RR-01', url, 'EXT-X-RENDITION-REPORT without URI', r.line));
    else if (/^[a-z][a-z0-9+.-]*:/i.test(r.uri) || r.uri.startsWith('//')) out.push(violation('RR-01', url, `report URI ${r.uri} is not relative`, r.line));
    const lastMsn = attrInteger(r.attrs, 'LAST-MSN');
    if (lastMsn !== undefined && Number.isNaN(lastMsn)) out.push(violation('RR-02', url, 'LAST-MSN is not a decimal-integer', r.line));
    const lastPart = attrInteger(r.attrs, 'LAST-PART');
    if (lastPart !== undefined && Number.isNaN(lastPart)) out.push(violation('RR-03', url, 'LAST-PART is not a decimal-integer', r.line));
  }
  return out;
}
