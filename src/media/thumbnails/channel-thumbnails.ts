import type { Logger } from 'pino';
import type { SourceTap } from '../channel.js';
import type { AccessUnit, TrackInfo, VideoTrackInfo } from '../types.js';
import type { EventBus } from '../../events.js';
import type { PreviewTile, ThumbnailError, ThumbnailerHandlers, ThumbnailerOptions, ThumbnailerStats, ThumbnailPicture } from '../../addon/thumbnailer.js';
import { RateLimitedLog } from '../../store/recording/rate-limited-log.js';
import { KeyframePicker } from './keyframe-picker.js';
import { jpegSize } from './jpeg-size.js';
import type { ThumbnailSettings } from './thumbnail-settings.js';
import type { ThumbnailStore } from './thumbnail-store.js';
import type { TileRecord } from './thumbnail-layout.js';
import { SequenceNumbers } from './sequence-numbers.js';

/** What the service needs of the native thumbnailer (src/addon/thumbnailer.ts implements it). */
export interface ThumbnailerLike {
  submit(data: Buffer, timeMs: number, what: { thumbnail?: boolean; tile?: boolean }): boolean;
  close(): Promise<void>;
  stats(): ThumbnailerStats;
}

export type ThumbnailerFactory = (opts: ThumbnailerOptions, handlers: ThumbnailerHandlers) => ThumbnailerLike;

export interface ChannelThumbnailsOptions {
  channelId: string;
  settings: ThumbnailSettings;
  createThumbnailer: ThumbnailerFactory;
  logger: Logger;
  /** The channel's thumbnails on disk, when its archive is on; without it they live in RAM only. */
  store?: ThumbnailStore;
  /** How long preview tiles stay listed for the live track: the DVR window (plus a margin). */
  retainMs: number;
  events?: EventBus;
  now?: () => number;
}

/** The newest periodic thumbnail. */
export interface LatestThumbnail {
  timeMs: number;
  width: number;
  height: number;
  data: Buffer;
}

/** A sprite sheet as it can be served now. */
export interface SheetImage {
  data: Buffer;
  /** No tile will be added: the bytes never change again (immutable). */
  complete: boolean;
}

/** One publish session's thumbnailer and its native sheet ordinals ▶ sheet ids (the first tile's time). */
interface Session {
  thumbnailer: ThumbnailerLike;
  videoTrackId: number;
  sheetIds: Map<number, number>;
  failures: number;
  /** Per submitted keyframe still in the worker, oldest first: how many pictures it will give. */
  expected: number[];
}

/** A sheet of the current or the previous session held in RAM, with its tiles' own JPEGs. */
interface SheetState {
  id: number;
  data: Buffer;
  complete: boolean;
  /** Tiles whose pixels are in `data` but not yet in the file (and not yet in tiles.log). */
  unsaved: TileRecord[];
  /** Each tile's JPEG alone, by its time (the live image playlist's segments), while the sheet is in RAM. */
  tileImages: Map<number, Buffer>;
}

/** One result of the session's oldest keyframe in the worker arrived (an error ends the keyframe). */
function received(session: Session, failed: boolean): void {
  if (failed || --session.expected[0] <= 0) session.expected.shift();
}

/**
 * Older sheets are read from disk; RAM keeps the one being filled and the one before (a live
 * track's window without the archive spans at most those two), and their tiles' own JPEGs
 * (3-6 KB each at 160x90: about 1 MB for two default sheets).
 */
const SHEETS_IN_RAM = 2;

/**
 * One channel's thumbnails and scrubbing previews, fed with the source access units of every
 * publish session (a SourceTap beside the pipeline). Picks keyframes (a thumbnail every
 * `intervalSec`, a preview tile every `preview.intervalSec`), hands them to the native
 * thumbnailer (decode, scale, JPEG on its own thread), keeps the newest thumbnail and the recent
 * tiles in RAM for the live routes, and, with the archive on, every thumbnail, sheet and tile on
 * disk for catchup. Never throws into ingest; a keyframe that fails costs only its pictures.
 */
