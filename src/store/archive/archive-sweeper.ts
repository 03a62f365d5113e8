import { join } from 'node:path';
import type { Logger } from 'pino';
import { HOUR_DIR, HOUR_MS, hourStartMs } from './archive-layout.js';
import type { ArchiveFiles } from './archive-files.js';
import type { ArchiveReader } from './archive-reader.js';
import type { ChannelArchive } from './channel-archive.js';

/** One channel's archive and how long it keeps media. */
export interface SweepTarget {
  archive: ChannelArchive;
  retentionMs: number;
  /**
   * Directories beside the archive organised by the same YYYYMMDDHH hour directories (the
   * channel's thumbnails), whose hours expire with the archive's.
   */
  hourTrees?: string[];
  /** Whether sessions.log drops the sessions older than the retention; false for a sweep of local copies only. */
  sessions?: boolean;
}

/** What one sweep deleted, over all channels. */
export interface SweepResult {
  /** Hour directories (YYYYMMDDHH) removed, over all renditions and hour trees. */
  hoursDeleted: number;
  /** Init segments removed (an id's .mp4 and .json count as one). */
  initsDeleted: number;
  /** Publish sessions dropped from sessions.log. */
  sessionsDropped: number;
}

export interface ArchiveSweeperOptions {
  /** The channels to sweep, asked at every sweep (channels and their retention may change). */
  archives: () => SweepTarget[];
  intervalMs: number;
  logger: Logger;
  /** The clock; injected by tests. */
  now?: () => number;
  /** The log line of a sweep that deleted something. */
  message?: string;
}

/** The first sweep waits this long (at most) so it does not compete with start-up I/O. */
const FIRST_SWEEP_DELAY_MS = 2_000;

/** An init segment file: `<id>.mp4` or `<id>.json`, or a `.tmp` left by a crash while writing one. */
const INIT_FILE = /^(\d+)\.(?:mp4|json)(?:\.tmp)?$/;

/**
 * Retention: deletes archive older than each channel's retention, in the background.
 *
 * Granularity is one hour: an hour directory goes only once its whole hour has ended before
 * `now - retention`, so nothing younger than the retention is ever deleted, and up to one hour
 * more than the retention may stay on disk (the hour straddling the cutoff). Hours go oldest
 * first, so a sweep cut short (crash, stop) leaves a contiguous archive.
 *
 * Init segments go once no indexed segment can need them: init ids grow with time (each publish
 * session gets a larger one), so every init below the initId of the oldest remaining segment is
 * unreferenced. When no indexed segment remains, inits older than the cutoff (ids are epoch
 * seconds) go. Sessions that ended before the cutoff leave sessions.log.
 */
export class ArchiveSweeper {
  private readonly now: () => number;
  private readonly log: Logger;
  private firstTimer: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SweepResult> | undefined;
  /** Aborts the sweep in progress (stop). */
  private abort: AbortController | undefined;

  constructor(private readonly opts: ArchiveSweeperOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.logger.child({ component: 'archive-sweeper' });
  }

  /** Sweeps soon after start, then every intervalMs; timers never keep the process alive. Idempotent. */
  start(): void {
    if (this.timer || this.firstTimer) return;
    const tick = (): void => void this.sweepOnce();
    this.firstTimer = setTimeout(() => {
      this.firstTimer = undefined;
      tick();
    }, Math.min(this.opts.intervalMs, FIRST_SWEEP_DELAY_MS));
    this.firstTimer.unref();
    this.timer = setInterval(tick, this.opts.intervalMs);
    this.timer.unref();
  }

  /**
   * One sweep over every channel. Sweeps never overlap: a call while one runs gets that sweep's
   * result. Never rejects: a channel that fails is logged and the others are still swept.
   */
  sweepOnce(): Promise<SweepResult> {
    if (!this.running) {
      const abort = this.abort = new AbortController();
      this.running = this.sweep(abort.signal).finally(() => { this.running = undefined; });
    }
    return this.running;
  }

  /** Stops the timers; a sweep in progress stops before its next deletion. */
  stop(): void {
    this.abort?.abort();
    clearTimeout(this.firstTimer);
    clearInterval(this.timer);
    this.firstTimer = this.timer = undefined;
  }

