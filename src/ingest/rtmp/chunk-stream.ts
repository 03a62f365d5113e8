import { RtmpProtocolError } from './errors.js';

/** One complete RTMP message reassembled from its chunks. */
export interface RtmpMessage {
  /** Chunk stream id it arrived on (2..65599). */
  csid: number;
  /** Message type id (1 Set Chunk Size, 8 audio, 9 video, 18 data, 20 command, ...). */
  type: number;
  /** Message stream id (0 = NetConnection, others = NetStreams). */
  streamId: number;
  /**
   * Milliseconds, unwrapped: RTMP carries 32-bit timestamps that wrap after ~49.7 days
   * (and encoders may start near the top); each chunk stream's sequence is unwrapped into a
   * monotonic number so a wrap never looks like a jump back in time.
   */
  timestamp: number;
  /** The 32-bit timestamp as it was on the wire. */
  rawTimestamp: number;
  payload: Buffer;
}

/** Protocol control message types that shape the chunk stream itself (spec 5.4). */
export const MSG_SET_CHUNK_SIZE = 1;
export const MSG_ABORT = 2;

export const DEFAULT_CHUNK_SIZE = 128;
/** Largest chunk size a peer may set: the field is 31 bits (spec 5.4.1). */
export const MAX_CHUNK_SIZE = 0x7fffffff;
/** Default cap on one message's length. Video frames of a live encoder are far below this. */
export const DEFAULT_MAX_MESSAGE_LENGTH = 16 * 1024 * 1024;

const TWO_32 = 0x1_0000_0000;
const TWO_31 = 0x8000_0000;

/** Per chunk stream state: the last header seen (for compressed headers) and a message in progress. */
interface ChunkStreamState {
  streamId: number;
  type: number;
  length: number;
  /** Last timestamp field value (absolute for type 0, delta for 1/2), extended if needed. */
  tsField: number;
  /** True when the last type 0/1/2 header used the extended timestamp field. */
  extended: boolean;
  /** Absolute 32-bit timestamp of the current/last message. */
  timestamp: number;
  /** Message in progress: received pieces (views of the input, no copy) and their total length. */
  pieces: Buffer[] | null;
  received: number;
  /** Unwrapping state. */
  lastRaw: number;
  epoch: number;
  seen: boolean;
}

export interface ChunkStreamParserOptions {
  maxMessageLength?: number;
}

/**
 * Incremental RTMP chunk stream parser (spec section 5.3). Feed it whatever the socket
 * delivered; it returns the messages completed by those bytes, in order. Set Chunk Size and
 * Abort are applied here (they change how the following bytes parse) and also returned.
 *
 * Memory follows the bytes actually received, never a length the peer merely announced (a
 * hostile header claiming 16 MiB on each of 65k chunk streams allocates nothing): a message is
 * kept as views of the pushed buffers and joined once when complete, without a copy when it
 * arrived in one piece. Pushed buffers must therefore not be modified afterwards (socket data
 * never is). Only a split header (at most 18 bytes) is copied across feeds.
 */
export class ChunkStreamParser {
  private chunkSize = DEFAULT_CHUNK_SIZE;
  private readonly maxMessageLength: number;
  private readonly streams = new Map<number, ChunkStreamState>();
  private leftover: Buffer | null = null;
  /** Bytes held in unfinished messages across all chunk streams, and the cap on them. */
  private buffered = 0;
  private readonly maxBuffered: number;
  /** Chunk stream whose chunk payload we are in the middle of, and how much of it remains. */
  private current: ChunkStreamState | null = null;
  private currentCsid = 0;
  private chunkRemaining = 0;

  constructor(opts: ChunkStreamParserOptions = {}) {
    this.maxMessageLength = opts.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH;
    this.maxBuffered = 2 * this.maxMessageLength;
  }

  /** The peer's current chunk size. */
  get peerChunkSize(): number {
    return this.chunkSize;
  }

  /** Feeds bytes; returns the messages they completed. Throws RtmpProtocolError on bad input. */
  push(input: Buffer): RtmpMessage[] {
    const out: RtmpMessage[] = [];
    let data = input;
    if (this.leftover) {
      data = Buffer.concat([this.leftover, input]);
      this.leftover = null;
    }
    let pos = 0;
    while (pos < data.length) {
      if (this.current) {
        const st = this.current;
        const n = Math.min(this.chunkRemaining, data.length - pos);
        st.pieces!.push(data.subarray(pos, pos + n));
        st.received += n;
        this.buffered += n;
        if (this.buffered > this.maxBuffered) {
          throw new RtmpProtocolError('chunk', `more than ${this.maxBuffered} bytes of unfinished messages`);
        }
        this.chunkRemaining -= n;
        pos += n;
        if (this.chunkRemaining === 0) {
          this.current = null;
          if (st.received === st.length) this.complete(this.currentCsid, st, out);
        }
        continue;
      }
      const used = this.parseHeader(data, pos, out);
      if (used === 0) {
        this.leftover = Buffer.from(data.subarray(pos));
        break;
      }
      pos += used;
    }
    return out;
  }

