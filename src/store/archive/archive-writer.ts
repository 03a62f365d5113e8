import type { Logger } from 'pino';
import type { TrackInfo } from '../../media/types.js';
import type { LivePart, SegmentFacts } from '../live-window.js';
import type { StorageGate } from '../disk/storage-gate.js';
import { SerialWriter } from '../disk/serial-writer.js';
import { ArchivePaths, boundaryField, formatSegmentLine, hourKey, type ArchivedSegment } from './archive-layout.js';
import { localFiles, type AppendHandle, type ArchiveFiles } from './archive-files.js';

/** What the live window learns back from the archive about each segment. */
export interface ArchiveListener {
  /** The segment is complete on disk and indexed: RAM may drop its bytes. */
  persisted(msn: number, segment: ArchivedSegment, path: string): void;
  /** The segment will not be on disk (disk low, queue full, write error). */
  notPersisted(msn: number): void;
}

/**
 * What a channel's archive writers (one per rendition and session) did, summed, for /metrics:
 * bytes on disk and bytes still waiting in their write queues.
 */
export class ArchiveTally {
  bytesWritten = 0;
  queuedBytes = 0;
  /** Segments left out of the archive because the write queue was full. */
  droppedSegments = 0;
}

interface OpenSegment {
  facts: SegmentFacts & { msn: number };
  hour: string;
  path: string;
  file?: AppendHandle;
  bytes: number;
  durationMs: number;
  /** Set when any part of it was dropped or failed: the segment is then deleted, never indexed. */
  broken: boolean;
}

/**
 * Appends one rendition's parts to the archive as they are produced, off the event loop and in
 * order. A segment is indexed (segments.log) only once all its bytes are written, so a reader
 * never sees a segment that is not whole; the open segment's parts are journaled (parts.log)
 * so a crash loses at most the part being written (recovery: archive-recovery.ts).
 */
export class ArchiveWriter {
  private readonly paths: ArchivePaths;
  private readonly queue: SerialWriter;
  private current: OpenSegment | undefined;
  private dropped = 0;
  /** The open hour's parts.log, kept open: it gets a line at every part. Only touched by queued ops. */
  private journal: { hour: string; log: AppendHandle } | undefined;
  private unwrittenInit: { initId: number; data: Buffer; tracks: readonly TrackInfo[] } | undefined;

  constructor(
    root: string,
    private readonly gate: StorageGate,
    private readonly listener: ArchiveListener,
    private readonly log: Logger,
    private readonly files: ArchiveFiles = localFiles,
    maxPendingBytes = 64 * 1024 * 1024,
    private readonly tally = new ArchiveTally(),
  ) {
    this.paths = new ArchivePaths(root);
    this.queue = new SerialWriter(maxPendingBytes, (err) => {
      this.gate.reportWriteError(err);
      this.log.error({ err, code: err.code }, 'archive write failed; the segment is left out of the archive');
    });
  }

  /**
   * Stores the session's init segment; while the disk is low it is kept until the first segment
   * that does get archived, so archived segments never point at an init that is not there.
   */
  addInit(initId: number, data: Buffer, tracks: readonly TrackInfo[]): void {
    this.unwrittenInit = { initId, data, tracks };
    if (this.gate.writable) this.writeInit();
  }

  private writeInit(): void {
    const init = this.unwrittenInit;
    if (!init) return;
    this.unwrittenInit = undefined;
    const json = JSON.stringify(init.tracks.map((t) => ({ ...t, codecConfig: t.codecConfig.toString('base64') })));
    this.enqueue(async () => {
      await this.files.writeAtomic(this.paths.init(init.initId), init.data);
      await this.files.writeAtomic(this.paths.tracks(init.initId), json);
      this.tally.bytesWritten += init.data.length;
    }, init.data.length);
  }

