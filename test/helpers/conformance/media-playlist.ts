/**
 * Reads a Media Playlist into segments and parts as RFC 8216bis defines them, written from the
 * spec and independent of the origin's renderer (src/packager), so the two cannot share a
 * misreading. It judges nothing: it records what is there, with line numbers, and the checks
 * (check-media.ts, check-reloads.ts) decide what is wrong. Malformed values come out as NaN or
 * undefined rather than exceptions.
 *
 * Structure (§3.2, §4.4.4): Media Segment tags apply to the next URI line; EXT-X-PART tags
 * before a URI line are the parts of that (parent) segment, indexed from 0 in order; parts
 * after the last URI line belong to the parent segment still being produced, which has no
 * EXTINF or URI yet. MSN = MEDIA-SEQUENCE + SKIPPED-SEGMENTS + position.
 */
import { attrInteger, attrNumber, attrText, type AttributeList } from './attributes.js';
import { lineAttributes, splitPlaylistLines, type PlaylistLine } from './lines.js';

/** An EXT-X-PART as listed. */
export interface MediaPart {
  /** The parent's MSN. */
  msn: number;
  /** Position among the parent's listed parts. */
  index: number;
  durationSec: number | undefined;
  uri: string | undefined;
  independent: boolean;
  gap: boolean;
  line: PlaylistLine;
  attrs: AttributeList;
}

/** A Media Segment as listed, or the parent segment still in progress (parts only). */
export interface MediaSegment {
  msn: number;
  /** Has EXTINF and a URI line; false for the parent still being produced (parts only). */
  complete: boolean;
  uri?: string;
  uriLine?: PlaylistLine;
  durationSec?: number;
  extinf?: PlaylistLine;
  parts: MediaPart[];
  /** Media Segment tags applied to it, in playlist order (EXTINF excluded). */
  tags: PlaylistLine[];
  discontinuity: boolean;
  /** EXT-X-DISCONTINUITY tags listed in this playlist up to and including this segment. */
  discontinuitiesSoFar: number;
  /** The EXT-X-MAP in force for it, if any is listed before it. */
  map?: { uri: string | undefined; line: PlaylistLine };
  programDateTime?: PlaylistLine;
}

/** An EXT-X-PRELOAD-HINT as listed. */
export interface PreloadHint {
  line: PlaylistLine;
  attrs: AttributeList;
  type: string | undefined;
  uri: string | undefined;
}

/** An EXT-X-RENDITION-REPORT as listed. */
export interface RenditionReportTag {
  line: PlaylistLine;
  attrs: AttributeList;
  uri: string | undefined;
}

/** A Media Playlist as read: header values, segments, hints, reports, and every tag line by name. */
export interface MediaPlaylist {
  lines: PlaylistLine[];
  /** Every occurrence of each tag, by name (`EXT-X-PART`). */
  tags: ReadonlyMap<string, PlaylistLine[]>;
  version?: number;
  /** NaN when present but not a decimal-integer. */
  targetDuration?: number;
  /** 0 when absent (§4.4.3.2). */
  mediaSequence: number;
  discontinuitySequence: number;
  serverControl?: AttributeList;
  partInf?: AttributeList;
  partTargetSec?: number;
  skip?: { line: PlaylistLine; attrs: AttributeList; skippedSegments: number | undefined };
  endList: boolean;
  playlistType?: string;
  iFramesOnly: boolean;
  /** EXT-X-IMAGES-ONLY: an image playlist of sprite sheets (the Image Media Playlist extension). */
  imagesOnly: boolean;
  /** Listed segments in order; the parent still being produced, if it has parts, last. */
  segments: MediaSegment[];
  /** Media Segment tags after the last segment and part, applying to nothing. */
  danglingTags: PlaylistLine[];
  preloadHints: PreloadHint[];
  renditionReports: RenditionReportTag[];
  /** Line where the first Media Segment begins (its first tag, part or URI line). */
  firstSegmentLine?: number;
}

