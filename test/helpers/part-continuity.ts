/**
 * Checks an LL-HLS media playlist update by update, as a player following it would need it to
 * be: MSNs that never go back and name their segments, complete segments that keep their
 * EXTINF and PROGRAM-DATE-TIME, and parts that, once listed, stay listed in their segment (more
 * may follow) until that segment's parts leave the playlist, oldest segment first (§4.4.4.9:
 * EXT-X-PART tags of segments older than a few target durations may go). Feed it every playlist
 * a client receives (full playlists, not delta updates).
 */

export interface ListedPart { uri: string; duration: number }
export interface ListedSegment {
  msn: number;
  parts: ListedPart[];
  /** Listed with EXTINF and a URI; false for the open segment (parts only). */
  complete: boolean;
  duration?: number;
  uri?: string;
  pdt?: string;
  discontinuity: boolean;
  map?: string;
}

/** The segments (and the open one) of a media playlist, with its preload hint. */
export function parseLivePlaylist(text: string): { first: number; segments: ListedSegment[]; hint?: { msn: number; part: number } } {
  let first = NaN, map: string | undefined, disc = false, pdt: string | undefined, duration: number | undefined;
  let parts: ListedPart[] = [];
  const segments: ListedSegment[] = [];
  let hint: { msn: number; part: number } | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) first = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-MAP:')) map = /URI="([^"]+)"/.exec(line)?.[1];
    else if (line === '#EXT-X-DISCONTINUITY') disc = true;
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pdt = line.slice(25);
    else if (line.startsWith('#EXT-X-PART:')) parts.push({ uri: /URI="([^"]+)"/.exec(line)![1], duration: Number(/DURATION=([\d.]+)/.exec(line)![1]) });
    else if (line.startsWith('#EXTINF:')) duration = parseFloat(line.slice(8));
    else if (line.startsWith('#EXT-X-PRELOAD-HINT:')) {
      const m = /\/(\d+)\.(\d+)\.m4s/.exec(line);
      if (m) hint = { msn: Number(m[1]), part: Number(m[2]) };
    } else if (line && !line.startsWith('#')) {
      segments.push({ msn: first + segments.length, parts, complete: true, duration, uri: line, pdt, discontinuity: disc, map });
      parts = []; disc = false; pdt = undefined; duration = undefined;
    }
  }
  if (parts.length) segments.push({ msn: first + segments.length, parts, complete: false, pdt, discontinuity: disc, map });
  return { first, segments, hint };
}

export class PartContinuity {
  readonly problems: string[] = [];
  /** MSNs of segments listed after EXT-X-DISCONTINUITY; the init segments listed. */
  readonly discontinuities = new Set<number>();
  readonly maps = new Set<string>();
  /** Complete segments listed with all their parts: the largest |Σ part durations − EXTINF|, s. */
  worstPartSumDiff = 0;
  firstMsn = NaN;
  lastMsn = NaN;
  private readonly seen = new Map<number, ListedSegment>();
  private readonly completed = new Set<number>();
  private lastFirst = -Infinity;

  /** Checks one playlist against everything seen before; returns its preload hint. */
  update(text: string): { msn: number; part: number } | undefined {
    const { first, segments, hint } = parseLivePlaylist(text);
    const problem = (p: string) => this.problems.push(p);
    if (first < this.lastFirst) problem(`media sequence went back ${this.lastFirst} ▶ ${first}`);
    this.lastFirst = first;
    if (Number.isNaN(this.firstMsn)) this.firstMsn = first;
    const listed = new Set(segments.map((x) => x.msn));
    for (const msn of this.seen.keys()) if (msn >= first && !listed.has(msn)) problem(`segment ${msn} listed before, missing now (media sequence ${first})`);
    let olderListParts = false; // a segment before this one in this playlist lists its parts
    for (const s of segments) {
      const prev = this.seen.get(s.msn);
      if (s.complete && !s.uri!.endsWith(`/${s.msn}.m4s`)) problem(`segment ${s.msn} listed as ${s.uri}`);
      s.parts.forEach((p, i) => { if (!p.uri.endsWith(`/${s.msn}.${i}.m4s`)) problem(`part ${i} of ${s.msn} listed as ${p.uri}`); });
      if (s.discontinuity) this.discontinuities.add(s.msn);
      if (s.map) this.maps.add(s.map);
      if (prev) {
        if (s.parts.length > 0) {
          if (prev.complete && prev.parts.length === 0) problem(`segment ${s.msn}: its parts are listed again after they had left`);
          const lost = prev.parts.filter((p, i) => s.parts[i]?.uri !== p.uri || s.parts[i].duration !== p.duration);
          if (lost.length) problem(`segment ${s.msn}: part(s) ${lost.map((p) => p.uri).join(' ')} no longer listed as before (now ${s.parts.map((p) => p.uri.split('/').pop()).join(' ') || 'none'})`);
        } else if (prev.parts.length > 0) {
          if (!s.complete) problem(`open segment ${s.msn} lost its parts`);
          else if (olderListParts) problem(`segment ${s.msn} lost its parts while an older segment still lists its own`);
        }
        if (prev.complete && (!s.complete || s.duration !== prev.duration || s.pdt !== prev.pdt)) {
          problem(`complete segment ${s.msn} changed: EXTINF ${prev.duration} ▶ ${s.duration}, PDT ${prev.pdt} ▶ ${s.pdt}`);
        }
        if (prev.complete && !s.complete) problem(`segment ${s.msn} listed complete, then open again`);
      }
      if (s.parts.length > 0) olderListParts = true;
      if (s.complete) {
        this.completed.add(s.msn);
        if (s.parts.some((p) => p.uri.endsWith(`/${s.msn}.0.m4s`))) {
          this.worstPartSumDiff = Math.max(this.worstPartSumDiff, Math.abs(s.parts.reduce((a, p) => a + p.duration, 0) - s.duration!));
        }
      }
      this.seen.set(s.msn, s);
      this.lastMsn = Math.max(Number.isNaN(this.lastMsn) ? -Infinity : this.lastMsn, s.msn);
    }
    return hint;
  }

  /** The problems, and the MSNs from the first to the last complete one never listed complete. */
  finish(): { problems: string[]; neverComplete: number[] } {
    const done = [...this.completed];
    const last = done.length ? Math.max(...done) : NaN;
    const neverComplete: number[] = [];
    for (let m = this.firstMsn; m <= last; m++) if (!this.completed.has(m)) neverComplete.push(m);
    return { problems: this.problems, neverComplete };
  }
}
