import type { MinuteAggregator } from './minute-aggregator.js';
import type { SessionKeySource, ViewerBeacon, ViewerEventSink, ViewerTouch, ViewingMode } from './viewer-events.js';

/** How long a session lives without a request, and what else the table needs of a channel. */
export interface ChannelTiming {
  latencyMode: string;
  /** ms without any request after which a session has ended. */
  timeoutMs: number;
}

export interface ViewerSessionsOptions {
  aggregator: MinuteAggregator;
  /** The channel's latency mode and session timeout (a channel not served any more: undefined, a default applies). */
  timingOf(channel: string): ChannelTiming | undefined;
  /** A session counts as a view once it has this much watch time (analytics.viewAfterSec). */
  viewAfterMs: number;
  /** Unique viewer keys kept per channel per UTC day; beyond, each new key counts as new (documented over-count). */
  maxUniquesPerDay?: number;
}

const DAY_MS = 86_400_000;
const DEFAULT_TIMING: ChannelTiming = { latencyMode: 'unknown', timeoutMs: 30_000 };
/**
 * A session a player's beacons keep (behind a CDN, beacons may be all the origin hears of a
 * viewer) lives at least this long without news: 2.5 heartbeat intervals (10 s), so one late or
 * lost heartbeat does not end it. The channel's own timeout (6 s in the LL modes) is for
 * sessions seen only through playlist requests, which come every part or target duration.
 */
export const BEACON_SESSION_TIMEOUT_MS = 25_000;
/** A channel without sessions is still sampled (as 0) this long, so the minute its last viewer left is complete. */
const IDLE_SAMPLES_MS = 60_000;
/** A DVR request keeps a session in DVR mode this long (hls.js fetches up to 30 s ahead, then pauses its fetching). */
export const DVR_HOLD_MS = 45_000;

interface Session {
  readonly key: string;
  readonly keySource: SessionKeySource;
  /** The key unique viewers are counted by (token jti, else the fallback hash). */
  readonly viewerKey: string;
  readonly firstMs: number;
  lastMs: number;
  /** Watch time is credited up to here (ticks and pause/end beacons move it). */
  accruedUntil: number;
  watchedMs: number;
  catchup: boolean;
  /** In DVR mode until this time (a DVR request or beacon moves it on). */
  dvrUntil: number;
  rendition: string | undefined;
  protocol: string;
  player: string;
  viewed: boolean;
  paused: boolean;
  /** The previous beacon's time: the play time between beacons is what rebuffering is a ratio of. */
  lastBeaconMs: number;
}

/** How long this session lives without a request or beacon. */
function timeoutOf(c: ChannelSessions, s: Session): number {
  return s.lastBeaconMs > 0 ? Math.max(c.timing.timeoutMs, BEACON_SESSION_TIMEOUT_MS) : c.timing.timeoutMs;
}

class ChannelSessions {
  readonly sessions = new Map<string, Session>();
  /** Fallback key ▶ the sid session of the same client: media requests carry no sid (they stay cacheable). */
  readonly links = new Map<string, Session>();
  /** Keys a player's `end` beacon closed: the trailing requests of a closed player start nothing. */
  readonly closed = new Map<string, number>();
  uniques = new Set<string>();
  uniquesDay = Number.NaN;
  /** The last time a session was open (ticks, session ends): CCU is sampled until a minute after it (then no row, which reads as 0). */
  activeAt = 0;
  /** Read from the channel at creation and at every tick, not per request. */
  constructor(readonly id: string, public timing: ChannelTiming) {}
}

/**
 * The in-memory session table (issue 17): one entry per viewer session, updated in place by
 * every playlist request and beacon (one Map lookup and a few field writes), swept and
 * credited by tick() every 10 s. A session starts at its first request and ends when it has
 * made none for its channel's timeout (or at a player's `end` beacon); its watch time is the
 * time from its first to its last request, less paused time reported by beacons, credited to
 * the minute it happened in and to its mode, rendition, protocol, player and latency mode.
 */
export class ViewerSessions implements ViewerEventSink {
  private readonly channels = new Map<string, ChannelSessions>();
  private readonly maxUniques: number;

  constructor(private readonly o: ViewerSessionsOptions) {
    this.maxUniques = o.maxUniquesPerDay ?? 1_000_000;
  }

  private channel(id: string): ChannelSessions {
    let c = this.channels.get(id);
    if (!c) this.channels.set(id, (c = new ChannelSessions(id, this.timing(id))));
    return c;
  }

