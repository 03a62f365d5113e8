/**
 * The line level of a playlist (RFC 8216bis §4.1): each line is a tag (`#EXT…`), a comment
 * (any other `#` line), a URI, or blank. Nothing here knows what a tag means; the playlist
 * readers (media-playlist.ts, multivariant-playlist.ts) build on these lines, and every finding
 * points back at a line number.
 */
import { parseAttributeList, type AttributeList } from './attributes.js';

/** What a line is (§4.1). */
export type LineKind = 'tag' | 'uri' | 'comment' | 'blank';

/** One line of a playlist, as read. */
export interface PlaylistLine {
  /** 1-based, as an editor shows it. */
  number: number;
  text: string;
  kind: LineKind;
  /** For tags, the name without '#' (`EXT-X-PART`); '' otherwise. */
  tag: string;
  /** For tags, what follows the first ':' (undefined for a tag without one). */
  value: string | undefined;
}

/** Tags whose value is an attribute list (§4.2) in the tags this checker reads. */
const ATTRIBUTE_LIST_TAGS = new Set([
  'EXT-X-SERVER-CONTROL', 'EXT-X-PART-INF', 'EXT-X-PART', 'EXT-X-PRELOAD-HINT', 'EXT-X-RENDITION-REPORT', 'EXT-X-SKIP',
  'EXT-X-MAP', 'EXT-X-KEY', 'EXT-X-DATERANGE', 'EXT-X-STREAM-INF', 'EXT-X-I-FRAME-STREAM-INF', 'EXT-X-MEDIA',
  'EXT-X-IMAGE-STREAM-INF', 'EXT-X-TILES', 'EXT-X-START', 'EXT-X-SESSION-DATA', 'EXT-X-SESSION-KEY',
]);

/** Splits playlist text into lines (LF or CRLF); a final newline does not make a blank last line. */
export function splitPlaylistLines(text: string): PlaylistLine[] {
  const raw = text.split(/\r?\n/);
  if (raw.length > 1 && raw[raw.length - 1] === '') raw.pop();
  return raw.map((line, i) => {
    const number = i + 1;
    if (line.trim() === '') return { number, text: line, kind: 'blank', tag: '', value: undefined };
    if (line.startsWith('#EXT')) {
      const colon = line.indexOf(':');
      return colon < 0
        ? { number, text: line, kind: 'tag', tag: line.slice(1), value: undefined }
        : { number, text: line, kind: 'tag', tag: line.slice(1, colon), value: line.slice(colon + 1) };
    }
    if (line.startsWith('#')) return { number, text: line, kind: 'comment', tag: '', value: undefined };
    return { number, text: line, kind: 'uri', tag: '', value: undefined };
  });
}

/** The attribute list of a tag line (empty list for a tag without a value). */
export function lineAttributes(line: PlaylistLine): AttributeList {
  return parseAttributeList(line.value ?? '');
}

/** Whether the tag's value is an attribute list, so its syntax can be checked (PL-04). */
export function hasAttributeList(line: PlaylistLine): boolean {
  return line.kind === 'tag' && ATTRIBUTE_LIST_TAGS.has(line.tag);
}

/** The lines before and after line `at` (1-based), numbered, that line marked with '>': the excerpt of a finding. */
export function excerptAround(lines: readonly PlaylistLine[], at: number): string {
  return lines.slice(Math.max(0, at - 4), at + 1)
    .map((l) => `${l.number === at ? '>' : ' '}${String(l.number).padStart(5)}  ${l.text}`).join('\n');
}