export class ChannelThumbnails implements SourceTap {
  private session: Session | undefined;
  private readonly thumbPicker: KeyframePicker;
  private readonly tilePicker: KeyframePicker;
  private latestPicture: LatestThumbnail | undefined;
  /** Tiles of the live track, oldest first, pruned to retainMs. */
  private readonly recentTiles: TileRecord[] = [];
  /** Media sequence numbers of the tiles recentTiles holds: the image playlist's numbering. */
  private readonly tileNumbers = new SequenceNumbers();
  private readonly sheets: SheetState[] = [];
  private readonly closing = new Set<Promise<void>>();
  private closed = false;
  private readonly log: Logger;
  private readonly failLog: RateLimitedLog;
  private readonly busyLog: RateLimitedLog;
  private readonly now: () => number;

  constructor(private readonly opts: ChannelThumbnailsOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.logger.child({ component: 'thumbnails', channel: opts.channelId });
    this.thumbPicker = new KeyframePicker(opts.settings.intervalSec * 1000);
    this.tilePicker = new KeyframePicker(opts.settings.preview.intervalSec * 1000);
    this.failLog = new RateLimitedLog(this.log, 'warn', 'keyframes gave no thumbnail', this.now);
    this.busyLog = new RateLimitedLog(this.log, 'warn', 'thumbnailer busy: keyframes skipped', this.now);
  }

  /** The preview interval, ms (how long a cue lasts). */
  get previewIntervalMs(): number {
    return this.tilePicker.intervalMs;
  }

  /** Whether scrubbing previews (tiles, sheets) are made, and how a sheet lays its tiles out. */
  get previews(): { enabled: boolean; columns: number; rows: number } {
    const { enabled, columns, rows } = this.opts.settings.preview;
    return { enabled, columns, rows };
  }

  setTracks(tracks: TrackInfo[]): void {
    this.endSession();
    const video = tracks.find((t): t is VideoTrackInfo => t.kind === 'video');
    if (!video || this.closed) return;
    const s = this.opts.settings;
    const session: Partial<Session> = { videoTrackId: video.id, sheetIds: new Map(), failures: 0, expected: [] };
    try {
      session.thumbnailer = this.opts.createThumbnailer({
        codecConfig: video.codecConfig, width: video.width, height: video.height, thumbnailWidth: s.width, quality: s.quality,
        tileWidth: s.preview.tileWidth, columns: s.preview.columns, rows: s.preview.rows,
      }, {
        onThumbnail: (p) => { this.onThumbnail(p); received(session as Session, false); },
        onTile: (t) => { this.onTile(session as Session, t); received(session as Session, false); },
        onError: (e) => { this.onError(session as Session, e); received(session as Session, true); },
      });
      this.session = session as Session;
    } catch (err) {
      // The pipeline may still play what the thumbnailer refused (e.g. a size it cannot scale).
      const e = err as Error & { code?: string };
      this.log.error({ err, code: e.code }, 'no thumbnails for this session');
      this.opts.events?.emit('channel.error', { channel: this.opts.channelId, code: e.code ?? 'ERR_THUMBNAILS', message: `thumbnails: ${e.message}` });
    }
  }

  write(au: AccessUnit, programDateTimeMs: number): void {
    const th = this.session?.thumbnailer;
    if (!au.keyframe || au.trackId !== this.session?.videoTrackId || !th) return;
    const thumbnail = this.thumbPicker.due(programDateTimeMs);
    const tile = this.opts.settings.preview.enabled && this.tilePicker.due(programDateTimeMs);
    if (!thumbnail && !tile) return;
    if (!th.submit(au.data, programDateTimeMs, { thumbnail, tile })) {
      // Still busy with earlier keyframes (a slow machine): the next keyframe is tried instead.
      this.busyLog.note({ stats: th.stats() });
      return;
    }
    this.session!.expected.push(Number(thumbnail) + Number(tile));
    if (thumbnail) this.thumbPicker.taken(programDateTimeMs);
    if (tile) this.tilePicker.taken(programDateTimeMs);
  }