  private timing(channel: string): ChannelTiming {
    return this.o.timingOf(channel) ?? DEFAULT_TIMING;
  }

  /** Whether a request under this key continues an open session (if not, the touch should bring its viewerKey). */
  has(channel: string, key: string, atMs: number): boolean {
    const s = this.channels.get(channel)?.sessions.get(key);
    return s !== undefined && atMs - s.lastMs <= timeoutOf(this.channels.get(channel)!, s);
  }

  /** The open session a client's fallback key belongs to (its sid session), for its media requests. */
  linked(channel: string, fallbackKey: string, atMs: number): string | undefined {
    const c = this.channels.get(channel), s = c?.links.get(fallbackKey);
    return s !== undefined && atMs - s.lastMs <= timeoutOf(c!, s) ? s.key : undefined;
  }

  /**
   * The hot path: a live playlist request of an open session, updated in place (no record, no
   * user agent read); false when no session is open under this key (then touch() starts one).
   */
  refresh(channel: string, key: string, atMs: number, rendition: string, protocol: 'h1' | 'h2'): boolean {
    const c = this.channels.get(channel);
    const s = c?.sessions.get(key);
    if (s === undefined || atMs - s.lastMs > c!.timing.timeoutMs) return false;
    if (atMs > s.lastMs) s.lastMs = atMs;
    if (rendition !== s.rendition) {
      this.accrue(c!, s, atMs);
      s.rendition = rendition;
    }
    s.protocol = protocol;
    return true;
  }

  touch(t: ViewerTouch): void {
    const c = this.channel(t.channel);
    let s = c.sessions.get(t.sessionKey);
    if (s === undefined || t.atMs - s.lastMs > timeoutOf(c, s)) {
      if (c.closed.has(t.sessionKey)) return;
      if (s) this.end(c, s);
      s = this.start(c, t.sessionKey, t.keySource, t.viewerKey ?? t.sessionKey, t.atMs, t.player, t.protocol);
    }
    if (t.atMs > s.lastMs) s.lastMs = t.atMs;
    // A viewer starting DVR or catchup watched as before up to now: credited before the mode changes.
    if (t.mode !== 'live' && t.mode !== this.modeAt(s, t.atMs)) this.accrue(c, s, t.atMs);
    if (t.rendition !== undefined && t.rendition !== s.rendition) {
      this.accrue(c, s, t.atMs);
      s.rendition = t.rendition;
    }
    s.protocol = t.protocol;
    this.setMode(s, t.mode, t.atMs);
  }

  beacon(b: ViewerBeacon): void {
    const c = this.channel(b.channel);
    let s = c.sessions.get(b.sessionKey);
    if (s === undefined || b.atMs - s.lastMs > timeoutOf(c, s)) {
      if (c.closed.has(b.sessionKey) || b.event === 'end') return;
      if (s) this.end(c, s);
      s = this.start(c, b.sessionKey, b.keySource, b.sessionKey, b.atMs, b.player ?? 'other', 'h1');
    }
    if (b.atMs > s.lastMs) s.lastMs = b.atMs;
    if ((b.mode !== undefined && b.mode !== this.modeAt(s, b.atMs)) || (b.rendition !== undefined && b.rendition !== s.rendition)) this.accrue(c, s, b.atMs);
    if (b.rendition !== undefined) s.rendition = b.rendition;
    if (b.mode !== undefined) this.setMode(s, b.mode, b.atMs, true);
    const playMs = s.lastBeaconMs > 0 && !s.paused ? Math.max(0, b.atMs - s.lastBeaconMs) : 0;
    const rebufferMs = Math.max(0, b.rebufferMs ?? 0);
    if (playMs > 0 || rebufferMs > 0) this.o.aggregator.beacon(c.id, b.atMs, playMs, rebufferMs);
    s.lastBeaconMs = b.atMs;
    switch (b.event) {
      case 'pause':
        this.accrue(c, s, b.atMs);
        s.paused = true;
        break;
      case 'play':
      case 'heartbeat':
        if (s.paused) {
          // Paused time is not watch time: crediting resumes from here.
          this.accrue(c, s, b.atMs);
          s.paused = false;
        }
        break;
      case 'end':
        this.end(c, s, b.atMs);
        c.closed.set(s.key, b.atMs);
        break;
    }
  }

