import { join } from 'node:path';

/**
 * Where the archive keeps things, in one place (documented in docs/storage.md):
 *
 *   <dataDir>/archive/<channel>/sessions.log                one line per publish session start/end
 *   <dataDir>/archive/<channel>/<rendition>/init/<id>.mp4   init segments (ids grow with time)
 *   <dataDir>/archive/<channel>/<rendition>/init/<id>.json  the tracks behind that init (codecs, size)
 *   <dataDir>/archive/<channel>/<rendition>/<YYYYMMDDHH>/<msn>.m4s      a segment: its parts back to back
 *   <dataDir>/archive/<channel>/<rendition>/<YYYYMMDDHH>/segments.log   one line per complete segment
 *   <dataDir>/archive/<channel>/<rendition>/<YYYYMMDDHH>/parts.log      journal of the open segment (crash recovery)
 *
 * A segment lives in the UTC hour of its PROGRAM-DATE-TIME, so a time range maps to a few
 * directories and retention deletes whole hours.
 */

export const HOUR_MS = 3_600_000;

/** The archived facts of one complete segment (a line of segments.log). */
export interface ArchivedSegment {
  msn: number;
  initId: number;
  discontinuity: boolean;
  /**
   * The first segment of a new playlist (a publish session after the reconnect window, or the
   * first one): a restart restores nothing older, as the live playlist listed nothing older.
   */
  opensPlaylist?: boolean;
  programDateTimeMs: number;
  startMs: number;
  durationMs: number;
  bytes: number;
  /** The hour directory holding it, YYYYMMDDHH. */
  hour: string;
}

/** YYYYMMDDHH of an epoch-millisecond time, UTC. */
export function hourKey(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 13).replace(/[-T]/g, '');
}

/** Epoch milliseconds at the start of an hour key. */
export function hourStartMs(hour: string): number {
  return Date.UTC(+hour.slice(0, 4), +hour.slice(4, 6) - 1, +hour.slice(6, 8), +hour.slice(8, 10));
}

export const HOUR_DIR = /^\d{10}$/;

export class ArchivePaths {
  constructor(readonly root: string) {}

  static channel(dataDir: string, channelId: string): string {
    return join(dataDir, 'archive', channelId);
  }

  hourDir(hour: string): string {
    return join(this.root, hour);
  }

  segment(hour: string, msn: number): string {
    return join(this.root, hour, `${msn}.m4s`);
  }

  segmentsLog(hour: string): string {
    return join(this.root, hour, 'segments.log');
  }

  partsLog(hour: string): string {
    return join(this.root, hour, 'parts.log');
  }

  initDir(): string {
    return join(this.root, 'init');
  }

  init(initId: number): string {
    return join(this.root, 'init', `${initId}.mp4`);
  }

  tracks(initId: number): string {
    return join(this.root, 'init', `${initId}.json`);
  }
}

/**
 * How a segment joins the one before it, as one field of segments.log and parts.log:
 * 0 continues it, 1 follows a discontinuity (a reconnect or codec change in the same playlist),
 * 2 opens a new playlist. Archives written before 2 existed read the same.
 */
export function boundaryField(s: { discontinuity: boolean; opensPlaylist?: boolean }): number {
  return s.opensPlaylist ? 2 : s.discontinuity ? 1 : 0;
}

export function parseBoundary(field: number): { discontinuity: boolean; opensPlaylist: boolean } {
  return { discontinuity: field === 1, opensPlaylist: field === 2 };
}

export function formatSegmentLine(s: Omit<ArchivedSegment, 'hour'>): string {
  return `${s.msn} ${s.initId} ${boundaryField(s)} ${s.programDateTimeMs} ${s.startMs} ${s.durationMs} ${s.bytes}\n`;
}

/**
 * Parses segments.log; a torn last line (crash mid-append) is ignored. The text may be several
 * origins' logs of one hour one after the other (an archive on object storage, where the
 * channel moved between origins): the segments come out in time order, each MSN once.
 */
export function parseSegmentsLog(text: string, hour: string): ArchivedSegment[] {
  const out = parseLines(text, hour);
  let ordered = true;
  for (let i = 1; i < out.length && ordered; i++) ordered = out[i].programDateTimeMs >= out[i - 1].programDateTimeMs && out[i].msn > out[i - 1].msn;
  if (ordered) return out;
  const byMsn = new Map<number, ArchivedSegment>();
  for (const s of out) if (!byMsn.has(s.msn)) byMsn.set(s.msn, s);
  return [...byMsn.values()].sort((a, b) => a.programDateTimeMs - b.programDateTimeMs || a.msn - b.msn);
}

function parseLines(text: string, hour: string): ArchivedSegment[] {
  const out: ArchivedSegment[] = [];
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) break;
    const f = text.slice(pos, nl).split(' ');
    pos = nl + 1;
    if (f.length !== 7) continue;
    const n = f.map(Number);
    if (n.some((x) => !Number.isFinite(x))) continue;
    out.push({ msn: n[0], initId: n[1], ...parseBoundary(n[2]), programDateTimeMs: n[3], startMs: n[4], durationMs: n[5], bytes: n[6], hour });
  }
  return out;
}
