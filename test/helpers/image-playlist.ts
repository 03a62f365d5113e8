/**
 * A strict reader of HLS image media playlists (EXT-X-IMAGES-ONLY, EXT-X-TILES) and of the
 * EXT-X-IMAGE-STREAM-INF lines of a multivariant playlist: m3u8-parser does not know these
 * tags, so tests read them with this, and it throws on anything it does not expect.
 */

/** Parses an attribute list (RFC 8216 §4.2): quoted strings keep their commas. */
export function parseAttributes(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Z0-9-]+)=("[^"]*"|[^,]*)(?:,|$)/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < list.length && (m = re.exec(list))) out[m[1]] = m[2].startsWith('"') ? m[2].slice(1, -1) : m[2];
  if (re.lastIndex !== list.length) throw new Error(`malformed attribute list: ${list}`);
  return out;
}

export interface ImageSegment {
  programDateTimeMs: number;
  durationSec: number;
  tileWidth: number;
  tileHeight: number;
  columns: number;
  rows: number;
  /** Seconds one tile stands for (DURATION). */
  tileSec: number;
  /** EXT-X-DISCONTINUITY before it. */
  discontinuity: boolean;
  uri: string;
}

export interface ImagePlaylist {
  version: number;
  targetDurationSec: number;
  mediaSequence: number;
  discontinuitySequence?: number;
  serverControl?: Record<string, string>;
  partTargetSec?: number;
  ended: boolean;
  segments: ImageSegment[];
}

const HEADER_TAGS = new Set(['#EXT-X-VERSION', '#EXT-X-TARGETDURATION', '#EXT-X-SERVER-CONTROL', '#EXT-X-PART-INF', '#EXT-X-MEDIA-SEQUENCE',
  '#EXT-X-DISCONTINUITY-SEQUENCE', '#EXT-X-IMAGES-ONLY']);

export function parseImagePlaylist(text: string): ImagePlaylist {
  const lines = text.split('\n');
  if (lines[0] !== '#EXTM3U') throw new Error('missing #EXTM3U');
  if (lines.at(-1) !== '') throw new Error('no final newline');
  const header = new Map<string, string>();
  const segments: ImageSegment[] = [];
  let pending: Partial<ImageSegment> = {};
  let ended = false;
  for (const line of lines.slice(1, -1)) {
    if (ended) throw new Error(`${line} after EXT-X-ENDLIST`);
    const colon = line.indexOf(':');
    const tag = colon >= 0 ? line.slice(0, colon) : line, value = colon >= 0 ? line.slice(colon + 1) : '';
    if (HEADER_TAGS.has(tag)) {
      if (segments.length > 0 || Object.keys(pending).length > 0) throw new Error(`${tag} among the segments`);
      if (header.has(tag)) throw new Error(`${tag} twice`);
      header.set(tag, value);
    } else if (tag === '#EXT-X-DISCONTINUITY' && value === '') {
      pending.discontinuity = true;
    } else if (tag === '#EXT-X-PROGRAM-DATE-TIME') {
      const t = Date.parse(value);
      if (!/Z$/.test(value) || Number.isNaN(t)) throw new Error(`bad PROGRAM-DATE-TIME ${value}`);
      pending.programDateTimeMs = t;
    } else if (tag === '#EXT-X-TILES') {
      const a = parseAttributes(value);
      const res = /^(\d+)x(\d+)$/.exec(a.RESOLUTION ?? ''), layout = /^(\d+)x(\d+)$/.exec(a.LAYOUT ?? '');
      if (!res || !layout || !(Number(a.DURATION) > 0)) throw new Error(`bad EXT-X-TILES ${value}`);
      Object.assign(pending, { tileWidth: +res[1], tileHeight: +res[2], columns: +layout[1], rows: +layout[2], tileSec: Number(a.DURATION) });
    } else if (tag === '#EXTINF') {
      const m = /^(\d+(?:\.\d+)?),$/.exec(value);
      if (!m) throw new Error(`bad EXTINF ${value}`);
      pending.durationSec = Number(m[1]);
    } else if (tag === '#EXT-X-ENDLIST') {
      ended = true;
    } else if (line.startsWith('#') || line === '') {
      throw new Error(`unexpected line ${JSON.stringify(line)}`);
    } else {
      const s = { discontinuity: false, ...pending, uri: line };
      for (const k of ['programDateTimeMs', 'durationSec', 'tileWidth', 'tileSec'] as const) if (s[k] === undefined) throw new Error(`segment ${line} without ${k}`);
      segments.push(s as ImageSegment);
      pending = {};
    }
  }
  if (!header.has('#EXT-X-IMAGES-ONLY')) throw new Error('missing EXT-X-IMAGES-ONLY');
  const num = (tag: string) => {
    const v = header.get(tag);
    if (v === undefined || !/^\d+$/.test(v)) throw new Error(`missing or bad ${tag}`);
    return Number(v);
  };
  const partInf = header.get('#EXT-X-PART-INF');
  const discontinuitySequence = header.has('#EXT-X-DISCONTINUITY-SEQUENCE') ? num('#EXT-X-DISCONTINUITY-SEQUENCE') : undefined;
  const sc = header.get('#EXT-X-SERVER-CONTROL');
  return {
    version: num('#EXT-X-VERSION'), targetDurationSec: num('#EXT-X-TARGETDURATION'), mediaSequence: num('#EXT-X-MEDIA-SEQUENCE'), discontinuitySequence,
    serverControl: sc === undefined ? undefined : parseAttributes(sc),
    partTargetSec: partInf === undefined ? undefined : Number(parseAttributes(partInf)['PART-TARGET']),
    ended, segments,
  };
}

/** The EXT-X-IMAGE-STREAM-INF lines of a multivariant playlist, as attribute maps. */
export function imageStreams(multivariant: string): Record<string, string>[] {
  return multivariant.split('\n').filter((l) => l.startsWith('#EXT-X-IMAGE-STREAM-INF:')).map((l) => parseAttributes(l.slice(24)));
}
