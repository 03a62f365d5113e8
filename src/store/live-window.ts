/**
 * The live window of one rendition: the segments and parts a playlist lists (the DVR window),
 * plus the recently removed ones that must stay downloadable (RFC 8216bis §6.2.2).
 *
 * Only the hot live edge keeps its bytes in memory. Further back, a segment keeps its facts
 * (about 150 bytes) and its bytes live in the archive on disk; a segment the archive could not
 * take (disk low, archive off) leaves the playlist, with everything older, once it leaves the
 * hot edge, so the playlist stays a contiguous run of servable segments.
 *
 * Waiters for a future part are keyed by (msn, part) so a new part wakes only the requests
 * that asked for it, never one broadcast that wakes everyone.
 */

import type { CancelSignal } from '../cancellation.js';

export interface LivePart {
  msn: number;
  index: number;
  durationMs: number;
  independent: boolean;
  data: Buffer;
  /** No media: no input was on air (GAP=YES); data is empty. */
  gap?: boolean;
}

/** Where a segment's bytes will be once it leaves the hot edge. */
export type ArchiveState = 'pending' | 'stored' | 'none';

/** The facts a segment opens with (the first part brings them). */
export interface SegmentFacts {
  initId: number;
  discontinuity: boolean;
  /** The first segment of a new playlist: nothing before it belongs to this playlist (the archive keeps the fact for restarts). */
  opensPlaylist?: boolean;
  programDateTimeMs: number;
  startMs: number;
  /** A segment of EXT-X-GAP parts only (failover.slate 'gap'): listed, never served, nothing to archive. */
  gap?: boolean;
}

export interface LiveSegment {
  msn: number;
  /** Which init segment (EXT-X-MAP) these parts need; changes with each publish session. */
  initId: number;
  /** EXT-X-DISCONTINUITY before this segment (the publisher reconnected). */
  discontinuity: boolean;
  /** Wall clock of the segment's first frame, epoch milliseconds (EXT-X-PROGRAM-DATE-TIME). */
  programDateTimeMs: number;
  /** Start on the media clock, milliseconds. */
  startMs: number;
  /** Its parts while it is in the hot edge; emptied once its bytes are only on disk. */
  parts: LivePart[];
  /** Set once the segment is closed: the sum of its parts' durations. */
  durationMs: number;
  complete: boolean;
  bytes: number;
  /** 'stored': the archive holds it (the file is found from its hour and msn). */
  archive: ArchiveState;
  /** Media time of the window up to this segment's end (set when it closes): distance to the edge. */
  endTotalMs: number;
  /** EXT-X-GAP: time no input was on air; its parts are gap parts. */
  gap?: boolean;
}

/** The parts of every segment whose bytes live only on disk: one shared, frozen empty list. */
const NO_PARTS = Object.freeze([]) as unknown as LivePart[];

export type WaitResult = 'ready' | 'timeout' | 'gone' | 'aborted';

interface Waiter {
  /** The key the waiter is filed under; it moves to (msn+1, 0) when msn closes short of index. */
  msn: number;
  index: number;
  resolve: (r: WaitResult) => void;
  timer: NodeJS.Timeout;
  signal?: CancelSignal;
  onAbort?: () => void;
}

export interface LiveWindowOptions {
  /** How much media the playlist lists, in milliseconds (oldest segments slide out): the DVR window. */
  windowMs: number;
  /** How much media at the live edge keeps its bytes in memory; older bytes are served from the archive. */
  hotMs?: number;
  /** Whether segments go to the archive; without it the playlist lists only the hot edge. */
  archived?: boolean;
  /** Minimum number of complete segments listed (Apple: at least 6 in a live playlist). */
  minSegments: number;
  /** How long a segment stays downloadable after it leaves the playlist. */
  retainAfterRemovalMs: number;
  /** The clock; injected so tests can drive time. */
  now?: () => number;
}

/** Change notifications for caches built on top of the window. */
export type WindowListener = (event: 'part' | 'segment' | 'init' | 'end') => void;

