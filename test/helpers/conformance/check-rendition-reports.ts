/**
 * EXT-X-RENDITION-REPORT against the renditions themselves: one report per other rendition
 * (RR-06), each as fresh as the playlist carrying it (RR-04). Freshness is judged against what
 * the reported rendition's own playlist said in a response received before the request
 * carrying the report was sent, so the comparison can never blame the server for a race of
 * the client's making; one part of slack covers renditions produced a few ms apart (MV-02).
 */
import { attrInteger, attrText, type AttributeList } from './attributes.js';
import { comparePosition, lastCompleteSegment, listedParts, type MediaPlaylist } from './media-playlist.js';
import { violation, type Violation } from './rules.js';
import { playlistKey } from './urls.js';

/** What one response of a rendition said of its newest media. */
interface Sighting {
  receivedAt: number;
  lastComplete: number | undefined;
  /** Every listed part, in order. */
  parts: { msn: number; index: number }[];
}

/** Where each rendition's own playlist stood, response by response (a few kept per rendition). */
export class RenditionBoard {
  private readonly sightings = new Map<string, Sighting[]>();

  record(key: string, pl: MediaPlaylist, receivedAt: number): void {
    const list = this.sightings.get(key) ?? [];
    list.push({ receivedAt, lastComplete: lastCompleteSegment(pl)?.msn, parts: listedParts(pl).map((p) => ({ msn: p.msn, index: p.index })) });
    if (list.length > 20) list.shift();
    this.sightings.set(key, list);
  }

  /** The newest sighting received at or before `time`. */
  before(key: string, time: number): Sighting | undefined {
    const list = this.sightings.get(key) ?? [];
    for (let i = list.length - 1; i >= 0; i--) if (list[i].receivedAt <= time) return list[i];
    return undefined;
  }
}

/** The rendition set and timing a response's reports are judged in. */
export interface ReportContext {
  /** Keys (playlistKey) of every rendition of the multivariant playlist, this one included. */
  renditions: readonly string[];
  /** Reports for these are allowed but not required (I-frame playlists, RR-06). */
  optional: readonly string[];
  board: RenditionBoard;
  /** When the request for this response was sent (same clock as the board's receivedAt). */
  sentAt: number;
}

/** RR-06 (one report per other rendition) and RR-04 / RR-03 (fresh, complete) for one response. */
export function checkRenditionReports(pl: MediaPlaylist, url: string, ctx: ReportContext): Violation[] {
  // The reports belong to live low-latency playlists (B.1); an ended one drops them.
  if (pl.endList || attrText(pl.serverControl, 'CAN-BLOCK-RELOAD') !== 'YES') return [];
  const out: Violation[] = [];
  const self = playlistKey(url);
  const expected = new Set(ctx.renditions.filter((k) => k !== self));
  const seen = new Set<string>();
  for (const r of pl.renditionReports) {
    if (r.uri === undefined) continue;
    const key = playlistKey(r.uri, url);
    if (seen.has(key)) out.push(violation('RR-06', url, `a second report for ${key}`, r.line));
    seen.add(key);
    if (!expected.has(key) && !ctx.optional.includes(key)) {
      out.push(violation('RR-06', url, `a report for ${key}, which is ${key === self ? 'this playlist itself' : 'not a rendition of the multivariant playlist'}`, r.line));
      continue;
    }
    const stale = staleness(pl, r.attrs, ctx.board.before(key, ctx.sentAt));
    if (stale) out.push(violation(stale.rule, url, `report for ${r.uri}: ${stale.message}`, r.line));
  }
  for (const key of expected) if (!seen.has(key)) out.push(violation('RR-06', url, `no EXT-X-RENDITION-REPORT for ${key}`));
  return out;
}

/** How far a report lags what the rendition's own playlist had already said, if beyond the slack. */
function staleness(pl: MediaPlaylist, attrs: AttributeList, own: Sighting | undefined): { rule: 'RR-03' | 'RR-04'; message: string } | undefined {
  if (!own) return undefined;
  // An attribute equal to this playlist's own value may be left out (RR-05).
  const mine = listedParts(pl);
  const myLast = mine[mine.length - 1];
  const lastMsn = attrInteger(attrs, 'LAST-MSN') ?? (myLast ? myLast.msn : lastCompleteSegment(pl)?.msn);
  if (lastMsn === undefined || Number.isNaN(lastMsn)) return undefined;
  if (own.parts.length === 0) {
    const behind = (own.lastComplete ?? -Infinity) - lastMsn;
    return behind > 0 ? { rule: 'RR-04', message: `LAST-MSN=${lastMsn}, but that playlist already listed MSN ${own.lastComplete}` } : undefined;
  }
  const lastPart = attrInteger(attrs, 'LAST-PART') ?? (myLast?.msn === lastMsn ? myLast.index : undefined);
  if (lastPart === undefined) return { rule: 'RR-03', message: 'no LAST-PART, but that rendition has parts' };
  if (Number.isNaN(lastPart)) return undefined;
  const position = { msn: lastMsn, index: lastPart };
  const behind = own.parts.filter((p) => comparePosition(p, position) > 0).length;
  const newest = own.parts[own.parts.length - 1];
  return behind > 1
    ? { rule: 'RR-04', message: `LAST-MSN=${lastMsn},LAST-PART=${lastPart} is ${behind} parts behind that playlist's own newest part ${newest.msn}.${newest.index}, received before this request` }
    : undefined;
}
