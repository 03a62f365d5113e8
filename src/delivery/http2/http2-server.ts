import {
  createSecureServer, createServer,
  type Http2SecureServer, type Http2Server as NodeHttp2Server, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { ConnectionTracker } from '../node-http/connections.js';
import { serveNodeRequest } from '../node-http/node-respond.js';
import { DEFAULT_CLOSE_GRACE_MS, type AdapterOptions, type HttpServerAdapter } from '../server.js';
import { loadTlsMaterial, type TlsMaterial } from './tls-material.js';

export interface Http2ServerOptions extends AdapterOptions {
  /** `port` is the TLS listener (h2, HTTP/1.1 through ALPN). This one is cleartext h2c with prior knowledge; null disables it. */
  cleartextPort: number | null;
  /** PEM files; when both are absent a self-signed development pair under `<dataDir>/tls/` is used. */
  certFile?: string;
  keyFile?: string;
  dataDir: string;
}

/** Ports bound by {@link Http2Server.listen}. */
export interface Http2Ports {
  tls: number;
  cleartext: number | null;
}

type AnyHttp2Server = Http2SecureServer | NodeHttp2Server;

/** One listener and its bookkeeping. */
interface Listener {
  server: AnyHttp2Server;
  sessions: Set<ServerHttp2Session>;
  connections: ConnectionTracker;
  label: 'h2' | 'h2c';
}

/**
 * node:http2 adapter: TLS h2 with `allowHTTP1` (clients without h2 in ALPN get HTTP/1.1 on the
 * same port) and, optionally, cleartext h2c on a second port for a CDN in front. Uses the
 * compatibility API so HTTP/2 and the HTTP/1.1 fallback go through the same responder as
 * node:http ({@link serveNodeRequest}): Buffer[] written piece by piece, streams as DATA
 * frames as chunks arrive with 'drain' backpressure, the signal aborted on stream close or
 * RST_STREAM, HEAD without body.
 */
export class Http2Server implements HttpServerAdapter {
  private readonly log: Logger;
  private readonly listeners: Listener[] = [];
  private tls: TlsMaterial | undefined;
  private bound: Http2Ports | undefined;
  private started = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: Http2ServerOptions) {
    this.log = opts.logger.child({ component: 'http2' });
  }

  /** Loads or generates the certificate, binds both listeners; resolves with the TLS port. */
  async listen(): Promise<number> {
    if (this.started) throw new Error('Http2Server: listen() called twice');
    this.started = true;
    const tls = await loadTlsMaterial(this.opts);
    this.tls = tls;
    const secure = createSecureServer({ key: tls.key, cert: tls.cert, allowHTTP1: true });
    const tlsPort = await this.bind(secure, 'h2', this.opts.port);
    let cleartext: number | null = null;
    if (this.opts.cleartextPort !== null) {
      try {
        cleartext = await this.bind(createServer(), 'h2c', this.opts.cleartextPort);
      } catch (err) {
        await this.close();
        throw err;
      }
    }
    this.bound = { tls: tlsPort, cleartext };
    return tlsPort;
  }

  /** The bound ports (after listen()). */
  get ports(): Http2Ports {
    if (!this.bound) throw new Error('Http2Server: not listening');
    return this.bound;
  }

  /** The certificate in PEM (after listen()); for a self-signed one, what a client passes as `ca`. */
  get certificatePem(): string {
    if (!this.tls) throw new Error('Http2Server: not listening');
    return this.tls.cert;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all(this.listeners.map((l) => this.closeListener(l)));
      if (this.listeners.length) this.log.info('http2 closed');
    })();
    return this.closing;
  }

  private bind(server: AnyHttp2Server, label: 'h2' | 'h2c', port: number): Promise<number> {
    const l: Listener = { server, sessions: new Set(), connections: new ConnectionTracker(), label };
    server.on('connection', (s: Socket) => l.connections.add(s));
    if (label === 'h2') {
      server.on('secureConnection', (s: TLSSocket) => {
        if (s.alpnProtocol !== 'h2') l.connections.markHttp1(s);
      });
      server.on('tlsClientError', (err: Error) => this.log.debug({ err: err.message }, 'tls client error'));
    }
    server.on('session', (session: ServerHttp2Session) => {
      l.sessions.add(session);
      session.once('close', () => l.sessions.delete(session));
      session.on('error', (err) => this.log.debug({ err: err.message }, 'http2 session error'));
    });
    server.on('sessionError', (err: Error) => this.log.debug({ err: err.message }, 'http2 session error'));
    server.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => {
      if (req.httpVersionMajor === 1) {
        // HTTP/1.1 through the ALPN fallback: a plain keep-alive socket, tracked for close().
        const ended = l.connections.begin(req.socket as unknown as Socket);
        res.once('close', ended);
      }
      void serveNodeRequest(req, res, this.opts.handle, this.log);
    });
    const host = this.opts.host;
    return new Promise<number>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        server.on('error', (err: Error) => this.log.error({ err }, 'http2 server error'));
        this.listeners.push(l);
        const addr = server.address();
        const bound = typeof addr === 'object' && addr ? addr.port : port;
        this.log.info({ host, port: bound, protocol: label === 'h2' ? 'h2 + http/1.1 (TLS)' : 'h2c' }, 'http2 listening');
        resolve(bound);
      });
    });
  }

  private closeListener(l: Listener): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const s of l.sessions) s.destroy();
        l.connections.destroyAll();
      }, this.opts.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
      l.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      // GOAWAY: idle sessions close now, busy ones once their streams end.
      for (const s of l.sessions) s.close();
      l.connections.closeIdle();
    });
  }
}