  endSession(): void {
    const session = this.session;
    this.session = undefined;
    this.thumbPicker.reset();
    this.tilePicker.reset();
    if (!session) return;
    // The last tiles arrive until close() resolves; then the session's last sheet is final.
    const p = session.thumbnailer.close().then(() => {
      for (const id of session.sheetIds.values()) {
        const sheet = this.sheets.find((x) => x.id === id);
        if (sheet && !sheet.complete) this.completeSheet(sheet);
      }
    }).catch((err) => this.log.error({ err }, 'thumbnailer close failed'))
      .finally(() => this.closing.delete(p));
    this.closing.add(p);
  }

  private onThumbnail(p: ThumbnailPicture): void {
    this.latestPicture = { timeMs: p.timeMs, width: p.width, height: p.height, data: p.data };
    this.opts.store?.saveThumbnail(p.timeMs, p.data);
  }

  private onTile(session: Session, t: PreviewTile): void {
    let id = session.sheetIds.get(t.sheet);
    if (id === undefined) {
      // A sheet begins with its tile 0 (failed keyframes take no slot): named by that tile's time.
      id = t.timeMs;
      session.sheetIds.set(t.sheet, id);
      const prev = this.sheets[this.sheets.length - 1];
      if (prev && !prev.complete) this.completeSheet(prev);
      this.sheets.push({ id, data: t.data, complete: false, unsaved: [], tileImages: new Map() });
      if (this.sheets.length > SHEETS_IN_RAM) this.sheets.shift();
    }
    const sheet = this.sheets.find((s) => s.id === id);
    if (!sheet) return;
    const tile: TileRecord = { timeMs: t.timeMs, sheetId: id, x: t.x, y: t.y, width: t.width, height: t.height };
    sheet.data = t.data;
    sheet.unsaved.push(tile);
    sheet.tileImages.set(t.timeMs, t.tileData);
    // Written at once, unlike the sheet: a tile's JPEG never changes (a dropped write leaves the
    // tile served from RAM while its sheet is there, and missing from disk).
    this.opts.store?.saveTile(t.timeMs, t.tileData);
    this.recentTiles.push(tile);
    this.tileNumbers.assign([t.timeMs]);
    this.prune();
    const { columns, rows } = this.opts.settings.preview;
    if (t.index === columns * rows - 1) this.completeSheet(sheet);
    // Written to disk once per row (not at every tile): the newest row is served from RAM.
    else if ((t.index + 1) % columns === 0) this.saveSheet(sheet);
  }

  private completeSheet(sheet: SheetState): void {
    sheet.complete = true;
    this.saveSheet(sheet);
  }

  private saveSheet(sheet: SheetState): void {
    if (sheet.unsaved.length === 0 || !this.opts.store) return;
    // Dropped (disk low): the tiles stay unsaved and go with the sheet's next version.
    if (this.opts.store.saveSheet(sheet.id, sheet.data, sheet.unsaved)) sheet.unsaved = [];
  }

  private onError(session: Session, e: ThumbnailError): void {
    this.failLog.note({ code: e.code, reason: e.message, timeMs: e.timeMs });
    // One event per session: a stream of damaged keyframes is one problem, not thousands.
    if (++session.failures === 1) {
      this.opts.events?.emit('channel.error', { channel: this.opts.channelId, code: e.code ?? 'ERR_THUMB_DECODE', message: `thumbnail: ${e.message}` });
    }
  }

  /** Drops tiles older than the live track's window and, without a store, tiles whose sheet left RAM. */
  private prune(): void {
    const cutoff = this.now() - this.opts.retainMs;
    const oldestSheet = this.sheets[0]?.id ?? Infinity;
    let n = 0;
    while (n < this.recentTiles.length
      && (this.recentTiles[n].timeMs < cutoff || (!this.opts.store && this.recentTiles[n].sheetId < oldestSheet))) n++;
    for (const t of this.recentTiles.splice(0, n)) this.tileNumbers.delete(t.timeMs);
  }