export class LiveWindow {
  /** Segments in playlist order; the last one may be open (complete = false). */
  readonly segments: LiveSegment[] = [];
  /** Segments that left the playlist, kept until their availability ends. */
  private readonly removed: { seg: LiveSegment; until: number }[] = [];
  private readonly inits = new Map<number, Buffer>();
  private readonly waiters = new Map<number, Map<number, Waiter[]>>();
  private readonly listeners = new Set<WindowListener>();
  /** Discontinuity sequence: incremented as segments carrying a discontinuity slide out. */
  discontinuitySequence = 0;
  /** Bumped on every change; playlist caches key on it. */
  version = 0;
  /** True once the publisher is gone and the window closed with ENDLIST. */
  ended = false;
  /** Parts added and segments completed in this window's life (restored ones not counted): /metrics reads them. */
  readonly produced = { parts: 0, segments: 0 };
  private readonly now: () => number;
  private readonly hotMs: number;
  /** Sum of listed complete segments' durations; kept as segments come and go (no walk). */
  private listedMs = 0;
  private completeCount = 0;
  /** Media time of every segment ever closed in this window. */
  private totalMs = 0;
  /** Segments below this MSN have been checked against the hot edge. */
  private hotFromMsn = 0;

  constructor(private readonly opts: LiveWindowOptions) {
    this.now = opts.now ?? Date.now;
    this.hotMs = Math.min(opts.hotMs ?? opts.windowMs, opts.windowMs);
  }