  private start(c: ChannelSessions, key: string, keySource: SessionKeySource, viewerKey: string, atMs: number,
    player: string, protocol: string): Session {
    const s: Session = {
      key, keySource, viewerKey, firstMs: atMs, lastMs: atMs, accruedUntil: atMs, watchedMs: 0, catchup: false, dvrUntil: 0,
      rendition: undefined, protocol, player, viewed: false, paused: false, lastBeaconMs: 0,
    };
    c.sessions.set(key, s);
    if (viewerKey !== key) c.links.set(viewerKey, s);
    this.o.aggregator.sessionStarted(c.id, atMs, this.newUnique(c, viewerKey, atMs));
    return s;
  }

  private newUnique(c: ChannelSessions, viewerKey: string, atMs: number): boolean {
    const day = Math.floor(atMs / DAY_MS);
    if (day !== c.uniquesDay) {
      c.uniquesDay = day;
      c.uniques = new Set();
    }
    if (c.uniques.has(viewerKey)) return false;
    if (c.uniques.size < this.maxUniques) c.uniques.add(viewerKey);
    return true;
  }

  /** Catchup is for a session's life (archive URLs); DVR while its requests stay behind the edge; else live. */
  private setMode(s: Session, mode: ViewingMode, atMs: number, explicit = false): void {
    if (mode === 'catchup') s.catchup = true;
    else if (mode === 'dvr') s.dvrUntil = atMs + DVR_HOLD_MS;
    else if (explicit) s.dvrUntil = 0; // a player that says it is back at the live edge
  }

  private modeAt(s: Session, atMs: number): ViewingMode {
    return s.catchup ? 'catchup' : s.dvrUntil >= atMs ? 'dvr' : 'live';
  }

  /** Credits the session's watch time up to `untilMs` (never beyond its last request). */
  private accrue(c: ChannelSessions, s: Session, untilMs = s.lastMs): void {
    const until = Math.min(untilMs, s.lastMs);
    if (until <= s.accruedUntil) return;
    const from = s.accruedUntil;
    s.accruedUntil = until;
    if (s.paused) return;
    s.watchedMs += until - from;
    this.o.aggregator.watch(c.id, from, until, {
      mode: this.modeAt(s, until), rendition: s.rendition, protocol: s.protocol, player: s.player, latencyMode: c.timing.latencyMode,
    });
    if (!s.viewed && s.watchedMs >= this.o.viewAfterMs) {
      s.viewed = true;
      this.o.aggregator.view(c.id, until);
    }
  }

  private end(c: ChannelSessions, s: Session, atMs = s.lastMs): void {
    this.accrue(c, s, atMs);
    c.activeAt = Math.max(c.activeAt, s.lastMs);
    c.sessions.delete(s.key);
    if (c.links.get(s.viewerKey) === s) c.links.delete(s.viewerKey);
  }

  /**
   * Every 10 s: ends the sessions past their timeout, credits the others' watch time, and
   * returns the CCU of each channel that has sessions or had some in the last minute.
   */
  tick(nowMs: number): Map<string, number> {
    const ccu = new Map<string, number>();
    for (const c of this.channels.values()) {
      c.timing = this.timing(c.id);
      const timeoutMs = c.timing.timeoutMs;
      for (const s of c.sessions.values()) {
        if (nowMs - s.lastMs > timeoutOf(c, s)) this.end(c, s);
        else this.accrue(c, s);
      }
      for (const [key, at] of c.closed) if (nowMs - at > timeoutMs) c.closed.delete(key);
      if (c.sessions.size > 0) c.activeAt = nowMs;
      // An idle channel stops writing zeros after a minute: no row reads as 0 viewers.
      if (nowMs - c.activeAt <= IDLE_SAMPLES_MS) ccu.set(c.id, c.sessions.size);
      if (c.sessions.size === 0 && c.closed.size === 0 && nowMs - c.uniquesDay * DAY_MS > DAY_MS) this.channels.delete(c.id);
    }
    return ccu;
  }

  /** Open sessions per channel now (no sweep): what /v1/analytics/realtime shows of this origin. */
  openSessions(nowMs: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const c of this.channels.values()) {
      let n = 0;
      for (const s of c.sessions.values()) if (nowMs - s.lastMs <= timeoutOf(c, s)) n++;
      out.set(c.id, n);
    }
    return out;
  }

  /** Credits every open session up to its last request (at shutdown, before the last flush). */
  creditAll(): void {
    for (const c of this.channels.values()) for (const s of c.sessions.values()) this.accrue(c, s);
  }

  get size(): number {
    let n = 0;
    for (const c of this.channels.values()) n += c.sessions.size;
    return n;
  }
}
