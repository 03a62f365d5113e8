import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { randomBytes } from 'node:crypto';
import { ChunkStreamParser, ChunkWriter, MSG_SET_CHUNK_SIZE } from '../ingest/rtmp/chunk-stream.js';
import { decodeAmf0, encodeAmf0, type Amf0Value } from '../ingest/rtmp/amf0.js';
import { HANDSHAKE_SIZE, RTMP_VERSION } from '../ingest/rtmp/handshake.js';
import { MSG } from '../ingest/rtmp/rtmp-session.js';
import type { TargetUrl } from './target-url.js';

/** Chunk stream ids we send on, as ffmpeg does: control, connection commands, stream data. */
const CSID_CONTROL = 2, CSID_COMMAND = 3, CSID_AUDIO = 4, CSID_STREAM = 5, CSID_VIDEO = 6;
const OUT_CHUNK_SIZE = 4096;
const UC_PING_REQUEST = 6, UC_PING_RESPONSE = 7;

export type MediaMessageType = typeof MSG.audio | typeof MSG.video | typeof MSG.dataAmf0;

/**
 * The publishing side of RTMP, toward another server (YouTube, Twitch, nginx-rtmp, another
 * origin): plain handshake, connect, createStream, publish; then media messages. open() resolves
 * once the server answered NetStream.Publish.Start, or rejects with the server's own words
 * (a refused key reads as the service's description). Pings are answered so a server that
 * checks liveness (nginx-rtmp's `ping`) keeps the connection.
 */
export class RtmpPushConnection {
  private readonly writer = new ChunkWriter();
  private readonly parser = new ChunkStreamParser();
  private streamId = 0;
  private closedReason: string | undefined;
  private onClosed: ((reason: string) => void) | undefined;
  private constructor(private readonly socket: Socket) {}

  static open(url: TargetUrl, timeoutMs: number): Promise<RtmpPushConnection> {
    const servername = isIP(url.host) ? undefined : url.host;
    const socket = url.tls
      ? connectTls({ host: url.host, port: url.port, servername, ALPNProtocols: [] })
      : connectTcp({ host: url.host, port: url.port });
    socket.setNoDelay(true);
    const conn = new RtmpPushConnection(socket);
    return conn.handshakeAndPublish(url, timeoutMs);
  }

  /** Bytes written but not yet taken by the kernel: how far behind this target is. */
  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  /** Called once, when the connection ends after open() resolved (the reason in words). */
  whenClosed(cb: (reason: string) => void): void {
    if (this.closedReason !== undefined) cb(this.closedReason);
    else this.onClosed = cb;
  }

  send(type: MediaMessageType, timestampMs: number, body: Buffer): void {
    if (this.closedReason !== undefined) return;
    const csid = type === MSG.audio ? CSID_AUDIO : type === MSG.video ? CSID_VIDEO : CSID_STREAM;
    this.socket.write(this.writer.write({ csid, type, streamId: this.streamId, timestamp: timestampMs, payload: body }));
  }

