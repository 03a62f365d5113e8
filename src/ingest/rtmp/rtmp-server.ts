import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Logger } from 'pino';
import { RtmpSession, type PublishDecision, type PublishRequest } from './rtmp-session.js';

export type { PublishDecision, PublishRequest } from './rtmp-session.js';

export interface RtmpServerOptions {
  port: number;
  host?: string;
  /** A connection that sends no bytes for this long is closed (its publication with it). */
  idleTimeoutMs: number;
  /** Connections beyond this are closed on accept. Default 1000. */
  maxConnections?: number;
  logger: Logger;
  /** Decides whether a publish may go ahead; called once per publish command. */
  onPublish: (req: PublishRequest) => PublishDecision | Promise<PublishDecision>;
  /** RTMPS: RTMP inside TLS (PEM certificate and key); the same sessions once the handshake is done. */
  tls?: { cert: string; key: string };
  /** Names the listener in its log lines ('rtmp', 'rtmps'). */
  component?: string;
}

/** After we end() a connection, how long the peer gets to read our last status and close. */
const END_GRACE_MS = 2000;

interface Conn {
  socket: Socket;
  session: RtmpSession;
  lastDataAt: number;
  timer: NodeJS.Timeout | null;
}

/**
 * The RTMP listener: accepts connections, feeds each one's bytes to its own RtmpSession, and
 * enforces what only the socket layer can see (idle timeout, connection cap, teardown). No
 * socket event handler can throw into the process: sessions swallow and log their errors.
 */
export class RtmpServer {
  private server: Server | null = null;
  private readonly conns = new Set<Conn>();
  private readonly log: Logger;
  private nextConnId = 1;
  private closing = false;
  private closePromise: Promise<void> | null = null;

  constructor(private readonly opts: RtmpServerOptions) {
    this.log = opts.logger.child({ component: opts.component ?? 'rtmp' });
  }

  async start(): Promise<void> {
    if (this.server) throw new Error('RtmpServer already started');
    const tls = this.opts.tls;
    const server: Server = tls
      // An encoder that never finishes the TLS handshake is cut off like a silent one.
      ? createTlsServer({ cert: tls.cert, key: tls.key, handshakeTimeout: this.opts.idleTimeoutMs }, (s) => this.accept(s))
        .on('tlsClientError', (err, s) => this.log.info({ remoteAddress: `${s.remoteAddress ?? '?'}:${s.remotePort ?? 0}`, reason: err.message }, 'TLS handshake failed'))
      : createServer({ noDelay: true }, (s) => this.accept(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error({ err }, 'listener error'));
    this.log.info({ port: this.address(), host: this.opts.host }, 'listening');
  }

  /** The bound port (the ephemeral one when started with port 0). */
  address(): number {
    const a = this.server?.address();
    if (!a || typeof a === 'string') throw new Error('RtmpServer not listening');
    return (a as AddressInfo).port;
  }

  /** Number of open connections. */
  get connectionCount(): number {
    return this.conns.size;
  }

  /** Stops accepting, closes every connection (their publications end with 'server closing'). Idempotent. */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.closing = true;
    const server = this.server;
    this.closePromise = new Promise<void>((resolve) => {
      for (const c of [...this.conns]) this.drop(c, 'server closing');
      if (!server || !server.listening) return resolve();
      server.close(() => resolve());
    });
    return this.closePromise;
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    const remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    const max = this.opts.maxConnections ?? 1000;
    if (this.closing || this.conns.size >= max) {
      this.log.warn({ remoteAddress, connections: this.conns.size, max }, this.closing ? 'refusing connection: closing' : 'refusing connection: too many connections');
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    const log = this.log.child({ conn: this.nextConnId++, remoteAddress });
    let ended = false;
    const conn: Conn = {
      socket,
      lastDataAt: Date.now(),
      timer: null,
      session: new RtmpSession({
        logger: log,
        remoteAddress: socket.remoteAddress ?? '',
        onPublish: this.opts.onPublish,
        send: (data) => {
          if (!socket.destroyed && socket.writable) socket.write(data);
        },
        end: (reason) => {
          if (ended) return;
          ended = true;
          log.info({ reason }, 'closing connection');
          // end() flushes our last onStatus; a peer that never closes its side is cut off.
          socket.end();
          setTimeout(() => socket.destroy(), END_GRACE_MS).unref();
        },
      }),
    };
    this.conns.add(conn);
    log.debug('connection');
    this.armIdleTimer(conn);

    socket.on('data', (d: Buffer) => {
      conn.lastDataAt = Date.now();
      conn.session.receive(d);
    });
    socket.on('error', (err) => {
      log.debug({ err: err.message }, 'socket error');
    });
    socket.on('close', () => {
      this.conns.delete(conn);
      if (conn.timer) clearTimeout(conn.timer);
      conn.timer = null;
      conn.session.close('connection closed');
      log.debug('connection closed');
    });
  }

  /**
   * One timer per connection, re-armed only when it fires (not per packet): it checks how long
   * ago the last byte arrived and either times out or sleeps for the remainder.
   */
  private armIdleTimer(conn: Conn): void {
    const idle = this.opts.idleTimeoutMs;
    const check = (): void => {
      const silentFor = Date.now() - conn.lastDataAt;
      if (silentFor >= idle) {
        conn.timer = null;
        this.drop(conn, `idle timeout: no data for ${idle} ms`);
        return;
      }
      conn.timer = setTimeout(check, idle - silentFor);
    };
    conn.timer = setTimeout(check, idle);
  }

  /** Ends a connection from our side: publication first (with the reason), then the socket. */
  private drop(conn: Conn, reason: string): void {
    if (conn.timer) clearTimeout(conn.timer);
    conn.timer = null;
    this.conns.delete(conn);
    if (!conn.session.closed) {
      this.log.info({ remoteAddress: `${conn.socket.remoteAddress}:${conn.socket.remotePort}`, reason }, 'closing connection');
    }
    conn.session.close(reason);
    conn.socket.destroy();
  }
}
