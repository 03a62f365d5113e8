import type { StoredAnalyticsMinute } from '../db/types.js';
import { emptyMinute, MINUTE_MS, SAMPLES_PER_MINUTE, type WatchDimensions } from './minute-aggregator.js';
import type { ViewingMode } from './viewer-events.js';

export type ReportInterval = '1m' | '1h' | '1d';
export const INTERVAL_MS: Record<ReportInterval, number> = { '1m': MINUTE_MS, '1h': 3600_000, '1d': 86_400_000 };

/** The figures of one interval, every origin added up. */
export interface ReportPoint {
  start: number;
  /** Largest CCU of any minute (the origins' peaks of that minute added up) and the mean over the interval's minutes. */
  ccuMax: number;
  ccuAvg: number;
  sessions: number;
  views: number;
  /** Viewers seen for the first time that UTC day: over a whole day, the day's unique viewers. */
  newUniqueViewers: number;
  watchSec: Record<ViewingMode, number> & { total: number };
  /** Rebuffering over play time, both as beacons report them; null without beacons. */
  rebufferRatio: number | null;
  /** Watch seconds by dimension value. */
  by: WatchDimensions;
}

const sec = (ms: number) => Math.round(ms) / 1000;
const secondsOf = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, sec(v)]));

/**
 * Minute rows of a channel (any number of origins) as points `stepMs` wide over [from, to),
 * starting at a multiple of the step (UTC) unless `aligned` is false (one point for the totals):
 * a minute's CCU is the sum of the origins' (each samples at the same wall-clock instants; a
 * sample an origin did not take, idle or not running, was 0), a point's average counts the
 * minutes without a row as 0 viewers, up to `now` (a minute not yet
 * over is not averaged in). Counters add.
 */
export function reportPoints(rows: readonly StoredAnalyticsMinute[], from: number, to: number, step: number, now: number, aligned = true): ReportPoint[] {
  const first = aligned ? Math.floor(from / step) * step : from;
  const byMinute = new Map<number, { max: number; avg: number }>();
  const points = new Map<number, ReturnType<typeof emptyMinute>>();
  for (const r of rows) {
    const m = byMinute.get(r.minute) ?? { max: 0, avg: 0 };
    m.max += r.ccuMax;
    // Over the minute's 6 sampling instants: a sample not taken is a time this origin had nobody.
    m.avg += r.ccuSum / SAMPLES_PER_MINUTE;
    byMinute.set(r.minute, m);
    const start = first + Math.max(0, Math.floor((r.minute - first) / step)) * step;
    let p = points.get(start);
    if (!p) points.set(start, (p = emptyMinute(r.channel, start)));
    p.sessions += r.sessions; p.views += r.views; p.newUniques += r.newUniques;
    p.watchMs.live += r.watchMs.live; p.watchMs.dvr += r.watchMs.dvr; p.watchMs.catchup += r.watchMs.catchup;
    p.beaconPlayMs += r.beaconPlayMs; p.rebufferMs += r.rebufferMs;
    for (const k of ['rendition', 'protocol', 'player', 'latencyMode'] as const) {
      for (const [v, ms] of Object.entries(r.dims[k] ?? {})) p.dims[k][v] = (p.dims[k][v] ?? 0) + ms;
    }
  }
  const out: ReportPoint[] = [];
  const end = Math.min(to, Math.floor(now / MINUTE_MS) * MINUTE_MS + MINUTE_MS);
  for (let start = first; start < to; start += step) {
    let ccuMax = 0, avgSum = 0, minutes = 0;
    // The minutes the point covers: a point (or range) starting mid-minute includes that minute.
    for (let m = Math.floor(Math.max(start, from) / MINUTE_MS) * MINUTE_MS; m < Math.min(start + step, end); m += MINUTE_MS) {
      const c = byMinute.get(m);
      minutes++;
      if (c) { ccuMax = Math.max(ccuMax, c.max); avgSum += c.avg; }
    }
    const p = points.get(start) ?? emptyMinute('', start);
    const w = p.watchMs;
    out.push({
      start, ccuMax, ccuAvg: minutes > 0 ? Math.round((avgSum / minutes) * 100) / 100 : 0,
      sessions: p.sessions, views: p.views, newUniqueViewers: p.newUniques,
      watchSec: { total: sec(w.live + w.dvr + w.catchup), live: sec(w.live), dvr: sec(w.dvr), catchup: sec(w.catchup) },
      rebufferRatio: p.beaconPlayMs > 0 ? Math.round((p.rebufferMs / p.beaconPlayMs) * 1e6) / 1e6 : null,
      by: { rendition: secondsOf(p.dims.rendition), protocol: secondsOf(p.dims.protocol), player: secondsOf(p.dims.player),
        latencyMode: secondsOf(p.dims.latencyMode) },
    });
  }
  return out;
}
