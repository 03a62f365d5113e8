import { constants, inflateRawSync } from 'node:zlib';
import type { SettledBlock, SettledBlockCache } from '../packager/hls/media-playlist.js';
import { deflatePiece, gzipPieces, type DeflatedPiece } from './gzip-pieces.js';

/** A block of settled playlist lines, kept compressed only (~6 bytes per segment). */
export interface CompressedBlock extends SettledBlock {
  readonly piece: DeflatedPiece;
}

/**
 * The settled blocks of one rendition's window, compressed once when rendered. A gzip response
 * reuses them as they are; the rare client without gzip gets them inflated (a few ms for a
 * 6-hour window). Blocks that left the window are dropped at each render.
 */
export class SettledBlocks implements SettledBlockCache<CompressedBlock> {
  private readonly blocks = new Map<number, CompressedBlock>();
  /** Compressed bytes held. */
  bytes = 0;

  /** `onBytes` hears of every change in the bytes held (a budget over many of these). */
  constructor(private readonly onBytes: (delta: number) => void = () => undefined) {}

  private count(delta: number): void {
    this.bytes += delta;
    this.onBytes(delta);
  }

  get(firstMsn: number): CompressedBlock | undefined {
    return this.blocks.get(firstMsn);
  }

  put(firstMsn: number, initBefore: number, text: string): CompressedBlock {
    const block = { firstMsn, initBefore, piece: deflatePiece(Buffer.from(text)) };
    const old = this.blocks.get(firstMsn);
    if (old) this.count(-old.piece.deflated.length);
    this.blocks.set(firstMsn, block);
    this.count(block.piece.deflated.length);
    return block;
  }

  /** Drops blocks that start before the first listed MSN (insertion order is MSN order, mostly). */
  prune(firstListedMsn: number): void {
    for (const [msn, block] of this.blocks) {
      if (msn < firstListedMsn) {
        this.blocks.delete(msn);
        this.count(-block.piece.deflated.length);
      }
    }
  }

  get size(): number {
    return this.blocks.size;
  }
}

/**
 * The settled blocks of one window for each query suffix. A suffix is carried on every URI, so
 * a viewer with a token of their own (docs/playback-tokens.md) needs blocks of their own: the
 * first playlist they get costs the whole window once, every later one only its live edge. The
 * blocks without a suffix are always kept; those of suffixes are dropped least recently used
 * first beyond `maxSuffixBytes` of compressed text (a 2-hour window of 2-s segments with a
 * JWT on every URI is ~40 KB per viewer).
 */
export class SettledBlocksBySuffix {
  readonly plain = new SettledBlocks();
  /** Least recently used first (a Map keeps insertion order; a use re-inserts). */
  private readonly bySuffix = new Map<string, SettledBlocks>();
  private suffixBytes = 0;
  private readonly counter = (delta: number) => { this.suffixBytes += delta; };

  constructor(private readonly maxSuffixBytes = 64 * 1024 * 1024) {}

  /**
   * The blocks of a suffix, with the blocks that left the window dropped; suffixes not used for
   * longest go first when the others hold more than the budget. Costs O(blocks of this suffix).
   */
  for(suffix: string, firstListedMsn: number): SettledBlocks {
    if (suffix === '') {
      this.plain.prune(firstListedMsn);
      return this.plain;
    }
    let blocks = this.bySuffix.get(suffix);
    if (blocks) this.bySuffix.delete(suffix);
    else blocks = new SettledBlocks(this.counter);
    for (const [old, oldBlocks] of this.bySuffix) {
      if (this.suffixBytes <= this.maxSuffixBytes) break;
      this.bySuffix.delete(old);
      this.suffixBytes -= oldBlocks.bytes;
    }
    this.bySuffix.set(suffix, blocks);
    blocks.prune(firstListedMsn);
    return blocks;
  }

  /** Suffixes with blocks kept, and their compressed bytes, for tests and metrics. */
  get suffixes(): { count: number; bytes: number } {
    return { count: this.bySuffix.size, bytes: this.suffixBytes };
  }
}

/** A rendered playlist of text pieces and compressed blocks: text and gzip made on first use. */
export class PiecewisePlaylist {
  private plain: Buffer | undefined;
  private zipped: Buffer | undefined;

  constructor(private readonly pieces: readonly (string | CompressedBlock)[], readonly lastModified: string) {}

  get text(): Buffer {
    return (this.plain ??= Buffer.concat(this.pieces.map((p) => (typeof p === 'string' ? Buffer.from(p)
      : inflateRawSync(p.piece.deflated, { finishFlush: constants.Z_SYNC_FLUSH })))));
  }

  get gzip(): Buffer {
    return (this.zipped ??= gzipPieces(this.pieces.map((p) => (typeof p === 'string' ? Buffer.from(p) : p.piece))));
  }
}
