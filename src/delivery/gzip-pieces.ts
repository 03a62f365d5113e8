import { constants, deflateRawSync } from 'node:zlib';

/**
 * One gzip member assembled from independently deflated pieces (RFC 1952, RFC 1951): each
 * piece is raw deflate ended by a full flush (byte-aligned, no reference to earlier data), so
 * pieces compressed once can be reused in many responses. A long DVR playlist is mostly blocks
 * of segment lines that never change: they are compressed once, and a response only compresses
 * the few lines around them. The CRC-32 of the whole is combined from the pieces' CRCs.
 */

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (gzip's) of buf, continuing from the CRC of what came before it. */
export function crc32(buf: Uint8Array, prev = 0): number {
  let c = ~prev >>> 0;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** a·b modulo the CRC polynomial (reflected), as zlib's multmodp. */
function multmodp(a: number, b: number): number {
  let m = 0x80000000, p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ 0xedb88320 : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) modulo the polynomial, k = 0..31 (zlib's x2n_table). */
const X2N = (() => {
  const t = new Uint32Array(32);
  let p = 0x40000000; // x^1
  t[0] = p;
  for (let n = 1; n < 32; n++) t[n] = p = multmodp(p, p);
  return t;
})();

/** x^(8·len) modulo the polynomial: the shift of a CRC over len more bytes. */
function shiftForBytes(len: number): number {
  let p = 0x80000000; // x^0
  let k = 3; // 2^3 bits per byte
  while (len > 0) {
    if (len & 1) p = multmodp(X2N[k & 31], p);
    len = Math.floor(len / 2);
    k++;
  }
  return p;
}

/** CRC-32 of A‖B from CRC(A), CRC(B) and the length of B (zlib's crc32_combine). */
export function crc32Combine(crcA: number, crcB: number, lenB: number): number {
  return (multmodp(shiftForBytes(lenB), crcA) ^ crcB) >>> 0;
}

/** A piece compressed once for reuse: its raw deflate (ended by a full flush), CRC and length. */
export interface DeflatedPiece {
  deflated: Buffer;
  crc: number;
  length: number;
}

export function deflatePiece(data: Buffer): DeflatedPiece {
  return { deflated: deflateRawSync(data, { finishFlush: constants.Z_FULL_FLUSH }), crc: crc32(data), length: data.length };
}

const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]); // deflate, no flags, mtime 0, OS unknown
const FINAL_BLOCK = deflateRawSync(Buffer.alloc(0)); // an empty final block ends the deflate stream

/** One gzip member of the pieces in order: raw Buffers are compressed now, DeflatedPieces reused. */
export function gzipPieces(pieces: readonly (Buffer | DeflatedPiece)[]): Buffer {
  const out: Buffer[] = [HEADER];
  let crc = 0, length = 0;
  for (const p of pieces) {
    if (Buffer.isBuffer(p)) {
      if (p.length === 0) continue;
      out.push(deflateRawSync(p, { finishFlush: constants.Z_FULL_FLUSH }));
      crc = crc32(p, crc);
      length += p.length;
    } else {
      out.push(p.deflated);
      crc = crc32Combine(crc, p.crc, p.length);
      length += p.length;
    }
  }
  out.push(FINAL_BLOCK);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(length % 0x100000000, 4);
  out.push(trailer);
  return Buffer.concat(out);
}
