/**
 * Rules across successive reloads of one Media Playlist (§6.2.1 lists the only changes a
 * server may make: append, remove from the front, drop old EXT-X-PART tags, bump the sequence
 * numbers, add ENDLIST). Feed every response of one playlist, full or delta, in the order they
 * were received; each call returns what that response broke against the ones before it.
 */
import { canonicalAttributes } from './attributes.js';
import { excerptAround } from './lines.js';
import { comparePosition, lastCompleteSegment, listedParts, type MediaPlaylist, type MediaSegment } from './media-playlist.js';
import { violation, type Violation } from './rules.js';

interface SeenSegment {
  uri: string;
  durationSec: number | undefined;
  programDateTime: string | undefined;
  mapUri: string | undefined;
  /** Discontinuity sequence number, when the response it came from let it be known. */
  dsn: number | undefined;
  url: string;
}

interface SeenPart {
  uri: string | undefined;
  durationSec: number | undefined;
  url: string;
}

interface PendingHint {
  /** The last part listed when the hint was given; undefined when no part was listed. */
  after: { msn: number; index: number } | undefined;
  uri: string;
  url: string;
  line: { number: number; text: string };
  /** The hint in its own response (the violation is reported later, against another one). */
  excerpt: string;
}

interface Previous {
  mediaSequence: number;
  discontinuitySequence: number;
  targetDuration: number | undefined;
  serverControl: string;
  partInf: string;
  endList: boolean;
  text: string;
  lastComplete: number | undefined;
  lastPart: { msn: number; index: number } | undefined;
  url: string;
}

const resolve = (uri: string | undefined, base: string): string | undefined => (uri === undefined ? undefined : new URL(uri, base).href);

/** What one playlist said so far, response by response; `add` checks the next response against it. */
export class ReloadHistory {
  private previous: Previous | undefined;
  private readonly segments = new Map<number, SeenSegment>();
  private readonly parts = new Map<string, SeenPart>();
  private pendingHints: PendingHint[] = [];

  /** Checks one response (`url` as requested) against the ones before it and remembers it. */
  add(pl: MediaPlaylist, text: string, url: string): Violation[] {
    const out = [
      ...this.checkHeader(pl, text, url),
      ...this.checkSegments(pl, url),
      ...this.checkParts(pl, url),
      ...this.checkHints(pl, url),
    ];
    const parts = listedParts(pl);
    const last = parts[parts.length - 1];
    this.previous = {
      mediaSequence: pl.mediaSequence, discontinuitySequence: pl.discontinuitySequence, targetDuration: pl.targetDuration,
      serverControl: canonicalAttributes(pl.serverControl), partInf: canonicalAttributes(pl.partInf), endList: pl.endList, text,
      lastComplete: lastCompleteSegment(pl)?.msn, lastPart: last && { msn: last.msn, index: last.index }, url,
    };
    return out;
  }

  private checkHeader(pl: MediaPlaylist, text: string, url: string): Violation[] {
    const prev = this.previous;
    if (!prev) return [];
    const out: Violation[] = [];
    const at = (tag: string) => pl.tags.get(tag)?.[0];
    const was = (v: unknown) => `(was ${String(v)} at ${prev.url})`;
    if (pl.mediaSequence < prev.mediaSequence) {
      out.push(violation('MS-02', url, `MEDIA-SEQUENCE went back to ${pl.mediaSequence} ${was(prev.mediaSequence)}`, at('EXT-X-MEDIA-SEQUENCE')));
    }
    if (pl.discontinuitySequence < prev.discontinuitySequence) {
      out.push(violation('MS-03', url, `DISCONTINUITY-SEQUENCE went back to ${pl.discontinuitySequence} ${was(prev.discontinuitySequence)}`, at('EXT-X-DISCONTINUITY-SEQUENCE')));
    }
    if (pl.targetDuration !== prev.targetDuration) {
      out.push(violation('TD-03', url, `TARGETDURATION changed to ${pl.targetDuration} ${was(prev.targetDuration)}`, at('EXT-X-TARGETDURATION')));
    }
    const sc = canonicalAttributes(pl.serverControl), partInf = canonicalAttributes(pl.partInf);
    if (sc !== prev.serverControl) out.push(violation('SC-08', url, `SERVER-CONTROL changed to ${sc} ${was(prev.serverControl)}`, at('EXT-X-SERVER-CONTROL')));
    if (partInf !== prev.partInf) out.push(violation('SC-08', url, `PART-INF changed to ${partInf} ${was(prev.partInf)}`, at('EXT-X-PART-INF')));
    if (prev.endList && text !== prev.text) out.push(violation('AV-02', url, `the playlist changed after EXT-X-ENDLIST ${was('ended')}`));
    const lastComplete = lastCompleteSegment(pl)?.msn;
    if (prev.lastComplete !== undefined && (lastComplete === undefined || lastComplete < prev.lastComplete)) {
      out.push(violation('PT-14', url, `the last segment is now MSN ${lastComplete} ${was(`MSN ${prev.lastComplete}`)}: segments removed from the end`));
    }
    const parts = listedParts(pl);
    const lastPart = parts[parts.length - 1];
    // An ended playlist may drop its EXT-X-PART tags altogether (they are no longer at a live edge).
    if (prev.lastPart && !pl.endList && (!lastPart || comparePosition(lastPart, prev.lastPart) < 0)) {
      out.push(violation('PT-14', url, `the last part is now ${lastPart ? `${lastPart.msn}.${lastPart.index}` : 'none'} ${was(`${prev.lastPart.msn}.${prev.lastPart.index}`)}: parts removed from the end`, lastPart?.line));
    }
    return out;
  }

