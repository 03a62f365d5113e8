import { randomFillSync } from 'node:crypto';
import { RtmpProtocolError } from './errors.js';

/** RTMP version byte (C0/S0). 3 is plain RTMP; 6 would be RTMPE, which we do not speak. */
export const RTMP_VERSION = 3;
/** Size of C1/S1/C2/S2 (RTMP spec 5.2.3). */
export const HANDSHAKE_SIZE = 1536;

/** What one feed() produced: bytes to send to the peer and, once complete, bytes past C2. */
export interface HandshakeStep {
  /** Bytes to write to the peer (S0+S1+S2 once, after C0+C1 arrived). */
  out: Buffer | null;
  /** True once C2 has been received; `rest` then holds the first chunk-stream bytes. */
  done: boolean;
  rest: Buffer;
}

/**
 * Server side of the plain RTMP handshake (spec section 5.2): wait for C0+C1, answer with
 * S0+S1+S2 where S2 echoes C1, then wait for C2 and ignore its contents.
 *
 * S1 carries zero in its "version" bytes 4..7 so clients never try the Flash Player 9 digest
 * scheme against it (ffmpeg only validates a digest when playing and the server version >= 3;
 * librtmp/OBS only warn when S2 does not match their C1, and ours matches exactly).
 */
export class ServerHandshake {
  private state: 'c0c1' | 'c2' | 'done' = 'c0c1';
  private pending: Buffer = Buffer.alloc(0);

  /** Feeds bytes from the socket; the stream may be split anywhere. Throws RtmpProtocolError. */
  feed(data: Buffer): HandshakeStep {
    if (this.state === 'done') return { out: null, done: true, rest: data };
    this.pending = this.pending.length ? Buffer.concat([this.pending, data]) : data;
    let out: Buffer | null = null;
    if (this.state === 'c0c1') {
      if (this.pending.length >= 1 && this.pending[0] !== RTMP_VERSION) {
        throw new RtmpProtocolError('handshake',
          `unsupported RTMP version byte ${this.pending[0]} (only plain RTMP version 3 is accepted)`);
      }
      if (this.pending.length < 1 + HANDSHAKE_SIZE) return { out: null, done: false, rest: Buffer.alloc(0) };
      const c1 = this.pending.subarray(1, 1 + HANDSHAKE_SIZE);
      out = Buffer.allocUnsafe(1 + 2 * HANDSHAKE_SIZE);
      out[0] = RTMP_VERSION;
      const s1 = out.subarray(1, 1 + HANDSHAKE_SIZE);
      s1.writeUInt32BE(0, 0); // our epoch
      s1.writeUInt32BE(0, 4); // zero: plain handshake
      randomFillSync(s1, 8);
      c1.copy(out, 1 + HANDSHAKE_SIZE); // S2 = echo of C1
      this.pending = this.pending.subarray(1 + HANDSHAKE_SIZE);
      this.state = 'c2';
    }
    if (this.pending.length < HANDSHAKE_SIZE) return { out, done: false, rest: Buffer.alloc(0) };
    const rest = this.pending.subarray(HANDSHAKE_SIZE);
    this.pending = Buffer.alloc(0);
    this.state = 'done';
    return { out, done: true, rest };
  }

  get done(): boolean {
    return this.state === 'done';
  }
}
