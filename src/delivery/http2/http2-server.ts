import {
  createSecureServer, createServer,
  type Http2SecureServer, type Http2Server as NodeHttp2Server, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session,
  type IncomingHttpHeaders, type ServerHttp2Stream,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { ConnectionTracker } from '../node-http/connections.js';
import { serveNodeRequest } from '../node-http/node-respond.js';
import { serveHttp2Stream } from './http2-stream.js';
import { DEFAULT_CLOSE_GRACE_MS, type AdapterOptions, type HttpServerAdapter } from '../server.js';
import { loadTlsMaterial, type TlsMaterial } from '../../tls/tls-material.js';

export interface Http2ServerOptions extends AdapterOptions {
  /** PEM files; when both are absent a self-signed development pair under `<dataDir>/tls/` is used. */
  certFile?: string;
  keyFile?: string;
  dataDir: string;
}

export type Http2CleartextServerOptions = AdapterOptions;

type AnyHttp2Server = Http2SecureServer | NodeHttp2Server;

/**
 * One node:http2 listener and its bookkeeping. HTTP/2 streams are served with the core stream
 * API ({@link serveHttp2Stream}); the TLS port's HTTP/1.1 fallback goes through the responder
 * of node:http ({@link serveNodeRequest}). Both follow the same rules: Buffer[] written piece by
 * piece, streams as DATA frames (or chunks) as they arrive with 'drain' backpressure, the signal
 * aborted on stream close or RST_STREAM, HEAD without body.
 */
abstract class Http2Listener implements HttpServerAdapter {
  protected readonly log: Logger;
  private server: AnyHttp2Server | undefined;
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly connections = new ConnectionTracker();
  private started = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: AdapterOptions, private readonly label: 'h2' | 'h2c') {
    this.log = opts.logger.child({ adapter: label });
  }

  protected abstract createServer(): Promise<AnyHttp2Server>;

  async listen(): Promise<number> {
    if (this.started) throw new Error(`${this.constructor.name}: listen() called twice`);
    this.started = true;
    const server = await this.createServer();
    this.server = server;
    return this.bind(server);
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const server = this.server;
      if (!server || !server.listening) { resolve(); return; }
      const timer = setTimeout(() => {
        for (const s of this.sessions) s.destroy();
        this.connections.destroyAll();
      }, this.opts.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
      server.close(() => {
        clearTimeout(timer);
        this.log.info(`${this.label} closed`);
        resolve();
      });
      // GOAWAY: idle sessions close now, busy ones once their streams end.
      for (const s of this.sessions) s.close();
      this.connections.closeIdle();
    });
    return this.closing;
  }

  private bind(server: AnyHttp2Server): Promise<number> {
    server.on('connection', (s: Socket) => this.connections.add(s));
    if (this.label === 'h2') {
      server.on('secureConnection', (s: TLSSocket) => {
        if (s.alpnProtocol !== 'h2') this.connections.markHttp1(s);
      });
      server.on('tlsClientError', (err: Error) => this.log.debug({ err: err.message }, 'tls client error'));
    }
    server.on('session', (session: ServerHttp2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
      session.on('error', (err) => this.log.debug({ err: err.message }, 'http2 session error'));
    });
    server.on('sessionError', (err: Error) => this.log.debug({ err: err.message }, 'http2 session error'));
    // node:http2 answers streams with its compatibility layer as soon as a 'request' listener is
    // added (a 'newListener' hook it sets on the server); that hook goes first, so that 'request'
    // only carries the TLS port's HTTP/1.1 fallback and every HTTP/2 stream is ours alone.
    server.removeAllListeners('newListener');
    server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      void serveHttp2Stream(stream, headers, this.opts.handle, this.log);
    });
    if (this.label === 'h2') {
      server.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => {
        // HTTP/1.1 through the ALPN fallback: a plain keep-alive socket, tracked for close().
        const ended = this.connections.begin(req.socket as unknown as Socket);
        res.once('close', ended);
        void serveNodeRequest(req, res, this.opts.handle, this.log);
      });
    }
    if (server.listenerCount('stream') !== 1) {
      throw new Error(`node:http2 answered streams itself (${server.listenerCount('stream')} 'stream' listeners): its compatibility hook changed`);
    }
    const { host, port } = this.opts;
    return new Promise<number>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        server.on('error', (err: Error) => this.log.error({ err }, 'http2 server error'));
        const addr = server.address();
        const bound = typeof addr === 'object' && addr ? addr.port : port;
        this.log.info({ host, port: bound, protocol: this.label === 'h2' ? 'h2 + http/1.1 (TLS, ALPN)' : 'h2c (prior knowledge)' }, 'http2 listening');
        resolve(bound);
      });
    });
  }
}

/**
 * TLS h2 with `allowHTTP1`: clients without h2 in ALPN get HTTP/1.1 on the same port. The
 * certificate comes from certFile/keyFile, else a self-signed development one kept under
 * `<dataDir>/tls/` ({@link loadTlsMaterial}).
 */
export class Http2Server extends Http2Listener {
  private tls: TlsMaterial | undefined;

  constructor(private readonly tlsOpts: Http2ServerOptions) {
    super(tlsOpts, 'h2');
  }

  protected async createServer(): Promise<AnyHttp2Server> {
    const tls = await loadTlsMaterial({ ...this.tlsOpts, logger: this.tlsOpts.logger });
    this.tls = tls;
    return createSecureServer({ key: tls.key, cert: tls.cert, allowHTTP1: true });
  }

  /** The certificate in PEM (after listen()); for a self-signed one, what a client passes as `ca`. */
  get certificatePem(): string {
    if (!this.tls) throw new Error('Http2Server: not listening');
    return this.tls.cert;
  }

  /** Whether the certificate is the generated development one. */
  get selfSigned(): boolean {
    return this.tls?.selfSigned ?? false;
  }
}

/** Cleartext HTTP/2 with prior knowledge (h2c), for a CDN or proxy in front that speaks h2 to its origin. */
export class Http2CleartextServer extends Http2Listener {
  constructor(opts: Http2CleartextServerOptions) {
    super(opts, 'h2c');
  }

  protected async createServer(): Promise<AnyHttp2Server> {
    return createServer();
  }
}