/** Tags that apply to the next Media Segment (§4.4.4), plus EXT-X-TILES of image playlists. */
const MEDIA_SEGMENT_TAGS: ReadonlySet<string> = new Set([
  'EXTINF', 'EXT-X-BYTERANGE', 'EXT-X-DISCONTINUITY', 'EXT-X-KEY', 'EXT-X-MAP', 'EXT-X-PROGRAM-DATE-TIME',
  'EXT-X-GAP', 'EXT-X-BITRATE', 'EXT-X-TILES',
]);

function first(tags: Map<string, PlaylistLine[]>, name: string): PlaylistLine | undefined {
  return tags.get(name)?.[0];
}

function integerValue(line: PlaylistLine | undefined): number | undefined {
  if (!line) return undefined;
  return /^\d+$/.test(line.value ?? '') ? Number(line.value) : NaN;
}

/** EXTINF:<duration>,[<title>] → the duration, NaN when malformed. */
function extinfSeconds(line: PlaylistLine): number {
  const m = /^(\d+(?:\.\d*)?)\s*(?:,|$)/.exec(line.value ?? '');
  return m ? Number(m[1]) : NaN;
}

/** Reads a Media Playlist (full or delta update); never throws. */
export function readMediaPlaylist(text: string): MediaPlaylist {
  const lines = splitPlaylistLines(text);
  const tags = new Map<string, PlaylistLine[]>();
  for (const l of lines) if (l.kind === 'tag') tags.set(l.tag, [...(tags.get(l.tag) ?? []), l]);

  const skipLine = first(tags, 'EXT-X-SKIP');
  const skipAttrs = skipLine ? lineAttributes(skipLine) : undefined;
  const skippedSegments = skipAttrs ? attrInteger(skipAttrs, 'SKIPPED-SEGMENTS') : undefined;
  const partInfLine = first(tags, 'EXT-X-PART-INF');
  const partInf = partInfLine ? lineAttributes(partInfLine) : undefined;
  const serverControlLine = first(tags, 'EXT-X-SERVER-CONTROL');
  const mediaSequence = integerValue(first(tags, 'EXT-X-MEDIA-SEQUENCE'));
  const discontinuitySequence = integerValue(first(tags, 'EXT-X-DISCONTINUITY-SEQUENCE'));

  const pl: MediaPlaylist = {
    lines, tags,
    version: integerValue(first(tags, 'EXT-X-VERSION')),
    targetDuration: integerValue(first(tags, 'EXT-X-TARGETDURATION')),
    mediaSequence: Number.isFinite(mediaSequence) ? mediaSequence! : 0,
    discontinuitySequence: Number.isFinite(discontinuitySequence) ? discontinuitySequence! : 0,
    serverControl: serverControlLine ? lineAttributes(serverControlLine) : undefined,
    partInf,
    partTargetSec: attrNumber(partInf, 'PART-TARGET'),
    skip: skipLine ? { line: skipLine, attrs: skipAttrs!, skippedSegments } : undefined,
    endList: tags.has('EXT-X-ENDLIST'),
    playlistType: first(tags, 'EXT-X-PLAYLIST-TYPE')?.value,
    iFramesOnly: tags.has('EXT-X-I-FRAMES-ONLY'),
    imagesOnly: tags.has('EXT-X-IMAGES-ONLY'),
    segments: [], danglingTags: [], preloadHints: [], renditionReports: [],
  };
  readSegments(pl, Number.isFinite(skippedSegments) ? skippedSegments! : 0);
  return pl;
}

