import type { TrackInfo } from '../../media/types.js';
import { localFiles, type ArchiveFiles } from './archive-files.js';
import { ArchivePaths, HOUR_DIR, HOUR_MS, hourKey, parseSegmentsLog, type ArchivedSegment } from './archive-layout.js';

/**
 * Reads one rendition's archive: segments by time range, init segments, the tracks behind
 * them, and segment bytes. Everything is async file I/O; nothing is cached here.
 */
export class ArchiveReader {
  readonly paths: ArchivePaths;
  /** Recently looked-up hours by msn, for serving segments; a few hours, so memory stays bounded. */
  private readonly lookup = new Map<string, Map<number, ArchivedSegment>>();
  private static readonly LOOKUP_HOURS = 4;

  constructor(root: string, readonly files: ArchiveFiles = localFiles) {
    this.paths = new ArchivePaths(root);
  }

  /** Hour directories present, oldest first. */
  async hours(): Promise<string[]> {
    return (await this.files.list(this.paths.root)).map((e) => e.name).filter((d) => HOUR_DIR.test(d)).sort();
  }

  /** The complete segments of one hour directory, in order. */
  async hour(hour: string): Promise<ArchivedSegment[]> {
    return parseSegmentsLog(await this.files.readText(this.paths.segmentsLog(hour)) ?? '', hour);
  }

  /**
   * Segments that overlap [fromMs, toMs) by PROGRAM-DATE-TIME, in order. Reads only the hour
   * directories the range touches (plus the one before, for a segment straddling the start).
   */
  async range(fromMs: number, toMs: number): Promise<ArchivedSegment[]> {
    const present = new Set(await this.hours());
    const out: ArchivedSegment[] = [];
    for (let t = Math.floor(fromMs / HOUR_MS) * HOUR_MS - HOUR_MS; t < toMs; t += HOUR_MS) {
      const h = hourKey(t);
      if (!present.has(h)) continue;
      for (const s of await this.hour(h)) {
        if (s.programDateTimeMs < toMs && s.programDateTimeMs + s.durationMs > fromMs) out.push(s);
      }
    }
    return out;
  }

  /**
   * The newest playlist's segments covering at least spanMs of media before its end, and the
   * DISCONTINUITY-SEQUENCE its live window had with them listed. A playlist is the newest run of
   * consecutive MSNs back to the segment that opened it: older sessions that the live playlist
   * no longer listed (a new publish after the reconnect window) are not brought back, and a gap
   * (a segment the archive could not take) ends the run as it ended the live listing.
   * Hours are read newest first and only as far back as the playlist goes.
   */
  async latestPlaylist(spanMs: number): Promise<{ segments: ArchivedSegment[]; discontinuitySequence: number }> {
    const hours = await this.hours();
    const picked: ArchivedSegment[] = [];
    let covered = 0, discontinuities = 0, nextMsn: number | undefined;
    scan: for (let h = hours.length - 1; h >= 0; h--) {
      const segs = await this.hour(hours[h]);
      for (let i = segs.length - 1; i >= 0; i--) {
        const s = segs[i];
        if (nextMsn !== undefined && s.msn !== nextMsn - 1) break scan;
        nextMsn = s.msn;
        if (covered < spanMs) { picked.push(s); covered += s.durationMs; }
        // The live window counted a discontinuity when the segment before it left (live-window.ts
        // removeFirst): every one up to and including the first listed segment.
        if (covered >= spanMs && s.discontinuity) discontinuities++;
        if (s.opensPlaylist) break scan;
      }
    }
    return { segments: picked.reverse(), discontinuitySequence: discontinuities };
  }

  async init(initId: number): Promise<Buffer | undefined> {
    const path = this.paths.init(initId);
    const size = await this.files.size(path);
    return size === undefined ? undefined : this.files.read(path, 0, size);
  }

  async tracks(initId: number): Promise<TrackInfo[] | undefined> {
    const text = await this.files.readText(this.paths.tracks(initId));
    if (!text) return undefined;
    return (JSON.parse(text) as (TrackInfo & { codecConfig: string })[])
      .map((t) => ({ ...t, codecConfig: Buffer.from(t.codecConfig, 'base64') }) as TrackInfo);
  }

  /**
   * The indexed segment msn of an hour, or undefined. Only indexed segments are served: the file
   * of the segment being written exists before it is whole. An hour still being written is
   * re-read when the msn is not in it yet.
   */
  async find(hour: string, msn: number): Promise<ArchivedSegment | undefined> {
    let byMsn = this.lookup.get(hour);
    if (!byMsn?.has(msn)) {
      byMsn = new Map((await this.hour(hour)).map((s) => [s.msn, s]));
      this.lookup.delete(hour);
      this.lookup.set(hour, byMsn);
      if (this.lookup.size > ArchiveReader.LOOKUP_HOURS) this.lookup.delete(this.lookup.keys().next().value!);
    } else {
      // Most recently used last.
      this.lookup.delete(hour);
      this.lookup.set(hour, byMsn);
    }
    return byMsn.get(msn);
  }

  segmentPath(s: Pick<ArchivedSegment, 'hour' | 'msn'>): string {
    return this.paths.segment(s.hour, s.msn);
  }
}