  private async sweep(signal: AbortSignal): Promise<SweepResult> {
    const total: SweepResult = { hoursDeleted: 0, initsDeleted: 0, sessionsDropped: 0 };
    const started = this.now();
    const byChannel: Record<string, SweepResult> = {};
    let targets: SweepTarget[];
    try {
      targets = this.opts.archives();
    } catch (err) {
      this.log.error({ err }, 'cannot list the archives to sweep');
      return total;
    }
    for (const { archive, retentionMs, hourTrees = [], sessions = true } of targets) {
      if (signal.aborted) break;
      const counts: SweepResult = { hoursDeleted: 0, initsDeleted: 0, sessionsDropped: 0 };
      try {
        await this.sweepChannel(archive, started - retentionMs, counts, signal, sessions);
        for (const dir of hourTrees) await this.deleteTreeHours(archive.files, dir, started - retentionMs, counts, signal);
      } catch (err) {
        this.log.child({ channel: archive.channelId }).error({ err }, 'archive sweep failed; retrying at the next sweep');
      }
      total.hoursDeleted += counts.hoursDeleted;
      total.initsDeleted += counts.initsDeleted;
      total.sessionsDropped += counts.sessionsDropped;
      if (counts.hoursDeleted + counts.initsDeleted + counts.sessionsDropped > 0) byChannel[archive.channelId] = counts;
    }
    if (total.hoursDeleted + total.initsDeleted + total.sessionsDropped > 0) {
      this.log.info({ ...total, channels: byChannel, durationMs: this.now() - started }, this.opts.message ?? 'archive older than the retention deleted');
    }
    return total;
  }

  /** Sweeps one channel; counts are updated as things go so a failure half-way still reports them. */
  private async sweepChannel(archive: ChannelArchive, cutoffMs: number, counts: SweepResult, signal: AbortSignal, sessions: boolean): Promise<void> {
    for (const entry of await archive.files.list(archive.dir)) {
      if (signal.aborted) return;
      if (!entry.isDirectory) continue;
      const reader = archive.reader(entry.name);
      const remaining = await this.deleteHours(reader, cutoffMs, counts, signal);
      await this.deleteInits(reader, remaining, cutoffMs, counts, signal);
    }
    if (signal.aborted || !sessions) return;
    counts.sessionsDropped += await archive.sessions.dropBefore(cutoffMs);
  }

  /** Deletes the hours that ended at or before the cutoff, oldest first; returns the hours left. */
  private async deleteHours(reader: ArchiveReader, cutoffMs: number, counts: SweepResult, signal: AbortSignal): Promise<string[]> {
    const hours = await reader.hours();
    let i = 0;
    for (; i < hours.length && hourStartMs(hours[i]) + HOUR_MS <= cutoffMs; i++) {
      if (signal.aborted) break;
      await reader.files.removeTree(reader.paths.hourDir(hours[i]));
      counts.hoursDeleted++;
    }
    return hours.slice(i);
  }

  /** Deletes the hour directories of an hour tree that ended at or before the cutoff, oldest first. */
  private async deleteTreeHours(files: ArchiveFiles, dir: string, cutoffMs: number, counts: SweepResult, signal: AbortSignal): Promise<void> {
    const hours = (await files.list(dir)).filter((e) => e.isDirectory && HOUR_DIR.test(e.name)).map((e) => e.name).sort();
    for (const hour of hours) {
      if (signal.aborted || hourStartMs(hour) + HOUR_MS > cutoffMs) return;
      await files.removeTree(join(dir, hour));
      counts.hoursDeleted++;
    }
  }

  /** Deletes the init segments no remaining indexed segment needs. */
  private async deleteInits(reader: ArchiveReader, remaining: string[], cutoffMs: number, counts: SweepResult, signal: AbortSignal): Promise<void> {
    let keepFromId = Math.floor(cutoffMs / 1000);
    for (const hour of remaining) {
      // An hour may hold no indexed segment yet (only the open one's parts.log): look further.
      const first = (await reader.hour(hour))[0];
      if (first) { keepFromId = first.initId; break; }
    }
    const dir = reader.paths.initDir();
    const doomed = new Set<number>();
    for (const entry of await reader.files.list(dir)) {
      const m = INIT_FILE.exec(entry.name);
      if (!m || Number(m[1]) >= keepFromId) continue;
      if (signal.aborted) break;
      await reader.files.remove(join(dir, entry.name));
      doomed.add(Number(m[1]));
    }
    counts.initsDeleted += doomed.size;
  }
}
