import { join } from 'node:path';
import type { Logger } from 'pino';
import type { TrackInfo } from '../../media/types.js';
import type { LiveWindow } from '../live-window.js';
import type { StorageGate } from '../disk/storage-gate.js';
import { ArchiveReader } from './archive-reader.js';
import { ArchiveTally, ArchiveWriter } from './archive-writer.js';
import { recoverOpenSegment } from './archive-recovery.js';
import { SessionLog } from './session-log.js';
import { localFiles, type ArchiveFiles } from './archive-files.js';
import type { ArchivedSegment } from './archive-layout.js';

/** A rendition's directory name (the same rule as the config's rung names). */
const RENDITION_DIR = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** What a restart brings back of a rendition's live window. */
export interface RestoredRendition {
  /** The newest playlist's segments, consecutive MSNs, oldest first. */
  segments: ArchivedSegment[];
  /** The EXT-X-DISCONTINUITY-SEQUENCE of the live window that listed them. */
  discontinuitySequence: number;
  inits: Map<number, Buffer>;
  tracks: TrackInfo[];
}

/**
 * One channel's archive: a writer and a reader per rendition, and the session log. The live
 * window hands it every part; players read DVR and catchup back from it.
 */
export class ChannelArchive {
  readonly sessions: SessionLog;
  private readonly readers = new Map<string, ArchiveReader>();
  /** What every writer of this channel wrote, summed over renditions and sessions (/metrics). */
  readonly tally = new ArchiveTally();
  private readonly log: Logger;

  constructor(readonly dir: string, readonly channelId: string, private readonly gate: StorageGate, logger: Logger,
    readonly files: ArchiveFiles = localFiles) {
    this.sessions = new SessionLog(dir, files);
    this.log = logger.child({ component: 'archive', channel: channelId });
  }

  /** Whether other origins write this archive too (object storage): its newest playlist may be another origin's. */
  get shared(): boolean {
    return this.files !== localFiles;
  }

  /** Whether this origin's own disk holds the segment (written here, not only read from the shared store). */
  async heldLocally(rendition: string, segment: Pick<ArchivedSegment, 'hour' | 'msn'>): Promise<boolean> {
    return await localFiles.size(this.reader(rendition).segmentPath(segment)) !== undefined;
  }

  reader(rendition: string): ArchiveReader {
    let r = this.readers.get(rendition);
    if (!r) this.readers.set(rendition, (r = new ArchiveReader(join(this.dir, rendition), this.files)));
    return r;
  }

  /** The renditions that have an archive (the source, and each ladder rung ever archived), source first. */
  async renditions(): Promise<string[]> {
    const names = (await this.files.list(this.dir)).filter((e) => e.isDirectory && RENDITION_DIR.test(e.name)).map((e) => e.name);
    return names.sort((a, b) => (a === 'source' ? -1 : b === 'source' ? 1 : a.localeCompare(b)));
  }

  /** A writer feeding `window`'s archive state back as segments land on disk. */
  writer(rendition: string, window: LiveWindow): ArchiveWriter {
    return new ArchiveWriter(join(this.dir, rendition), this.gate, {
      persisted: (msn) => window.archived(msn),
      notPersisted: (msn) => window.notArchived(msn),
    }, this.log.child({ rendition }), this.files, undefined, this.tally);
  }

  /**
   * At start: indexes the segment a crash left open, closes a session the crash left open,
   * and returns the newest spanMs of the rendition's last playlist for the live window to list again.
   */
  async recover(rendition: string, spanMs: number): Promise<RestoredRendition | undefined> {
    const reader = this.reader(rendition);
    const recovered = await recoverOpenSegment(reader);
    if (recovered) this.log.warn({ msn: recovered.msn, bytes: recovered.bytes, durationMs: recovered.durationMs }, 'recovered the segment open at the last stop');
    const { segments: segs, discontinuitySequence } = spanMs > 0 ? await reader.latestPlaylist(spanMs) : { segments: [], discontinuitySequence: 0 };
    const last = segs[segs.length - 1];
    const sessions = await this.sessions.list();
    const open = sessions[sessions.length - 1];
    if (open && open.endMs === undefined) {
      const endMs = last ? last.programDateTimeMs + last.durationMs : open.startMs;
      await this.sessions.ended(Math.max(open.startMs, Math.round(endMs)));
      this.log.warn({ startMs: open.startMs }, 'closed the publish session left open at the last stop');
    }
    if (!last) return undefined;
    const inits = new Map<number, Buffer>();
    for (const s of segs) {
      if (inits.has(s.initId)) continue;
      const data = await reader.init(s.initId);
      if (data) inits.set(s.initId, data);
    }
    const tracks = await reader.tracks(last.initId);
    // Segments whose init is gone cannot play; keep the playable newest run.
    let from = segs.length;
    while (from > 0 && inits.has(segs[from - 1].initId)) from--;
    if (!tracks || from === segs.length) return undefined;
    // Each segment left out before the new first one moved its discontinuity into the sequence.
    const leftOut = segs.slice(1, from + 1).filter((s) => s.discontinuity).length;
    return { segments: segs.slice(from), inits, tracks, discontinuitySequence: discontinuitySequence + leftOut };
  }
}
