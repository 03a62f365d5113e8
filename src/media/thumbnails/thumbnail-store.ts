import type { Logger } from 'pino';
import { localFiles, type ArchiveFiles } from '../../store/archive/archive-files.js';
import { HOUR_DIR, HOUR_MS, hourKey } from '../../store/archive/archive-layout.js';
import type { StorageGate } from '../../store/disk/storage-gate.js';
import { SerialWriter } from '../../store/disk/serial-writer.js';
import { RateLimitedLog } from '../../store/recording/rate-limited-log.js';
import { formatTileLine, parseTilesLog, type ThumbnailPaths, type TileRecord } from './thumbnail-layout.js';

/** Writes waiting beyond this many bytes are dropped: a slow disk must not grow memory. */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;

/**
 * One channel's thumbnails on disk (layout in thumbnail-layout.ts): periodic thumbnails,
 * sprite sheets, preview tiles alone and the tile index. Writes go one after another through a bounded queue, off
 * the event loop, and only while the storage gate is open (a full disk pauses them, like the
 * archive); reads go straight to the files.
 */
export class ThumbnailStore {
  private readonly writer: SerialWriter;
  private readonly dropLog: RateLimitedLog;
  /** Writes refused: disk low or the queue full. */
  dropped = 0;

  constructor(
    readonly paths: ThumbnailPaths,
    private readonly gate: StorageGate,
    private readonly log: Logger,
    private readonly files: ArchiveFiles = localFiles,
    now: () => number = Date.now,
  ) {
    this.writer = new SerialWriter(MAX_PENDING_BYTES, (err) => {
      this.gate.reportWriteError(err);
      this.log.error({ err }, 'thumbnail write failed');
    });
    this.dropLog = new RateLimitedLog(log, 'warn', 'thumbnail writes dropped (disk low or slow)', now);
  }

  /** Keeps a periodic thumbnail; false when it was dropped. */
  saveThumbnail(timeMs: number, jpeg: Buffer): boolean {
    return this.enqueue(() => this.files.writeAtomic(this.paths.thumbnail(timeMs), jpeg), jpeg.length, { timeMs });
  }

  /** Keeps a preview tile's own JPEG (written once: a tile never changes); false when it was dropped. */
  saveTile(timeMs: number, jpeg: Buffer): boolean {
    return this.enqueue(() => this.files.writeAtomic(this.paths.tile(timeMs), jpeg), jpeg.length, { tileMs: timeMs });
  }

  /**
   * Replaces a sprite sheet with its newer version, then indexes the tiles that version added
   * (in that order, so the index never names pixels not yet on disk). False when dropped: the
   * caller keeps the tiles and offers them again with the next version.
   */
  saveSheet(sheetId: number, jpeg: Buffer, tiles: readonly TileRecord[]): boolean {
    const byHour = new Map<string, string>();
    for (const t of tiles) {
      const h = hourKey(t.timeMs);
      byHour.set(h, (byHour.get(h) ?? '') + formatTileLine(t));
    }
    return this.enqueue(async () => {
      await this.files.writeAtomic(this.paths.sheet(sheetId), jpeg);
      for (const [hour, lines] of byHour) await this.files.appendText(this.paths.tilesLog(hour), lines);
    }, jpeg.length, { sheetId });
  }

  private enqueue(op: () => Promise<void>, bytes: number, detail: Record<string, unknown>): boolean {
    if (this.gate.writable && this.writer.run(op, bytes)) return true;
    this.dropped++;
    this.dropLog.note({ ...detail, writable: this.gate.writable, pendingBytes: this.writer.pendingBytes, dropped: this.dropped });
    return false;
  }

  /** A periodic thumbnail by its time; undefined when there is none (or retention deleted it). */
  thumbnail(timeMs: number): Promise<Buffer | undefined> {
    return this.readWhole(this.paths.thumbnail(timeMs));
  }

  sheet(sheetId: number): Promise<Buffer | undefined> {
    return this.readWhole(this.paths.sheet(sheetId));
  }

  /** A preview tile's own JPEG by its time. */
  tile(timeMs: number): Promise<Buffer | undefined> {
    return this.readWhole(this.paths.tile(timeMs));
  }

  private async readWhole(path: string): Promise<Buffer | undefined> {
    const size = await this.files.size(path);
    if (size === undefined) return undefined;
    const data = await this.files.read(path, 0, size);
    return data && data.length === size ? data : undefined;
  }

  /** The newest kept periodic thumbnail (restart: thumbnail.jpg shows it again), if any. */
  async newestThumbnail(): Promise<{ timeMs: number; data: Buffer } | undefined> {
    const hours = (await this.files.list(this.paths.root)).filter((e) => e.isDirectory && HOUR_DIR.test(e.name)).map((e) => e.name).sort();
    for (let i = hours.length - 1; i >= 0; i--) {
      const times = (await this.files.list(this.paths.hourDir(hours[i]))).map((e) => /^(\d{1,16})\.jpg$/.exec(e.name)).filter((m) => m !== null).map((m) => Number(m[1]));
      if (times.length === 0) continue;
      const timeMs = Math.max(...times);
      const data = await this.thumbnail(timeMs);
      if (data) return { timeMs, data };
    }
    return undefined;
  }

  /** Indexed tiles with fromMs ≤ timeMs < toMs, oldest first. */
  async tiles(fromMs: number, toMs: number): Promise<TileRecord[]> {
    const out: TileRecord[] = [];
    for (let t = Math.floor(fromMs / HOUR_MS) * HOUR_MS; t < toMs; t += HOUR_MS) {
      const text = await this.files.readText(this.paths.tilesLog(hourKey(t)));
      if (!text) continue;
      for (const tile of parseTilesLog(text)) if (tile.timeMs >= fromMs && tile.timeMs < toMs) out.push(tile);
    }
    return out.sort((a, b) => a.timeMs - b.timeMs);
  }

  /** Resolves once every write queued so far has landed. */
  idle(): Promise<void> {
    this.dropLog.flush();
    return this.writer.idle();
  }
}