/** Walks the lines once, grouping tags and parts into segments (§3.2, §4.4.4). */
function readSegments(pl: MediaPlaylist, skipped: number): void {
  let pendingTags: PlaylistLine[] = [];
  let pendingExtinf: PlaylistLine | undefined;
  let pendingParts: MediaPart[] = [];
  let map: MediaSegment['map'];
  let discontinuities = 0;
  const nextMsn = () => pl.mediaSequence + skipped + pl.segments.length;
  const startSegmentAt = (n: number) => { pl.firstSegmentLine ??= n; };

  const close = (complete: boolean, uriLine?: PlaylistLine) => {
    const discontinuity = pendingTags.some((l) => l.tag === 'EXT-X-DISCONTINUITY');
    if (discontinuity) discontinuities++;
    const msn = nextMsn();
    for (const p of pendingParts) p.msn = msn;
    pl.segments.push({
      msn, complete, parts: pendingParts, tags: pendingTags, discontinuity, discontinuitiesSoFar: discontinuities, map,
      programDateTime: lastOf(pendingTags, (l) => l.tag === 'EXT-X-PROGRAM-DATE-TIME'),
      ...(complete ? { uri: uriLine!.text.trim(), uriLine, extinf: pendingExtinf, durationSec: pendingExtinf ? extinfSeconds(pendingExtinf) : undefined } : {}),
    });
    pendingTags = [];
    pendingParts = [];
    pendingExtinf = undefined;
  };

  for (const line of pl.lines) {
    if (line.kind === 'uri') {
      startSegmentAt(line.number);
      close(true, line);
    } else if (line.kind !== 'tag') {
      continue;
    } else if (line.tag === 'EXT-X-PART') {
      startSegmentAt(line.number);
      const attrs = lineAttributes(line);
      pendingParts.push({
        msn: NaN, index: pendingParts.length, durationSec: attrNumber(attrs, 'DURATION'), uri: attrText(attrs, 'URI'),
        independent: attrText(attrs, 'INDEPENDENT') === 'YES', gap: attrText(attrs, 'GAP') === 'YES', line, attrs,
      });
    } else if (MEDIA_SEGMENT_TAGS.has(line.tag)) {
      startSegmentAt(line.number);
      if (line.tag === 'EXTINF') pendingExtinf = line;
      else pendingTags.push(line);
      if (line.tag === 'EXT-X-MAP') map = { uri: attrText(lineAttributes(line), 'URI'), line };
    } else if (line.tag === 'EXT-X-PRELOAD-HINT') {
      const attrs = lineAttributes(line);
      pl.preloadHints.push({ line, attrs, type: attrText(attrs, 'TYPE'), uri: attrText(attrs, 'URI') });
    } else if (line.tag === 'EXT-X-RENDITION-REPORT') {
      const attrs = lineAttributes(line);
      pl.renditionReports.push({ line, attrs, uri: attrText(attrs, 'URI') });
    }
  }
  if (pendingParts.length > 0) {
    // The parent still being produced: its tags apply to it; an EXTINF without URI applies to nothing.
    if (pendingExtinf) pl.danglingTags.push(pendingExtinf);
    pendingExtinf = undefined;
    close(false);
  } else {
    pl.danglingTags.push(...pendingTags, ...(pendingExtinf ? [pendingExtinf] : []));
    pl.danglingTags.sort((a, b) => a.number - b.number);
  }
}

/** Every listed part, in playlist order. */
export function listedParts(pl: MediaPlaylist): MediaPart[] {
  return pl.segments.flatMap((s) => s.parts);
}

/** The last listed complete segment, if any. */
export function lastCompleteSegment(pl: MediaPlaylist): MediaSegment | undefined {
  return lastOf(pl.segments, (s) => s.complete);
}

/** The last element that satisfies `test` (Array.prototype.findLast is ES2023, past this build's target). */
function lastOf<T>(items: readonly T[], test: (item: T) => boolean): T | undefined {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i])) return items[i];
  return undefined;
}

/** Whether the playlist lists any EXT-X-PART. */
export function hasParts(pl: MediaPlaylist): boolean {
  return pl.tags.has('EXT-X-PART');
}

/** (msn, part) order: negative when a is before b. */
export function comparePosition(a: { msn: number; index: number }, b: { msn: number; index: number }): number {
  return a.msn !== b.msn ? a.msn - b.msn : a.index - b.index;
}