  /**
   * At start: brings back from disk the newest thumbnail and the tiles of the last retainMs, so
   * after a restart thumbnail.jpg answers and the restored DVR window has its previews again.
   */
  async restore(): Promise<void> {
    const store = this.opts.store;
    if (!store) return;
    const now = this.now();
    const [newest, tiles] = await Promise.all([store.newestThumbnail(), store.tiles(now - this.opts.retainMs, now + 1)]);
    if (newest && !this.latestPicture) {
      const { width, height } = jpegSize(newest.data);
      this.latestPicture = { ...newest, width, height };
    }
    const firstLive = this.recentTiles[0]?.timeMs ?? Infinity;
    const restored = tiles.filter((t) => t.timeMs < firstLive);
    this.recentTiles.unshift(...restored);
    this.tileNumbers.assign(restored.map((t) => t.timeMs), true);
  }

  /** Keyframes of the current session handed to the thumbnailer whose pictures have not all come back. */
  get pending(): number {
    return this.session?.expected.length ?? 0;
  }

  /** The newest periodic thumbnail, before the first one undefined. */
  latest(): LatestThumbnail | undefined {
    return this.latestPicture;
  }

  /** Tiles of the live track with timeMs ≥ fromMs (the first may be older: it covers fromMs). */
  liveTiles(fromMs: number): TileRecord[] {
    const tiles = this.recentTiles;
    let i = tiles.length;
    while (i > 0 && tiles[i - 1].timeMs >= fromMs) i--;
    return tiles.slice(Math.max(0, i - 1));
  }

  /** Tiles with fromMs ≤ timeMs < toMs from disk, and the ones still in RAM only. */
  async tilesBetween(fromMs: number, toMs: number): Promise<TileRecord[]> {
    const stored = (await this.opts.store?.tiles(fromMs, toMs)) ?? [];
    const seen = new Set(stored.map((t) => t.timeMs));
    const pending = this.sheets.flatMap((s) => s.unsaved).filter((t) => t.timeMs >= fromMs && t.timeMs < toMs && !seen.has(t.timeMs));
    return pending.length === 0 ? stored : [...stored, ...pending].sort((a, b) => a.timeMs - b.timeMs);
  }

  /** The media sequence number of a live tile (its segment in the image playlist), while it is listed. */
  tileNumber(timeMs: number): number | undefined {
    return this.tileNumbers.get(timeMs);
  }

  /** A tile's own JPEG size in bytes while it is in RAM (the tiles of the newest two sheets), without reading the disk. */
  tileBytesInRam(timeMs: number): number | undefined {
    return this.tileInRam(timeMs)?.length;
  }

  /** A preview tile's own JPEG, by its time: from RAM while its sheet is there, else from disk. Never changes. */
  async tileImage(timeMs: number): Promise<Buffer | undefined> {
    return this.tileInRam(timeMs) ?? this.opts.store?.tile(timeMs);
  }

  private tileInRam(timeMs: number): Buffer | undefined {
    for (const s of this.sheets) {
      const data = s.tileImages.get(timeMs);
      if (data) return data;
    }
    return undefined;
  }

  /** A sprite sheet: from RAM while recent (the current one changes), else from disk. */
  async sheet(sheetId: number): Promise<SheetImage | undefined> {
    const s = this.sheets.find((x) => x.id === sheetId);
    if (s) return { data: s.data, complete: s.complete };
    const data = await this.opts.store?.sheet(sheetId);
    return data && { data, complete: true };
  }

  /** A periodic thumbnail by its time (the newest from RAM, older ones from disk). */
  async thumbnail(timeMs: number): Promise<Buffer | undefined> {
    if (this.latestPicture?.timeMs === timeMs) return this.latestPicture.data;
    return this.opts.store?.thumbnail(timeMs);
  }

  /** Whether pictures are kept on disk (periodic thumbnails by time, catchup previews). */
  get stored(): boolean {
    return this.opts.store !== undefined;
  }

  /** Ends the session's thumbnailer, waits for its last pictures and their writes. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.endSession();
    await Promise.all([...this.closing]);
    this.failLog.flush();
    this.busyLog.flush();
    await this.opts.store?.idle();
  }
}
