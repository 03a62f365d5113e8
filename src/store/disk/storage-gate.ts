import { statfs } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { EventBus } from '../../events.js';

/**
 * Whether writers (archive, recordings) may write to dataDir now. When the disk runs low they
 * stop writing (and drop what they would have written) while live delivery, which serves from
 * memory, keeps going; they resume when space comes back.
 */
export interface StorageGate {
  readonly writable: boolean;
  /** A writer hit a write error; ENOSPC and EDQUOT close the gate at once. */
  reportWriteError(err: NodeJS.ErrnoException): void;
}

export interface DiskSpaceGuardOptions {
  dataDir: string;
  /** Below this many free bytes the gate closes. */
  minFreeBytes: number;
  /** It opens again once free space is above minFreeBytes plus this margin (no flapping). */
  resumeMarginBytes: number;
  checkIntervalMs: number;
  events: EventBus;
  logger: Logger;
  /** Free bytes on the file system holding dataDir; injected by tests. */
  freeBytes?: (dir: string) => Promise<number>;
}

const FULL_DISK_CODES = new Set(['ENOSPC', 'EDQUOT']);

async function statfsFree(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

/** Polls free space under dataDir and opens or closes the gate, with one event per change. */
export class DiskSpaceGuard implements StorageGate {
  writable = true;
  /** Free bytes at the last successful poll (undefined before it); readiness reports it. */
  lastFreeBytes: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private readonly freeBytes: (dir: string) => Promise<number>;
  private readonly log: Logger;

  constructor(private readonly opts: DiskSpaceGuardOptions) {
    this.freeBytes = opts.freeBytes ?? statfsFree;
    this.log = opts.logger.child({ component: 'storage' });
  }

  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.opts.checkIntervalMs);
    this.timer.unref();
  }

  /** One poll; concurrent calls share it. */
  check(): Promise<void> {
    this.checking ??= this.poll().finally(() => { this.checking = undefined; });
    return this.checking;
  }

  private async poll(): Promise<void> {
    let free: number;
    try {
      free = await this.freeBytes(this.opts.dataDir);
    } catch (err) {
      this.log.warn({ err }, 'cannot read free disk space');
      return;
    }
    this.lastFreeBytes = free;
    if (this.writable && free < this.opts.minFreeBytes) this.close(free, 'free space below storage.minFreeMb');
    else if (!this.writable && free >= this.opts.minFreeBytes + this.opts.resumeMarginBytes) this.open(free);
  }

  reportWriteError(err: NodeJS.ErrnoException): void {
    if (this.writable && err.code && FULL_DISK_CODES.has(err.code)) this.close(0, `write failed: ${err.code}`);
  }

  private close(freeBytes: number, reason: string): void {
    this.writable = false;
    this.log.error({ freeBytes, minFreeBytes: this.opts.minFreeBytes, reason }, 'disk low: archiving and recording paused, live delivery goes on');
    this.opts.events.emit('storage.low', { dataDir: this.opts.dataDir, freeBytes, minFreeBytes: this.opts.minFreeBytes, reason });
  }

  private open(freeBytes: number): void {
    this.writable = true;
    this.log.info({ freeBytes }, 'disk space back: archiving and recording resume');
    this.opts.events.emit('storage.ok', { dataDir: this.opts.dataDir, freeBytes });
  }

  stop(): void {
    clearInterval(this.timer);
  }

  get minFreeBytes(): number {
    return this.opts.minFreeBytes;
  }
}

/** A gate that is always open, for writers used without a guard (tests, tools). */
export const ALWAYS_WRITABLE: StorageGate = { writable: true, reportWriteError: () => {} };