  /**
   * Parses one chunk header at data[pos..]. Returns the bytes consumed, or 0 when the header
   * is not complete yet. Sets up `current` for the chunk's payload.
   */
  private parseHeader(data: Buffer, pos: number, out: RtmpMessage[]): number {
    const avail = data.length - pos;
    const b0 = data[pos];
    const fmt = b0 >> 6;
    let csid = b0 & 0x3f;
    let p = pos + 1;
    if (csid === 0) {
      if (avail < 2) return 0;
      csid = 64 + data[p];
      p += 1;
    } else if (csid === 1) {
      if (avail < 3) return 0;
      csid = 64 + data[p] + data[p + 1] * 256;
      p += 2;
    }
    let st = this.streams.get(csid);
    // Checked before waiting for the rest of the header, so garbage fails on its first bytes.
    if (!st && fmt !== 0) {
      throw new RtmpProtocolError('chunk', `chunk stream ${csid} starts with a type ${fmt} header (needs type 0)`);
    }
    const headerLen = fmt === 0 ? 11 : fmt === 1 ? 7 : fmt === 2 ? 3 : 0;
    if (data.length - p < headerLen) return 0;

    if (!st) {
      st = {
        streamId: 0, type: 0, length: 0, tsField: 0, extended: false, timestamp: 0,
        pieces: null, received: 0, lastRaw: 0, epoch: 0, seen: false,
      };
    }

    if (fmt === 3) {
      // No message header: everything repeats. ffmpeg and librtmp (OBS) repeat the extended
      // timestamp on type-3 chunks, other encoders do not; the spec is ambiguous. We accept
      // the 4 bytes as extended timestamp only if they equal the value we expect, which is
      // what a sender that repeats them must send.
      let used = p - pos;
      if (st.extended) {
        if (data.length - p < 4) return 0;
        if (data.readUInt32BE(p) === st.tsField) used += 4;
      }
      if (!st.pieces) {
        // A new message with every header field repeated, timestamp advancing by the last delta
        // (after a type 0 header, "delta" is that header's timestamp: spec 5.3.1.2.4).
        this.startMessage(csid, st, (st.timestamp + st.tsField) % TWO_32);
      }
      this.enterPayload(csid, st, out);
      return used;
    }

    let ts = data.readUIntBE(p, 3);
    let length = st.length;
    let type = st.type;
    let streamId = st.streamId;
    if (fmt <= 1) {
      length = data.readUIntBE(p + 3, 3);
      type = data[p + 6];
    }
    if (fmt === 0) streamId = data.readUInt32LE(p + 7);
    p += headerLen;
    let extended = false;
    if (ts === 0xffffff) {
      if (data.length - p < 4) return 0;
      ts = data.readUInt32BE(p);
      p += 4;
      extended = true;
    }

    this.streams.set(csid, st);
    // A new header while a message is in progress abandons it (as if Aborted): lenient toward
    // encoders that restart a message after a reconnect-in-place.
    this.discard(st);
    st.length = length;
    st.type = type;
    st.streamId = streamId;
    st.tsField = ts;
    st.extended = extended;
    const timestamp = fmt === 0 ? ts : (st.timestamp + ts) % TWO_32;
    this.startMessage(csid, st, timestamp);
    this.enterPayload(csid, st, out);
    return p - pos;
  }

  private startMessage(csid: number, st: ChunkStreamState, timestamp: number): void {
    if (st.length > this.maxMessageLength) {
      throw new RtmpProtocolError('chunk',
        `message of ${st.length} bytes on chunk stream ${csid} exceeds the ${this.maxMessageLength}-byte limit`);
    }
    st.timestamp = timestamp;
    st.pieces = [];
    st.received = 0;
  }

  private discard(st: ChunkStreamState): void {
    this.buffered -= st.received;
    st.pieces = null;
    st.received = 0;
  }

