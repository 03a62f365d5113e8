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

  get(firstMsn: number): CompressedBlock | undefined {
    return this.blocks.get(firstMsn);
  }

  put(firstMsn: number, initBefore: number, text: string): CompressedBlock {
    const block = { firstMsn, initBefore, piece: deflatePiece(Buffer.from(text)) };
    this.blocks.set(firstMsn, block);
    return block;
  }

  /** Drops blocks that start before the first listed MSN (insertion order is MSN order, mostly). */
  prune(firstListedMsn: number): void {
    for (const msn of this.blocks.keys()) if (msn < firstListedMsn) this.blocks.delete(msn);
  }

  get size(): number {
    return this.blocks.size;
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
