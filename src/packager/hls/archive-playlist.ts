/**
 * Catchup playlists: a pure function from archived segments to an EVENT or VOD media playlist.
 * Every segment carries PROGRAM-DATE-TIME; wherever the archive has a hole (the publisher was
 * away, the disk was full) or the encoding changes, EXT-X-DISCONTINUITY says so, so a player
 * never jumps silently.
 */
import { fmtSec, isoTime } from './media-playlist.js';

export interface ArchivePlaylistSegment {
  msn: number;
  initId: number;
  discontinuity: boolean;
  programDateTimeMs: number;
  durationMs: number;
}

export interface ArchivePlaylistOptions<S extends ArchivePlaylistSegment = ArchivePlaylistSegment> {
  /** VOD (closed range, with ENDLIST) or EVENT (a range still growing: the channel is live). */
  type: 'VOD' | 'EVENT';
  /** At least the channel's target duration; raised to the longest segment's rounded duration (TD-01). */
  minTargetDurationSec: number;
  initUri: (initId: number) => string;
  /** URI of a segment relative to the playlist, without query. */
  segmentUri: (seg: S) => string;
  /** Query string carried onto every URI (tokens), including its leading '?', or ''. */
  querySuffix: string;
}

/** Segments per yielded piece: a 24-hour playlist (43 200 segments) comes out in ~90 pieces. */
const PIECE = 500;

/**
 * The playlist text in pieces of a few hundred segments, so a caller serving a long range can
 * give the event loop back between pieces (a 24-hour range takes a few hundred ms in all).
 */
export function* renderArchivePlaylistPieces<S extends ArchivePlaylistSegment>(segs: readonly S[], o: ArchivePlaylistOptions<S>): Generator<string> {
  const q = o.querySuffix;
  let td = o.minTargetDurationSec;
  for (const s of segs) td = Math.max(td, Math.round(s.durationMs / 1000));
  const out = ['#EXTM3U', '#EXT-X-VERSION:6', `#EXT-X-TARGETDURATION:${td}`, `#EXT-X-PLAYLIST-TYPE:${o.type}`,
    // No EXT-X-INDEPENDENT-SEGMENTS: see multivariant-playlist.ts.
    `#EXT-X-MEDIA-SEQUENCE:${segs[0]?.msn ?? 0}`];
  let prev: ArchivePlaylistSegment | undefined;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i];
    if (prev && (s.discontinuity || s.msn !== prev.msn + 1 || s.initId !== prev.initId)) out.push('#EXT-X-DISCONTINUITY');
    if (!prev || s.initId !== prev.initId) out.push(`#EXT-X-MAP:URI="${o.initUri(s.initId)}${q}"`);
    out.push(`#EXT-X-PROGRAM-DATE-TIME:${isoTime(s.programDateTimeMs)}`, `#EXTINF:${fmtSec(s.durationMs)},`, `${o.segmentUri(s)}${q}`);
    prev = s;
    if ((i + 1) % PIECE === 0) yield out.splice(0).join('\n') + '\n';
  }
  if (o.type === 'VOD') out.push('#EXT-X-ENDLIST');
  yield out.join('\n') + '\n';
}

/** The whole playlist at once (tests, short ranges). */
export function renderArchivePlaylist<S extends ArchivePlaylistSegment>(segs: readonly S[], o: ArchivePlaylistOptions<S>): string {
  return [...renderArchivePlaylistPieces(segs, o)].join('');
}