  onChange(l: WindowListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  addInit(initId: number, data: Buffer): void {
    this.inits.set(initId, data);
    this.changed('init');
  }

  init(initId: number): Buffer | undefined {
    return this.inits.get(initId);
  }

  /** The open (last, incomplete) segment, if any. */
  /** The init of the segment carried over to a new source (carryOver); undefined when none is. */
  private carryFromInit: number | undefined;

  get openSegment(): LiveSegment | undefined {
    const last = this.segments[this.segments.length - 1];
    return last && !last.complete ? last : undefined;
  }

  /** The last complete segment, if any. */
  get lastCompleteSegment(): LiveSegment | undefined {
    for (let i = this.segments.length - 1; i >= 0; i--) if (this.segments[i].complete) return this.segments[i];
    return undefined;
  }

  /** MSN and index of the newest part, or undefined before the first part. */
  get lastPart(): { msn: number; index: number } | undefined {
    const last = this.segments[this.segments.length - 1];
    if (!last || last.parts.length === 0) return undefined;
    return { msn: last.msn, index: last.parts.length - 1 };
  }

  /**
   * Appends a completed part. A part with index 0 closes the previous segment and opens a
   * new one; the caller supplies the new segment's facts.
   */
  addPart(part: LivePart, segmentFacts: SegmentFacts): void {
    if (this.ended) this.ended = false;
    let seg = this.openSegment;
    if (part.index === 0 || !seg || seg.msn !== part.msn) {
      // The new source's first segment: what was carried over ends here.
      if (this.carryFromInit !== undefined && segmentFacts.initId !== this.carryFromInit) this.carryFromInit = undefined;
      if (seg) this.closeSegment(seg);
      seg = {
        msn: part.msn, initId: segmentFacts.initId, discontinuity: segmentFacts.discontinuity,
        programDateTimeMs: segmentFacts.programDateTimeMs, startMs: segmentFacts.startMs,
        parts: [], durationMs: 0, complete: false, bytes: 0,
        // A gap has no bytes to keep: 'stored' lets it leave the hot edge without taking the DVR window with it.
        archive: segmentFacts.gap ? 'stored' : this.opts.archived ? 'pending' : 'none', endTotalMs: 0,
        ...(segmentFacts.gap ? { gap: true } : {}),
      };
      this.segments.push(seg);
    }
    seg.parts.push(part);
    seg.bytes += part.data.length;
    this.produced.parts++;
    this.slide();
    this.changed('part');
    this.wake(part.msn, part.index);
  }

  /**
   * The source is being replaced (another input on air, a new codec configuration): the open
   * segment stays open in the playlist, whatever the old source's last part says, until the
   * new source's first part (another init) arrives and closes it. So no preload hint ever names
   * the new source's first part while the playlist still announces the old init: the hint
   * stays on the open segment's next index, which is abandoned (PHS-04), and players learn of
   * the new part with its EXT-X-MAP (Shaka fetched a part hinted under the old init and
   * appended it with that init: a media error).
   */
  carryOver(): void {
    // Also when the last segment has just closed: the old source's flush may open one more
    // (its frames since the keyframe that closed it), which then stays open in turn.
    this.carryFromInit = this.segments[this.segments.length - 1]?.initId;
  }

  /** The carried segment goes on with gap parts (no new source): it closes again as they say. */
  stopCarrying(): void {
    this.carryFromInit = undefined;
  }

  /**
   * Closes the open segment (publisher gone) and, when final, marks the window ended. While a
   * segment is carried over (carryOver), only a final or forced end closes it.
   */
  endSegment(final: boolean, force = false): void {
    if (!final && !force && this.carryFromInit !== undefined) return;
    this.carryFromInit = undefined;
    const seg = this.openSegment;
    if (seg) this.closeSegment(seg);
    if (final) {
      this.ended = true;
      this.changed('end');
      // Nothing more will come: every waiter gets its answer now (the playlist with ENDLIST).
      for (const msn of [...this.waiters.keys()]) this.wakeAll(msn, 'ready');
    }
  }

  /**
   * Lists segments already in the archive (restart: the DVR window comes back), oldest first,
   * before any new part. They are complete, their bytes on disk.
   */
  restore(segs: readonly (SegmentFacts & { msn: number; durationMs: number; bytes: number })[], discontinuitySequence = 0): void {
    // Positions stand for MSNs (segment()), so only a consecutive run can be listed: the newest.
    let from = segs.length - 1;
    while (from > 0 && segs[from - 1].msn === segs[from].msn - 1) from--;
    this.discontinuitySequence = discontinuitySequence;
    for (const r of segs.slice(Math.max(0, from))) {
      this.totalMs += r.durationMs;
      this.segments.push({
        msn: r.msn, initId: r.initId, discontinuity: r.discontinuity, programDateTimeMs: r.programDateTimeMs,
        startMs: r.startMs, parts: NO_PARTS, durationMs: r.durationMs, complete: true, bytes: r.bytes,
        archive: 'stored', endTotalMs: this.totalMs,
      });
      this.listedMs += r.durationMs;
      this.completeCount++;
    }
    this.slide();
    this.changed('segment');
  }

  /**
   * Lists EXT-X-GAP segments after the last one, up to MSN lastMsn, each durationMs long: the
   * time between a restored playlist's last archived segment and its continuation here, whose
   * media no longer exists (what another origin had open when it died). They keep the MSNs that
   * origin may have listed or hinted from being used again for other media.
   */
  appendGaps(lastMsn: number, durationMs: number): void {
    const prev = this.segments[this.segments.length - 1];
    if (!prev?.complete) return;
    let pdt = prev.programDateTimeMs + prev.durationMs, start = prev.startMs + prev.durationMs;
    for (let msn = prev.msn + 1; msn <= lastMsn; msn++, pdt += durationMs, start += durationMs) {
      this.totalMs += durationMs;
      this.segments.push({
        msn, initId: prev.initId, discontinuity: false, programDateTimeMs: pdt, startMs: start,
        parts: NO_PARTS, durationMs, complete: true, bytes: 0, archive: 'stored', endTotalMs: this.totalMs, gap: true,
      });
      this.listedMs += durationMs;
      this.completeCount++;
    }
    this.slide();
    this.changed('segment');
  }

  /** The archive holds segment msn now: its bytes may leave memory once it leaves the hot edge. */
  archived(msn: number): void {
    const seg = this.segment(msn);
    if (!seg) return;
    seg.archive = 'stored';
    this.slide();
  }

  /** The archive will not hold segment msn: it leaves the playlist with the hot edge. */
  notArchived(msn: number): void {
    const seg = this.segment(msn);
    if (!seg) return;
    seg.archive = 'none';
    this.slide();
  }

  private closeSegment(seg: LiveSegment): void {
    seg.complete = true;
    seg.durationMs = seg.parts.reduce((s, p) => s + p.durationMs, 0);
    this.totalMs += seg.durationMs;
    seg.endTotalMs = this.totalMs;
    this.listedMs += seg.durationMs;
    this.completeCount++;
    this.produced.segments++;
    this.changed('segment');
    // Requests for the segment itself (-1) are satisfied now; a part index beyond the final
    // part of this segment means (msn+1, 0) (§6.2.5.2), so those waiters move there.
    const byPart = this.waiters.get(seg.msn);
    if (!byPart) return;
    this.waiters.delete(seg.msn);
    const moved: Waiter[] = [];
    for (const [index, list] of byPart) {
      if (index < 0 || index < seg.parts.length) for (const w of list) this.settle(w, 'ready');
      else for (const w of list) { w.msn = seg.msn + 1; w.index = 0; moved.push(w); }
    }
    if (moved.length > 0) {
      let next = this.waiters.get(seg.msn + 1);
      if (!next) this.waiters.set(seg.msn + 1, (next = new Map()));
      next.set(0, [...(next.get(0) ?? []), ...moved]);
    }
  }

  /** Finds a segment (listed or recently removed and still available). */
  segment(msn: number): LiveSegment | undefined {
    const first = this.segments[0];
    if (first && msn >= first.msn) {
      // Listed MSNs are consecutive (addPart and restore keep them so); a segment found at the
      // wrong position would serve another segment's facts, so a mismatch finds nothing.
      const seg = this.segments[msn - first.msn];
      return seg?.msn === msn ? seg : undefined;
    }
    this.expire();
    return this.removed.find((r) => r.seg.msn === msn)?.seg;
  }

  part(msn: number, index: number): LivePart | undefined {
    return this.segment(msn)?.parts[index];
  }

  /** True when part (msn, index) exists, or (index = -1) segment msn is complete. */
  has(msn: number, index: number): boolean {
    const seg = this.segment(msn);
    if (!seg) {
      const first = this.segments[0];
      return first !== undefined && msn < first.msn; // removed long ago: "already removed" counts as present
    }
    if (index < 0) return seg.complete;
    if (index < seg.parts.length) return true;
    // A complete segment listed without parts (restored from the archive, or a gap standing for
    // media lost with another origin) had all the parts asked for once a newer segment exists.
    if (seg.complete && seg.parts.length === 0 && msn < this.segments[this.segments.length - 1].msn) return true;
    // Beyond the final part of a closed segment means (msn+1, 0) (§6.2.5.2).
    return seg.complete && this.has(msn + 1, 0);
  }

  /**
   * Resolves when part (msn, index) — or with index = -1 the complete segment msn — exists,
   * or the window ends; 'timeout' after timeoutMs; 'aborted' when the signal fires.
   */
  waitFor(msn: number, index: number, timeoutMs: number, signal?: CancelSignal): Promise<WaitResult> {
    if (this.ended || this.has(msn, index)) return Promise.resolve('ready');
    if (signal?.aborted) return Promise.resolve('aborted');
    const seg = index >= 0 ? this.segment(msn) : undefined;
    if (seg?.complete && index >= seg.parts.length) {
      // Beyond the final part of a segment already closed: (msn+1, 0) (§6.2.5.2). Closing the
      // segment moved the waiters it had; one that comes later must wait there itself.
      msn++;
      index = 0;
    }
    return new Promise<WaitResult>((resolve) => {
      let byPart = this.waiters.get(msn);
      if (!byPart) this.waiters.set(msn, (byPart = new Map()));
      let list = byPart.get(index);
      if (!list) byPart.set(index, (list = []));
      const waiter: Waiter = {
        msn, index, resolve,
        timer: setTimeout(() => this.removeWaiter(waiter, 'timeout'), timeoutMs),
        signal,
      };
      if (signal) {
        waiter.onAbort = () => this.removeWaiter(waiter, 'aborted');
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      list.push(waiter);
    });
  }

  /** Number of requests currently held, for metrics and tests. */
  get waiting(): number {
    let n = 0;
    for (const byPart of this.waiters.values()) for (const l of byPart.values()) n += l.length;
    return n;
  }

  private removeWaiter(w: Waiter, result: WaitResult): void {
    const { msn, index } = w;
    const list = this.waiters.get(msn)?.get(index);
    if (list) {
      const i = list.indexOf(w);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.waiters.get(msn)!.delete(index);
      if (this.waiters.get(msn)?.size === 0) this.waiters.delete(msn);
    }
    this.settle(w, result);
  }

  private settle(w: Waiter, result: WaitResult): void {
    clearTimeout(w.timer);
    if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
    w.resolve(result);
  }

  private wake(msn: number, index: number): void {
    this.wakeKey(msn, index, this.waiters.get(msn));
  }

  private wakeKey(msn: number, index: number, byPart: Map<number, Waiter[]> | undefined): void {
    const list = byPart?.get(index);
    if (!list) return;
    byPart!.delete(index);
    if (byPart!.size === 0) this.waiters.delete(msn);
    for (const w of list) this.settle(w, 'ready');
  }

  private wakeAll(msn: number, result: WaitResult): void {
    const byPart = this.waiters.get(msn);
    if (!byPart) return;
    this.waiters.delete(msn);
    for (const list of byPart.values()) for (const w of list) this.settle(w, result);
  }

  /**
   * Drops the oldest complete segments beyond the window (they stay downloadable a while), and
   * past the hot edge either drops a segment's bytes (the archive has them) or the segment
   * itself, with all older ones (the archive does not). Amortized constant time per part.
   */
  private slide(): void {
    const segs = this.segments;
    while (segs.length > 1 && segs[0].complete && this.completeCount > this.opts.minSegments
      && this.listedMs - segs[0].durationMs >= this.opts.windowMs) this.removeFirst();
    for (let i = Math.max(0, this.hotFromMsn - (segs[0]?.msn ?? 0)); i < segs.length; i++) {
      const seg = segs[i];
      if (!seg.complete || this.totalMs - seg.endTotalMs < this.hotMs || seg.archive === 'pending') break;
      if (seg.archive === 'stored') {
        seg.parts = NO_PARTS;
      } else {
        // Not on disk and about to leave memory: it and everything before it leave the playlist.
        while (segs.length > 1 && segs[0].msn <= seg.msn && this.completeCount > this.opts.minSegments) this.removeFirst();
        if (segs[0] === seg) break; // kept to honour minSegments
        i = -1;
        continue;
      }
      this.hotFromMsn = seg.msn + 1;
    }
    this.expire();
    // Init ids grow along the window, so every id below the oldest retained segment's is unused.
    if (this.inits.size > 1) {
      const oldest = this.removed[0]?.seg.initId ?? this.segments[0]?.initId;
      if (oldest !== undefined) for (const id of this.inits.keys()) if (id < oldest) this.inits.delete(id);
    }
  }

  private removeFirst(): void {
    const seg = this.segments.shift()!;
    this.listedMs -= seg.durationMs;
    this.completeCount--;
    // The first listed segment carries no EXT-X-DISCONTINUITY line (nothing precedes it), so a
    // segment's tag leaves the playlist when the segment before it does: that is when the
    // sequence counts it (§6.2.2, MS-03), keeping every segment's discontinuity number unchanged.
    if (this.segments[0]?.discontinuity) this.discontinuitySequence++;
    this.removed.push({ seg, until: this.now() + this.opts.retainAfterRemovalMs });
  }

  private expire(): void {
    const now = this.now();
    while (this.removed.length > 0 && this.removed[0].until <= now) this.removed.shift();
  }

  private changed(event: 'part' | 'segment' | 'init' | 'end'): void {
    this.version++;
    for (const l of this.listeners) l(event);
  }

  /** Releases every held request (channel removed or process closing). */
  close(): void {
    for (const msn of [...this.waiters.keys()]) this.wakeAll(msn, 'gone');
    this.listeners.clear();
  }
}