  private enterPayload(csid: number, st: ChunkStreamState, out: RtmpMessage[]): void {
    this.currentCsid = csid;
    this.chunkRemaining = Math.min(this.chunkSize, st.length - st.received);
    // Zero-length message: complete right away, no payload bytes follow.
    if (this.chunkRemaining === 0) this.complete(csid, st, out);
    else this.current = st;
  }

  private complete(csid: number, st: ChunkStreamState, out: RtmpMessage[]): void {
    const pieces = st.pieces!;
    const payload = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, st.received);
    this.discard(st);
    const raw = st.timestamp;
    if (!st.seen) {
      st.seen = true;
    } else {
      const diff = raw - st.lastRaw;
      if (diff < -TWO_31) st.epoch += TWO_32; // wrapped forward past 2^32
      else if (diff > TWO_31) st.epoch -= TWO_32; // a late message from before a wrap
    }
    st.lastRaw = raw;
    const msg: RtmpMessage = { csid, type: st.type, streamId: st.streamId, timestamp: st.epoch + raw, rawTimestamp: raw, payload };
    this.applyControl(msg);
    out.push(msg);
  }

  private applyControl(msg: RtmpMessage): void {
    if (msg.streamId !== 0) return;
    if (msg.type === MSG_SET_CHUNK_SIZE) {
      if (msg.payload.length < 4) throw new RtmpProtocolError('chunk', 'Set Chunk Size message shorter than 4 bytes');
      const size = msg.payload.readUInt32BE(0);
      if (size < 1 || size > MAX_CHUNK_SIZE) {
        throw new RtmpProtocolError('chunk', `invalid chunk size ${size} (must be 1..${MAX_CHUNK_SIZE})`);
      }
      this.chunkSize = size;
    } else if (msg.type === MSG_ABORT) {
      if (msg.payload.length < 4) throw new RtmpProtocolError('chunk', 'Abort message shorter than 4 bytes');
      const target = this.streams.get(msg.payload.readUInt32BE(0));
      if (target) this.discard(target);
    }
  }
}

/** An outgoing message, before chunking. */
export interface OutgoingMessage {
  csid: number;
  type: number;
  streamId: number;
  /** 32-bit milliseconds (taken modulo 2^32). */
  timestamp: number;
  payload: Buffer;
}

/**
 * Serializes messages into chunks with our outgoing chunk size. Every message starts with a
 * type 0 header (we send few messages; compression buys nothing) and continues with type 3
 * chunks, which repeat the extended timestamp when one is used, as ffmpeg and librtmp expect.
 */
export class ChunkWriter {
  private chunkSize = DEFAULT_CHUNK_SIZE;

  get outChunkSize(): number {
    return this.chunkSize;
  }

  /** Call after the Set Chunk Size message announcing `size` has been serialized. */
  setChunkSize(size: number): void {
    if (!Number.isInteger(size) || size < 1 || size > MAX_CHUNK_SIZE) throw new RangeError(`invalid chunk size ${size}`);
    this.chunkSize = size;
  }

  write(msg: OutgoingMessage): Buffer {
    if (msg.csid < 2 || msg.csid > 65599) throw new RangeError(`invalid chunk stream id ${msg.csid}`);
    if (msg.payload.length > 0xffffff) throw new RangeError(`message too long: ${msg.payload.length}`);
    const ts = ((msg.timestamp % TWO_32) + TWO_32) % TWO_32;
    const extended = ts >= 0xffffff;
    const basic = (fmt: number): Buffer => {
      if (msg.csid < 64) return Buffer.from([(fmt << 6) | msg.csid]);
      if (msg.csid < 320) return Buffer.from([fmt << 6, msg.csid - 64]);
      const v = msg.csid - 64;
      return Buffer.from([(fmt << 6) | 1, v & 0xff, v >> 8]);
    };
    const parts: Buffer[] = [];
    const header = Buffer.alloc(11 + (extended ? 4 : 0));
    header.writeUIntBE(extended ? 0xffffff : ts, 0, 3);
    header.writeUIntBE(msg.payload.length, 3, 3);
    header[6] = msg.type;
    header.writeUInt32LE(msg.streamId, 7);
    if (extended) header.writeUInt32BE(ts, 11);
    parts.push(basic(0), header);
    let off = 0;
    const len = msg.payload.length;
    for (;;) {
      const n = Math.min(this.chunkSize, len - off);
      parts.push(msg.payload.subarray(off, off + n));
      off += n;
      if (off >= len) break;
      parts.push(basic(3));
      if (extended) {
        const e = Buffer.allocUnsafe(4);
        e.writeUInt32BE(ts, 0);
        parts.push(e);
      }
    }
    return Buffer.concat(parts);
  }
}
