/**
 * Typed facade over the native Thumbnailer (loaded by native-module.ts): H.264 keyframes in,
 * JPEG thumbnails, scrubbing-preview tiles and their sprite sheets out, decoded, scaled and encoded on a
 * native worker thread, never on the event loop.
 */
import { callGuarded, loadNative, WorkerClose, type NativeError } from './native-module.js';

export interface ThumbnailerOptions {
  /** The source's AVCDecoderConfigurationRecord (VideoTrackInfo.codecConfig). */
  codecConfig: Buffer;
  /** Source picture size (from the SPS); thumbnail and tile heights keep its aspect ratio. */
  width: number;
  height: number;
  /** Width of periodic thumbnails, even. */
  thumbnailWidth: number;
  /** Width of one preview tile, even. */
  tileWidth: number;
  /** Tiles per sprite sheet row and column. */
  columns: number;
  rows: number;
  /** JPEG quantizer, 2 (best) … 31, as ffmpeg's -q:v; default 4. */
  quality?: number;
  /** Keyframes waiting for the worker beyond which submit() drops (and counts); default 4. */
  maxQueue?: number;
}

/** A periodic thumbnail. */
export interface ThumbnailPicture {
  /** The time the caller gave with the keyframe (wall clock, epoch ms). */
  timeMs: number;
  width: number;
  height: number;
  /** JPEG bytes, handed over from native memory without a copy. */
  data: Buffer;
}

/** A preview tile: its own JPEG, where it was pasted into its sprite sheet, and the sheet as it is now. */
export interface PreviewTile {
  timeMs: number;
  /** Ordinal of the sheet within this thumbnailer, from 0: a full sheet starts the next. */
  sheet: number;
  /** Row-major index of the tile within its sheet. */
  index: number;
  /** The tile's area within the sheet, pixels. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** Size of `data`: the whole width, the rows used so far. */
  sheetWidth: number;
  sheetHeight: number;
  /** JPEG of the sheet including this tile. */
  data: Buffer;
  /** JPEG of this tile alone (width x height), for the live image playlist's one-tile segments. */
  tileData: Buffer;
}

/** A keyframe that gave no picture (ERR_THUMB_INPUT: malformed or not an IDR; ERR_THUMB_DECODE; ERR_THUMB_ENCODE). */
export type ThumbnailError = NativeError & { timeMs?: number };

export interface ThumbnailerStats {
  /** Keyframes waiting for the worker. */
  queued: number;
  /** Refused by submit(): queue full, closed, empty. */
  dropped: number;
  /** Accepted but gave no picture (an onError each). */
  failed: number;
  thumbnails: number;
  tiles: number;
}

export interface ThumbnailerHandlers {
  onThumbnail(p: ThumbnailPicture): void;
  onTile(t: PreviewTile): void;
  /** Per keyframe; the thumbnailer goes on with the next one. */
  onError(e: ThumbnailError): void;
}

interface NativeThumbnailer {
  readonly thumbnailHeight: number;
  readonly tileHeight: number;
  write(data: Buffer, timeMs: number, what: number): boolean;
  close(): void;
  stats(): ThumbnailerStats;
}

interface NativeModule {
  Thumbnailer: new (opts: ThumbnailerOptions, onEvent: (kind: 'thumbnail' | 'tile' | 'error' | 'done', payload: unknown) => void) => NativeThumbnailer;
}

const WANT_THUMBNAIL = 1, WANT_TILE = 2;

/**
 * One publish session's thumbnails. submit() copies a keyframe and returns at once; results
 * arrive on the event loop in submission order. close() must be called to end the worker (an
 * open thumbnailer does not keep the process alive; one dropped without close() is collected).
 */
export class Thumbnailer {
  readonly #native: NativeThumbnailer;
  readonly #close = new WorkerClose();
  /** Height of periodic thumbnails (even, from the source's aspect ratio). */
  readonly thumbnailHeight: number;
  /** Height of a preview tile. */
  readonly tileHeight: number;

  /** Throws an Error with code ERR_NATIVE_CONFIG on bad options or an avcC the decoder refuses. */
  constructor(opts: ThumbnailerOptions, h: ThumbnailerHandlers) {
    const { Thumbnailer: Native } = loadNative<NativeModule>();
    this.#native = new Native(opts, (kind, payload) => {
      if (kind === 'thumbnail') callGuarded(h.onThumbnail, payload as ThumbnailPicture, h.onError, 'ERR_THUMB_HANDLER');
      else if (kind === 'tile') callGuarded(h.onTile, payload as PreviewTile, h.onError, 'ERR_THUMB_HANDLER');
      else if (kind === 'error') h.onError(payload as ThumbnailError);
      else this.#close.done();
    });
    this.thumbnailHeight = this.#native.thumbnailHeight;
    this.tileHeight = this.#native.tileHeight;
  }

  /**
   * Queues one keyframe access unit (AVCC framing) for a thumbnail, a preview tile or both
   * (decoded once). False when nothing is asked, when closed, or when the worker is busy.
   */
  submit(data: Buffer, timeMs: number, what: { thumbnail?: boolean; tile?: boolean }): boolean {
    return this.#native.write(data, timeMs, (what.thumbnail ? WANT_THUMBNAIL : 0) | (what.tile ? WANT_TILE : 0));
  }

  /** Finishes the queued keyframes and joins the worker; resolves after the last callback. Idempotent. */
  close(): Promise<void> {
    return this.#close.close(() => this.#native.close());
  }

  stats(): ThumbnailerStats {
    return this.#native.stats();
  }
}
