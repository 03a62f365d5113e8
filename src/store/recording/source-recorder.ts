/**
 * Records a channel's source rendition, as the publisher sent it (no transcode), to fragmented
 * MP4 files: the session's init segment, then its parts (moof + mdat each) in order. Such a
 * file is valid at every part boundary, so a crash loses at most the part being written, and
 * RecordingCatalog.recover() cuts a torn tail at the next start.
 *
 * A file always starts at a segment start (a keyframe) with the init bytes, and never holds a
 * hole: whatever interrupts writing (disk low, a write error, a full queue, a new init) ends
 * the file at its last whole part, and the next file opens at the next segment start.
 */
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { EventBus } from '../../events.js';
import { SerialWriter } from '../disk/serial-writer.js';
import type { StorageGate } from '../disk/storage-gate.js';
import { FileTimeline } from './file-timeline.js';
import { parseInit, type TrackFacts } from './mp4-boxes.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { recordingFileName, sidecarPath, writeSidecar } from './sidecar.js';

export interface SourceRecorderOptions {
  channelId: string;
  /** The channel's recording folder, `<dataDir>/recordings/<channel>`; created on first write. */
  dir: string;
  /** A file is closed at the first segment start once it holds this much media. */
  rotateAfterMs: number;
  gate: StorageGate;
  events: EventBus;
  logger: Logger;
  /** Wall clock, epoch ms (file names, startedAt/endedAt); injected by tests. */
  now?: () => number;
  /** Bytes waiting for the disk beyond which parts are dropped (and the file ended); default 64 MiB. */
  maxPendingBytes?: number;
}

/** A part as the channel hands it over (msn, index within the segment, moof+mdat bytes). */
export interface RecorderPart {
  msn: number;
  index: number;
  durationMs: number;
  segmentStart: boolean;
  data: Buffer;
}

/** The current publish session's init segment and the track facts read from it. */
interface Session {
  init: Buffer;
  tracks: Map<number, TrackFacts>;
}

/**
 * One file. `queued*` is what has been handed to the writer (drives rotation, on the event
 * loop); the other counters are what the disk has confirmed, updated by the writer's ops, so
 * the sidecar and a truncation after a failed write never claim more than is there.
 */
interface RecordingFile {
  path: string;
  startedAtMs: number;
  firstMsn: number;
  openReason: string;
  timeline: FileTimeline;
  queuedMs: number;
  queuedParts: number;
  handle?: FileHandle;
  /** A write failed: later ops for this file are skipped; finalize cuts back to `bytes`. */
  failed: boolean;
  bytes: number;
  durationMs: number;
  lastMsn: number;
  parts: number;
}

const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;

/** Writes every buffer whole: write(2) may write less than asked (a disk filling up). */
async function writeAll(fh: FileHandle, bufs: Buffer[]): Promise<void> {
  for (const b of bufs) {
    for (let off = 0; off < b.length;) off += (await fh.write(b, off, b.length - off)).bytesWritten;
  }
}

/**
 * Creates the file exclusively: a name already taken (a new session in the same second at the
 * same msn) gets _2, _3, … ('_' sorts after '.', so the later file still lists after the first).
 */