  /** Ends the publish politely (FCUnpublish, deleteStream) and closes the socket. */
  close(reason = 'closed'): void {
    if (this.closedReason !== undefined) return;
    try {
      this.command(CSID_COMMAND, 0, 'FCUnpublish', 6, null);
      this.command(CSID_COMMAND, 0, 'deleteStream', 7, null, this.streamId);
    } catch { /* the socket is already gone */ }
    this.finish(reason);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  private finish(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.onClosed?.(reason);
  }

  private command(csid: number, streamId: number, name: string, txn: number, ...args: Amf0Value[]): void {
    this.socket.write(this.writer.write({ csid, type: MSG.commandAmf0, streamId, timestamp: 0, payload: encodeAmf0(name, txn, ...args) }));
  }

  private handshakeAndPublish(url: TargetUrl, timeoutMs: number): Promise<RtmpPushConnection> {
    const socket = this.socket;
    return new Promise<RtmpPushConnection>((resolve, reject) => {
      let settled = false;
      const fail = (reason: string) => {
        if (!settled) { settled = true; clearTimeout(timer); reject(new Error(reason)); socket.destroy(); return; }
        this.finish(reason);
        socket.destroy();
      };
      const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
      let handshake: Buffer | null = Buffer.alloc(0);
      const c1 = Buffer.concat([Buffer.alloc(8), randomBytes(HANDSHAKE_SIZE - 8)]);
      socket.once(url.tls ? 'secureConnect' : 'connect', () => socket.write(Buffer.concat([Buffer.from([RTMP_VERSION]), c1])));
      socket.on('error', (err) => fail(err.message));
      socket.on('close', () => fail('the server closed the connection'));
      const onMessage = (type: number, payload: Buffer) => {
        if (type === MSG.userControl && payload.length >= 6 && payload.readUInt16BE(0) === UC_PING_REQUEST) {
          const pong = Buffer.from(payload.subarray(0, 6));
          pong.writeUInt16BE(UC_PING_RESPONSE, 0);
          socket.write(this.writer.write({ csid: CSID_CONTROL, type: MSG.userControl, streamId: 0, timestamp: 0, payload: pong }));
          return;
        }
        if (type !== MSG.commandAmf0) return;
        const [name, txn, , info] = decodeAmf0(payload);
        const status = (info && typeof info === 'object' && !Array.isArray(info) ? info : {}) as Record<string, Amf0Value>;
        if (name === '_error') return fail(`refused: ${String(status.description ?? status.code ?? 'error')}`);
        if (name === '_result' && txn === 1) {
          this.command(CSID_COMMAND, 0, 'releaseStream', 2, null, url.streamKey);
          this.command(CSID_COMMAND, 0, 'FCPublish', 3, null, url.streamKey);
          this.command(CSID_COMMAND, 0, 'createStream', 4, null);
        } else if (name === '_result' && txn === 4) {
          this.streamId = typeof info === 'number' ? info : 1;
          this.command(CSID_STREAM, this.streamId, 'publish', 5, null, url.streamKey, 'live');
        } else if (name === 'onStatus') {
          const code = String(status.code ?? '');
          if (code === 'NetStream.Publish.Start' && !settled) {
            settled = true;
            clearTimeout(timer);
            resolve(this);
          } else if (status.level === 'error' || /Failed|BadName|Denied|Rejected/.test(code)) {
            fail(`refused: ${code}${status.description ? ` (${String(status.description)})` : ''}`);
          }
        }
      };
      socket.on('data', (d: Buffer) => {
        try {
          if (handshake) {
            handshake = Buffer.concat([handshake, d]);
            if (handshake.length < 1 + 2 * HANDSHAKE_SIZE) return;
            if (handshake[0] !== RTMP_VERSION) return fail(`not an RTMP server (version byte ${handshake[0]})`);
            const s1 = handshake.subarray(1, 1 + HANDSHAKE_SIZE);
            const rest = handshake.subarray(1 + 2 * HANDSHAKE_SIZE);
            handshake = null;
            socket.write(Buffer.from(s1)); // C2 echoes S1
            const size = Buffer.alloc(4);
            size.writeUInt32BE(OUT_CHUNK_SIZE, 0);
            socket.write(this.writer.write({ csid: CSID_CONTROL, type: MSG_SET_CHUNK_SIZE, streamId: 0, timestamp: 0, payload: size }));
            this.writer.setChunkSize(OUT_CHUNK_SIZE);
            this.command(CSID_COMMAND, 0, 'connect', 1, { app: url.app, type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; Sigma Live)', tcUrl: url.tcUrl });
            if (rest.length === 0) return;
            d = rest;
          }
          for (const m of this.parser.push(d)) onMessage(m.type, m.payload);
        } catch (err) {
          fail(`bad data from the server: ${(err as Error).message}`);
        }
      });
    });
  }
}