  /** The discontinuity sequence number of each listed segment, where this response tells it. */
  private discontinuityNumbers(pl: MediaPlaylist): Map<MediaSegment, number> {
    const out = new Map<MediaSegment, number>();
    let base = pl.discontinuitySequence;
    if (pl.skip) {
      // A delta update drops the skipped segments' DISCONTINUITY tags without touching
      // DISCONTINUITY-SEQUENCE (§4.4.5.2): count on from the segment before, if it was seen.
      const before = pl.segments[0] && this.segments.get(pl.segments[0].msn - 1)?.dsn;
      if (before === undefined) return out;
      base = before;
    }
    for (const seg of pl.segments) out.set(seg, base + seg.discontinuitiesSoFar);
    return out;
  }

  private checkSegments(pl: MediaPlaylist, url: string): Violation[] {
    const out: Violation[] = [];
    const dsns = this.discontinuityNumbers(pl);
    for (const seg of pl.segments) {
      if (!seg.complete) continue;
      const now: SeenSegment = {
        uri: resolve(seg.uri, url)!, durationSec: seg.durationSec, programDateTime: seg.programDateTime?.value,
        mapUri: resolve(seg.map?.uri, url), dsn: dsns.get(seg), url,
      };
      const seen = this.segments.get(seg.msn);
      if (!seen) {
        this.segments.set(seg.msn, now);
        continue;
      }
      const where = `in ${seen.url}`;
      if (now.uri !== seen.uri) out.push(violation('MS-04', url, `MSN ${seg.msn} is ${now.uri}, was ${seen.uri} ${where}`, seg.uriLine));
      if (now.durationSec !== seen.durationSec) out.push(violation('MS-04', url, `EXTINF of MSN ${seg.msn} is ${now.durationSec}, was ${seen.durationSec} ${where}`, seg.extinf));
      if (now.programDateTime !== undefined && seen.programDateTime !== undefined && now.programDateTime !== seen.programDateTime) {
        out.push(violation('AV-02', url, `PROGRAM-DATE-TIME of MSN ${seg.msn} is ${now.programDateTime}, was ${seen.programDateTime} ${where}`, seg.programDateTime));
      }
      if (now.mapUri !== undefined && seen.mapUri !== undefined && now.mapUri !== seen.mapUri) {
        out.push(violation('AV-02', url, `EXT-X-MAP of MSN ${seg.msn} is ${now.mapUri}, was ${seen.mapUri} ${where}`, seg.map?.line));
      }
      if (now.dsn !== undefined && seen.dsn !== undefined && now.dsn !== seen.dsn) {
        out.push(violation('MS-03', url, `MSN ${seg.msn} has discontinuity sequence number ${now.dsn}, had ${seen.dsn} ${where}`, seg.uriLine));
      }
      seen.programDateTime ??= now.programDateTime;
      seen.mapUri ??= now.mapUri;
      seen.dsn ??= now.dsn;
    }
    return out;
  }

  private checkParts(pl: MediaPlaylist, url: string): Violation[] {
    const out: Violation[] = [];
    for (const p of listedParts(pl)) {
      const key = `${p.msn}.${p.index}`;
      const now: SeenPart = { uri: resolve(p.uri, url), durationSec: p.durationSec, url };
      const seen = this.parts.get(key);
      if (!seen) {
        this.parts.set(key, now);
        continue;
      }
      if (now.uri !== seen.uri) out.push(violation('AV-02', url, `part ${key} is ${now.uri}, was ${seen.uri} in ${seen.url}`, p.line));
      if (now.durationSec !== seen.durationSec) out.push(violation('AV-02', url, `part ${key} DURATION is ${now.durationSec}, was ${seen.durationSec} in ${seen.url}`, p.line));
    }
    return out;
  }

  /**
   * PH-02: the part hinted at reload k must be the part that follows, in a later reload, the
   * last part listed at reload k. Checked once a later reload lists a part after that one.
   */
  private checkHints(pl: MediaPlaylist, url: string): Violation[] {
    const out: Violation[] = [];
    const parts = listedParts(pl);
    if (pl.endList) {
      // The stream ended: a hinted part may be abandoned (PHS-04).
      this.pendingHints = [];
      return out;
    }
    this.pendingHints = this.pendingHints.filter((h) => {
      const i = h.after === undefined ? -1 : parts.findIndex((p) => p.msn === h.after!.msn && p.index === h.after!.index);
      // The anchor is no longer listed (old parts trimmed): nothing left to compare against.
      if (h.after !== undefined && i < 0) return parts.length === 0;
      const next = parts[i + 1];
      if (!next) return true;
      const published = resolve(next.uri, url);
      if (published !== h.uri) {
        const message = `the preload hint named ${h.uri}, but the next part published after ${h.after ? `${h.after.msn}.${h.after.index}` : 'the start'} is ${published} (seen in ${url})`;
        out.push({ ...violation('PH-02', h.url, message, h.line), excerpt: h.excerpt });
      }
      return false;
    });
    const hint = pl.preloadHints.find((h) => h.type === 'PART' && h.uri !== undefined);
    if (hint) {
      const last = parts[parts.length - 1];
      const after = last && { msn: last.msn, index: last.index };
      const uri = resolve(hint.uri, url)!;
      const known = this.pendingHints.some((h) => h.uri === uri && (h.after === after || (h.after && after && comparePosition(h.after, after) === 0)));
      if (!known) this.pendingHints.push({ after, uri, url, line: hint.line, excerpt: excerptAround(pl.lines, hint.line.number) });
    }
    return out;
  }
}