async function createExclusive(base: string): Promise<{ fh: FileHandle; path: string }> {
  for (let n = 1; ; n++) {
    const path = n === 1 ? base : base.replace(/\.mp4$/, `_${n}.mp4`);
    try {
      return { fh: await open(path, 'wx'), path };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || n >= 1000) throw err;
    }
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The source recorder of one channel. Calls come from the channel on the event loop and never
 * wait for the disk: every file operation is queued on a SerialWriter (bounded by bytes).
 */
export class SourceRecorder {
  private readonly writer: SerialWriter;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly drops: RateLimitedLog;
  private readonly writeErrors: RateLimitedLog;
  private session: Session | undefined;
  private file: RecordingFile | undefined;
  private nextOpenReason = 'session start';
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: SourceRecorderOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.logger.child({ component: 'recording', channel: opts.channelId });
    this.drops = new RateLimitedLog(this.log, 'warn', 'recording parts dropped', this.now);
    this.writeErrors = new RateLimitedLog(this.log, 'error', 'recording write failed', this.now);
    // Ops catch their own errors (see queue()); this only sees a bug in that handling.
    this.writer = new SerialWriter(opts.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
      (err) => this.log.error({ err }, 'recording writer op failed'));
  }

  /** A new publish session begins: the current file (if any) ends; the next init starts anew. */
  startSession(): void {
    if (this.closing) return;
    if (this.file) this.finish('new session');
    this.session = undefined;
    this.nextOpenReason = 'session start';
  }

  /** The session's init segment. A different one mid-session (new codec setup) ends the file. */
  addInit(data: Buffer): void {
    if (this.closing || this.session?.init.equals(data)) return;
    if (this.file) this.finish('new init segment');
    try {
      this.session = { init: data, tracks: parseInit(data) };
    } catch (err) {
      this.session = undefined;
      this.log.error({ err }, 'unreadable init segment: this session is not recorded');
    }
  }

  /** One part (moof + mdat) of the session, in order. */
  addPart(part: RecorderPart): void {
    if (this.closing) return;
    if (this.file?.failed) this.finish('write error');
    if (!this.opts.gate.writable) {
      // Nothing is written while the gate is closed, and the file ends here: appending later
      // would leave a hole in the middle of it.
      if (this.file) this.finish('storage paused');
      return this.drops.note({ reason: 'storage paused' });
    }
    if (!this.session) return this.drops.note({ reason: 'no init segment' });
    // Rotate only at a segment start, so every file starts with a keyframe.
    if (this.file && part.segmentStart && this.file.queuedMs >= this.opts.rotateAfterMs) this.finish('rotation');
    if (!this.file && !part.segmentStart) return this.drops.note({ reason: 'waiting for a segment start' });

    let bytes: [Buffer, Buffer] | undefined;
    try {
      bytes = this.rebased(part);
    } catch (err) {
      if (this.file) this.finish('unreadable part');
      this.log.error({ err, msn: part.msn, part: part.index }, 'unreadable part: not recorded');
      return;
    }
    const file = this.file;
    if (!bytes || !file) return;

    // The previous segment is complete: the sidecar catches up (at most one segment behind).
    if (part.segmentStart && file.queuedParts > 0) this.queue(file, 0, () => this.saveSidecar(file));
    if (!this.queue(file, part.data.length, () => this.append(file, bytes, part))) {
      this.finish('write queue full');
      return this.drops.note({ reason: 'write queue full', pendingBytes: this.writer.pendingBytes });
    }
    file.queuedMs += part.durationMs;
    file.queuedParts++;
  }

  /** The publish session ended: finalizes the current file; resolves once it is on disk. */
  async endSession(): Promise<void> {
    if (this.file) this.finish('unpublish');
    this.session = undefined;
    this.drops.flush();
    await this.writer.idle();
  }

  /** Resolves once every write queued so far has run (the current file stays open). */
  idle(): Promise<void> {
    return this.writer.idle();
  }

  /** Process shutdown: finalizes the current file and ignores later calls. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      if (this.file) this.finish('shutdown');
      this.session = undefined;
      this.drops.flush();
      this.closing = this.writer.idle();
    }
    return this.closing;
  }

  /**
   * The part's bytes rebased into the current file, opening a file first when none is open.
   * Undefined when the part cannot go anywhere (no file can be opened for it).
   */
  private rebased(part: RecorderPart): [Buffer, Buffer] | undefined {
    if (!this.file && !this.open(part.msn)) return undefined;
    const bytes = this.file!.timeline.rebase(part.data);
    if (bytes) return bytes;
    // The publisher's clock went back: this file's timeline cannot take the part.
    this.finish('timestamps went back');
    if (!part.segmentStart) {
      this.drops.note({ reason: 'waiting for a segment start' });
      return undefined;
    }
    return this.open(part.msn) ? this.file!.timeline.rebase(part.data) : undefined;
  }

  /** Starts a file whose first segment is `msn`; false when the writer cannot take the init. */
  private open(msn: number): boolean {
    const session = this.session!;
    const startedAtMs = this.now();
    const file: RecordingFile = {
      path: join(this.opts.dir, recordingFileName(startedAtMs, msn)), startedAtMs, firstMsn: msn,
      openReason: this.nextOpenReason, timeline: new FileTimeline(session.tracks),
      queuedMs: 0, queuedParts: 0, failed: false, bytes: 0, durationMs: 0, lastMsn: msn, parts: 0,
    };
    if (!this.queue(file, session.init.length, () => this.create(file, session.init))) {
      this.drops.note({ reason: 'write queue full', pendingBytes: this.writer.pendingBytes });
      return false;
    }
    this.drops.flush();
    this.file = file;
    return true;
  }

  /** Ends the current file: queues its finalization; the next file opens at a segment start. */
  private finish(reason: string): void {
    const file = this.file!;
    this.file = undefined;
    this.nextOpenReason = `after ${reason}`;
    const endedAtMs = this.now();
    this.writer.run(() => this.finalize(file, reason, endedAtMs));
  }

  /** Queues an op for `file`; skipped once a write of that file failed. */
  private queue(file: RecordingFile, bytes: number, op: () => Promise<void>): boolean {
    return this.writer.run(async () => {
      if (file.failed) return;
      try {
        await op();
      } catch (err) {
        file.failed = true;
        this.writeFailed(err as NodeJS.ErrnoException, file);
      }
    }, bytes);
  }

  private writeFailed(err: NodeJS.ErrnoException, file: RecordingFile): void {
    this.opts.gate.reportWriteError(err);
    this.writeErrors.note({ err, file: file.path });
  }

  private async create(file: RecordingFile, init: Buffer): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true });
    const { fh, path } = await createExclusive(file.path);
    file.handle = fh;
    file.path = path;
    // The sidecar exists from the start, so a crash at any point leaves a file recover() finds.
    await this.saveSidecar(file);
    await writeAll(fh, [init]);
    file.bytes = init.length;
    this.log.info({ file: path, firstMsn: file.firstMsn, reason: file.openReason }, 'recording opened');
  }

  private async append(file: RecordingFile, bytes: Buffer[], part: RecorderPart): Promise<void> {
    await writeAll(file.handle!, bytes);
    file.bytes += part.data.length;
    file.durationMs += part.durationMs;
    file.lastMsn = part.msn;
    file.parts++;
  }

  private saveSidecar(file: RecordingFile, endedAtMs?: number): Promise<void> {
    return writeSidecar(file.path, {
      channel: this.opts.channelId, startedAt: iso(file.startedAtMs), endedAt: endedAtMs === undefined ? null : iso(endedAtMs),
      durationMs: file.durationMs, bytes: file.bytes, complete: endedAtMs !== undefined,
      firstMsn: file.firstMsn, lastMsn: file.lastMsn,
    });
  }

  /** Runs after the file's last append, whether or not its writes failed. */
  private async finalize(file: RecordingFile, reason: string, endedAtMs: number): Promise<void> {
    const fh = file.handle;
    if (!fh) return; // never created: nothing on disk
    file.handle = undefined;
    try {
      if (file.parts === 0) {
        // Only the init made it: nothing to play, so no recording.
        await fh.close();
        await rm(file.path, { force: true });
        await rm(sidecarPath(file.path), { force: true });
        this.log.warn({ file: file.path, reason }, 'recording discarded: no media written');
        return;
      }
      // After a failed write the tail may hold part of a part: cut back to the last whole one.
      if (file.failed) await fh.truncate(file.bytes);
      // The media reaches the disk before the sidecar says complete (power loss in between).
      await fh.datasync();
      await fh.close();
      await this.saveSidecar(file, endedAtMs);
    } catch (err) {
      await fh.close().catch(() => {});
      this.writeFailed(err as NodeJS.ErrnoException, file);
      this.log.error({ file: file.path, reason }, 'recording not finalized: recovery completes it at the next start');
      return;
    }
    const payload = {
      channel: this.opts.channelId, file: file.path, bytes: file.bytes, durationMs: file.durationMs,
      startedAt: iso(file.startedAtMs), endedAt: iso(endedAtMs),
    };
    const { channel: _c, ...facts } = payload; // the child logger already carries the channel
    this.log.info({ ...facts, reason }, 'recording finalized');
    this.opts.events.emit('recording.ready', payload);
  }
}