  /** Mirrors LiveWindow.addPart: index 0 (or a new msn) closes the open segment and opens the next. */
  addPart(part: LivePart, facts: SegmentFacts): void {
    if (!this.current || part.index === 0 || this.current.facts.msn !== part.msn) {
      this.endSegment();
      this.openSegment({ ...facts, msn: part.msn });
    }
    const seg = this.current!;
    if (seg.broken) return;
    const queued = this.enqueue(async () => {
      if (seg.broken || !seg.file) return;
      try {
        await seg.file.append(part.data);
        this.tally.bytesWritten += part.data.length;
        await this.journalLine(seg.hour, `P ${part.msn} ${part.index} ${part.data.length} ${part.durationMs}\n`);
      } catch (err) {
        seg.broken = true;
        throw err;
      }
    }, part.data.length);
    if (!queued) this.drop(seg, 'archive write queue full (disk slower than the stream)');
    else { seg.bytes += part.data.length; seg.durationMs += part.durationMs; }
  }

  private openSegment(facts: SegmentFacts & { msn: number }): void {
    const hour = hourKey(facts.programDateTimeMs);
    const seg: OpenSegment = { facts, hour, path: this.paths.segment(hour, facts.msn), bytes: 0, durationMs: 0, broken: false };
    this.current = seg;
    if (!this.gate.writable) { seg.broken = true; return; }
    this.writeInit();
    this.queue.run(async () => {
      try {
        seg.file = await this.files.create(seg.path);
        await this.journalLine(hour,
          `O ${facts.msn} ${facts.initId} ${boundaryField(facts)} ${facts.programDateTimeMs} ${facts.startMs}\n`);
      } catch (err) {
        seg.broken = true;
        throw err;
      }
    });
  }

  /** Closes the open segment: indexes it when whole, deletes it otherwise. Mirrors LiveWindow.endSegment. */
  endSegment(): void {
    const seg = this.current;
    if (!seg) return;
    this.current = undefined;
    this.queue.run(async () => {
      await seg.file?.close();
      if (seg.broken || seg.bytes === 0) {
        if (seg.file) await this.files.remove(seg.path);
        this.listener.notPersisted(seg.facts.msn);
        return;
      }
      const archived: ArchivedSegment = {
        msn: seg.facts.msn, initId: seg.facts.initId, discontinuity: seg.facts.discontinuity, opensPlaylist: seg.facts.opensPlaylist,
        programDateTimeMs: seg.facts.programDateTimeMs, startMs: seg.facts.startMs,
        durationMs: seg.durationMs, bytes: seg.bytes, hour: seg.hour,
      };
      try {
        await this.files.appendText(this.paths.segmentsLog(seg.hour), formatSegmentLine(archived));
      } catch (err) {
        // Not indexed means not archived: drop the bytes too, and tell the window.
        await this.files.remove(seg.path).catch(() => {});
        this.listener.notPersisted(seg.facts.msn);
        throw err;
      }
      this.listener.persisted(seg.facts.msn, archived, seg.path);
    });
  }

  /** Queues a write of `bytes` bytes (see SerialWriter.run), counted in the tally's queue depth while it waits. */
  private enqueue(op: () => Promise<void>, bytes: number): boolean {
    const tally = this.tally;
    const queued = this.queue.run(async () => {
      try {
        await op();
      } finally {
        tally.queuedBytes -= bytes;
      }
    }, bytes);
    if (queued) tally.queuedBytes += bytes;
    return queued;
  }

  private drop(seg: OpenSegment, reason: string): void {
    seg.broken = true;
    this.dropped++;
    this.tally.droppedSegments++;
    if (this.dropped === 1 || this.dropped % 100 === 0) this.log.warn({ msn: seg.facts.msn, dropped: this.dropped, reason }, 'segment left out of the archive');
  }

  /** Appends a line to the hour's journal; runs inside queued ops only, so calls never overlap. */
  private async journalLine(hour: string, line: string): Promise<void> {
    if (this.journal?.hour !== hour) {
      const old = this.journal;
      this.journal = undefined;
      await old?.log.close();
      this.journal = { hour, log: await this.files.openLog(this.paths.partsLog(hour)) };
    }
    await this.journal.log.append(Buffer.from(line));
  }

  /** Closes the journal (the publication ended); queued after everything else. */
  close(): Promise<void> {
    this.queue.run(async () => {
      const j = this.journal;
      this.journal = undefined;
      await j?.log.close();
    });
    return this.queue.idle();
  }

  /** Resolves when everything queued so far is on disk (shutdown, tests). */
  flush(): Promise<void> {
    return this.queue.idle();
  }
}
