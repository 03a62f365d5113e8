/**
 * Reads a Multivariant Playlist (§4.4.6): the variants (EXT-X-STREAM-INF + the URI line after
 * it), the renditions (EXT-X-MEDIA), I-frame playlists and the image playlists of the Image
 * Media Playlist extension (EXT-X-IMAGE-STREAM-INF, which Shaka and Roku read). Like
 * media-playlist.ts it records, it does not judge.
 */
import { attrText, type AttributeList } from './attributes.js';
import { lineAttributes, splitPlaylistLines, type PlaylistLine } from './lines.js';

/** A media playlist the multivariant playlist names, and how. */
export interface NamedPlaylist {
  kind: 'variant' | 'rendition' | 'i-frame' | 'image';
  line: PlaylistLine;
  attrs: AttributeList;
  /** As written (relative to the multivariant playlist); undefined when missing. */
  uri: string | undefined;
}

/** A Multivariant Playlist as read. */
export interface MultivariantPlaylist {
  lines: PlaylistLine[];
  tags: ReadonlyMap<string, PlaylistLine[]>;
  playlists: NamedPlaylist[];
}

/** Tags that only a Multivariant Playlist may hold (§4.4.6), plus EXT-X-IMAGE-STREAM-INF. */
export const MULTIVARIANT_TAGS: ReadonlySet<string> = new Set([
  'EXT-X-MEDIA', 'EXT-X-STREAM-INF', 'EXT-X-I-FRAME-STREAM-INF', 'EXT-X-SESSION-DATA', 'EXT-X-SESSION-KEY',
  'EXT-X-CONTENT-STEERING', 'EXT-X-IMAGE-STREAM-INF',
]);

/** Tags that only a Media Playlist may hold (§4.4.3-4.4.5). */
export const MEDIA_PLAYLIST_TAGS: ReadonlySet<string> = new Set([
  'EXT-X-TARGETDURATION', 'EXT-X-MEDIA-SEQUENCE', 'EXT-X-DISCONTINUITY-SEQUENCE', 'EXT-X-ENDLIST', 'EXT-X-PLAYLIST-TYPE',
  'EXT-X-I-FRAMES-ONLY', 'EXT-X-PART-INF', 'EXT-X-SERVER-CONTROL', 'EXTINF', 'EXT-X-BYTERANGE', 'EXT-X-DISCONTINUITY',
  'EXT-X-KEY', 'EXT-X-MAP', 'EXT-X-PROGRAM-DATE-TIME', 'EXT-X-GAP', 'EXT-X-BITRATE', 'EXT-X-PART', 'EXT-X-SKIP',
  'EXT-X-PRELOAD-HINT', 'EXT-X-RENDITION-REPORT', 'EXT-X-IMAGES-ONLY', 'EXT-X-TILES',
]);

/** Reads a Multivariant Playlist; never throws. */
export function readMultivariantPlaylist(text: string): MultivariantPlaylist {
  const lines = splitPlaylistLines(text);
  const tags = new Map<string, PlaylistLine[]>();
  const playlists: NamedPlaylist[] = [];
  let variant: NamedPlaylist | undefined;
  for (const line of lines) {
    if (line.kind === 'uri') {
      // The URI line of the EXT-X-STREAM-INF before it (§4.4.6.2).
      if (variant) variant.uri = line.text.trim();
      variant = undefined;
      continue;
    }
    if (line.kind !== 'tag') continue;
    tags.set(line.tag, [...(tags.get(line.tag) ?? []), line]);
    const attrs = lineAttributes(line);
    if (line.tag === 'EXT-X-STREAM-INF') {
      variant = { kind: 'variant', line, attrs, uri: undefined };
      playlists.push(variant);
    } else if (line.tag === 'EXT-X-MEDIA' && attrText(attrs, 'URI') !== undefined) {
      playlists.push({ kind: 'rendition', line, attrs, uri: attrText(attrs, 'URI') });
    } else if (line.tag === 'EXT-X-I-FRAME-STREAM-INF') {
      playlists.push({ kind: 'i-frame', line, attrs, uri: attrText(attrs, 'URI') });
    } else if (line.tag === 'EXT-X-IMAGE-STREAM-INF') {
      playlists.push({ kind: 'image', line, attrs, uri: attrText(attrs, 'URI') });
    }
  }
  return { lines, tags, playlists };
}
