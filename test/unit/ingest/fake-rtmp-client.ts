import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { decodeAmf0, encodeAmf0, type Amf0Value } from '../../../src/ingest/rtmp/amf0.js';
import { ChunkStreamParser, ChunkWriter, type RtmpMessage } from '../../../src/ingest/rtmp/chunk-stream.js';
import type { AccessUnit, PublicationSink, TrackInfo } from '../../../src/media/types.js';

const HS = 1536;

/** Builds the bytes an RTMP publisher sends, and decodes what the server answers. */
export class FakeRtmpClient {
  readonly writer = new ChunkWriter();
  private readonly parser = new ChunkStreamParser();
  private skip = 1 + 2 * HS;
  readonly messages: RtmpMessage[] = [];

  c0c1(version = 3): Buffer {
    const b = Buffer.alloc(1 + HS);
    b[0] = version;
    for (let i = 9; i < b.length; i++) b[i] = i & 0xff;
    return b;
  }

  c2(): Buffer {
    return Buffer.alloc(HS, 7);
  }

  command(streamId: number, ...values: Amf0Value[]): Buffer {
    return this.writer.write({ csid: streamId === 0 ? 3 : 8, type: 20, streamId, timestamp: 0, payload: encodeAmf0(...values) });
  }

  data(streamId: number, ...values: Amf0Value[]): Buffer {
    return this.writer.write({ csid: 8, type: 18, streamId, timestamp: 0, payload: encodeAmf0(...values) });
  }

  media(type: 8 | 9, timestamp: number, payload: Buffer, streamId = 1): Buffer {
    return this.writer.write({ csid: type === 8 ? 4 : 6, type, streamId, timestamp, payload });
  }

  control(type: number, payload: Buffer): Buffer {
    return this.writer.write({ csid: 2, type, streamId: 0, timestamp: 0, payload });
  }

  /** Feeds server output; returns the messages it completed (after the S0+S1+S2 handshake). */
  receive(data: Buffer): RtmpMessage[] {
    if (this.skip > 0) {
      const n = Math.min(this.skip, data.length);
      this.skip -= n;
      data = data.subarray(n);
    }
    const msgs = this.parser.push(data);
    this.messages.push(...msgs);
    return msgs;
  }

  /** Decoded command messages received so far: [name, txn, ...]. */
  commands(): Amf0Value[][] {
    return this.messages.filter((m) => m.type === 20).map((m) => decodeAmf0(m.payload));
  }

  /** The info objects of onStatus/_result/_error messages, in order. */
  statuses(): { name: string; code?: string; level?: string; description?: string }[] {
    return this.commands().map((c) => {
      const info = c[3] as Record<string, string> | undefined;
      return { name: c[0] as string, code: info?.code, level: info?.level, description: info?.description };
    });
  }
}

/** A PublicationSink that records every call. */
export class RecordingSink implements PublicationSink {
  tracks: TrackInfo[][] = [];
  units: AccessUnit[] = [];
  closes: string[] = [];
  setTracks(tracks: TrackInfo[]): void {
    this.tracks.push(tracks);
  }
  write(au: AccessUnit): void {
    if (this.tracks.length === 0) throw new Error('write before setTracks');
    this.units.push(au);
  }
  close(reason: string): void {
    this.closes.push(reason);
  }
}

/** A logger with the same redaction as src/log.ts whose JSON lines are kept for assertions. */
export function capturingLogger(): { logger: Logger; lines: () => Record<string, unknown>[]; text: () => string } {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, cb) { text += chunk.toString(); cb(); } });
  const logger = pino({ level: 'debug', redact: { paths: ['streamKey', '*.streamKey', 'token', '*.token', 'key', '*.key'], censor: '[redacted]' } }, stream);
  return {
    logger,
    text: () => text,
    lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
