import type { ViewingMode } from './viewer-events.js';

/** Watch time of one minute split by the dimensions a request carries (milliseconds per value). */
export interface WatchDimensions {
  rendition: Record<string, number>;
  protocol: Record<string, number>;
  player: Record<string, number>;
  latencyMode: Record<string, number>;
}

/**
 * What one origin saw of one channel in one UTC minute. Counters only, so rows of the same
 * minute add up: a late slice of watch time or another origin's row merges by addition
 * (ccuMax by the larger value within one origin).
 */
export interface MinuteFigures {
  channel: string;
  /** Epoch ms of the minute's start. */
  minute: number;
  /** CCU samples taken in the minute (every 10 s: up to 6), their sum and largest value. */
  ccuSamples: number;
  ccuSum: number;
  ccuMax: number;
  /** Sessions started (first request of a new session key). */
  sessions: number;
  /** Sessions that reached analytics.viewAfterSec of watch time in this minute. */
  views: number;
  /** Viewer keys seen for the first time this UTC day (on this origin). */
  newUniques: number;
  watchMs: Record<ViewingMode, number>;
  /** Beacons: wall time of playing sessions between beacons, and the rebuffering they reported. */
  beaconPlayMs: number;
  rebufferMs: number;
  dims: WatchDimensions;
}

export const MINUTE_MS = 60_000;
/** CCU is sampled every 10 s on the wall clock: a minute has 6 samples; one not taken (no viewers, origin not running) was 0. */
export const SAMPLES_PER_MINUTE = 6;
export const minuteOf = (ms: number): number => Math.floor(ms / MINUTE_MS) * MINUTE_MS;

export function emptyMinute(channel: string, minute: number): MinuteFigures {
  return {
    channel, minute, ccuSamples: 0, ccuSum: 0, ccuMax: 0, sessions: 0, views: 0, newUniques: 0,
    watchMs: { live: 0, dvr: 0, catchup: 0 }, beaconPlayMs: 0, rebufferMs: 0,
    dims: { rendition: {}, protocol: {}, player: {}, latencyMode: {} },
  };
}

function addTo(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Adds `b` into `a`: two deltas of one origin's row for the same channel and minute. */
export function mergeMinute(a: MinuteFigures, b: MinuteFigures): MinuteFigures {
  a.ccuSamples += b.ccuSamples;
  a.ccuSum += b.ccuSum;
  a.ccuMax = Math.max(a.ccuMax, b.ccuMax);
  a.sessions += b.sessions;
  a.views += b.views;
  a.newUniques += b.newUniques;
  a.watchMs.live += b.watchMs.live;
  a.watchMs.dvr += b.watchMs.dvr;
  a.watchMs.catchup += b.watchMs.catchup;
  a.beaconPlayMs += b.beaconPlayMs;
  a.rebufferMs += b.rebufferMs;
  addTo(a.dims.rendition, b.dims.rendition);
  addTo(a.dims.protocol, b.dims.protocol);
  addTo(a.dims.player, b.dims.player);
  addTo(a.dims.latencyMode, b.dims.latencyMode);
  return a;
}

/** What one slice of a session's watch time is credited to. */
export interface WatchSlice {
  mode: ViewingMode;
  rendition: string | undefined;
  protocol: string;
  player: string;
  latencyMode: string;
}

/**
 * The minute rows not yet written: figures accumulate here as they happen, and the flusher
 * takes them all (take()) every analytics.flushIntervalSec. A minute taken and then added to
 * again (a late slice) is taken again as a delta; the database adds it to what it has.
 */
export class MinuteAggregator {
  private pending = new Map<string, MinuteFigures>();

  private row(channel: string, atMs: number): MinuteFigures {
    const minute = minuteOf(atMs);
    const key = `${channel}\0${minute}`;
    let r = this.pending.get(key);
    if (!r) this.pending.set(key, (r = emptyMinute(channel, minute)));
    return r;
  }

  ccu(channel: string, atMs: number, ccu: number): void {
    const r = this.row(channel, atMs);
    r.ccuSamples++;
    r.ccuSum += ccu;
    r.ccuMax = Math.max(r.ccuMax, ccu);
  }

  sessionStarted(channel: string, atMs: number, newUnique: boolean): void {
    const r = this.row(channel, atMs);
    r.sessions++;
    if (newUnique) r.newUniques++;
  }

  view(channel: string, atMs: number): void {
    this.row(channel, atMs).views++;
  }

  /** Watch time from `fromMs` to `toMs`, split at minute boundaries. */
  watch(channel: string, fromMs: number, toMs: number, s: WatchSlice): void {
    for (let from = fromMs; from < toMs;) {
      const to = Math.min(toMs, minuteOf(from) + MINUTE_MS);
      const r = this.row(channel, from), ms = to - from;
      r.watchMs[s.mode] += ms;
      const d = r.dims;
      if (s.rendition !== undefined) d.rendition[s.rendition] = (d.rendition[s.rendition] ?? 0) + ms;
      d.protocol[s.protocol] = (d.protocol[s.protocol] ?? 0) + ms;
      d.player[s.player] = (d.player[s.player] ?? 0) + ms;
      d.latencyMode[s.latencyMode] = (d.latencyMode[s.latencyMode] ?? 0) + ms;
      from = to;
    }
  }

  beacon(channel: string, atMs: number, playMs: number, rebufferMs: number): void {
    const r = this.row(channel, atMs);
    r.beaconPlayMs += playMs;
    r.rebufferMs += rebufferMs;
  }

  /** Every pending row, oldest minute first; the aggregator starts empty again. */
  take(): MinuteFigures[] {
    const rows = [...this.pending.values()].sort((a, b) => a.minute - b.minute);
    this.pending = new Map();
    return rows;
  }

  /** Rows a failed write hands back, to go out with the next flush. */
  putBack(rows: readonly MinuteFigures[]): void {
    for (const r of rows) {
      const key = `${r.channel}\0${r.minute}`;
      const mine = this.pending.get(key);
      this.pending.set(key, mine ? mergeMinute(r, mine) : r);
    }
  }

  get size(): number {
    return this.pending.size;
  }
}
