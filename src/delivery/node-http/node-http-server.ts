import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { DEFAULT_CLOSE_GRACE_MS, type AdapterOptions, type HttpServerAdapter } from '../server.js';
import { ConnectionTracker } from './connections.js';
import { serveNodeRequest } from './node-respond.js';

export type NodeHttpServerOptions = AdapterOptions;

/**
 * HTTP/1.1 over node:http alone (config `http.server: 'node'`), for hosts where the uWS binary
 * does not load or for comparison benchmarks. Keep-alive is node's default; translation rules
 * are those of {@link serveNodeRequest}.
 */
export class NodeHttpServer implements HttpServerAdapter {
  private readonly log: Logger;
  private server: Server | undefined;
  private readonly connections = new ConnectionTracker();
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: NodeHttpServerOptions) {
    this.log = opts.logger.child({ adapter: 'node-http' });
  }

  listen(): Promise<number> {
    if (this.server) return Promise.reject(new Error('NodeHttpServer: listen() called twice'));
    const server = createServer((req, res) => this.onRequest(req, res));
    this.server = server;
    server.on('connection', (s) => { this.connections.add(s); this.connections.markHttp1(s); });
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      this.log.debug({ err: err.message, code: err.code }, 'client error');
      if (socket.writable && !socket.destroyed) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      else socket.destroy();
    });
    const { host, port } = this.opts;
    return new Promise<number>((resolve, reject) => {
      const onError = (err: Error) => { this.server = undefined; reject(err); };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        server.on('error', (err) => this.log.error({ err }, 'server error'));
        const addr = server.address();
        const bound = typeof addr === 'object' && addr ? addr.port : port;
        this.log.info({ host, port: bound }, 'http listening (node:http)');
        resolve(bound);
      });
    });
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const server = this.server;
      if (!server) { resolve(); return; }
      const timer = setTimeout(() => this.connections.destroyAll(), this.opts.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
      server.close(() => {
        clearTimeout(timer);
        this.log.info('http closed (node:http)');
        resolve();
      });
      this.connections.closeIdle();
    });
    return this.closing;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const ended = this.connections.begin(req.socket);
    res.once('close', ended);
    void serveNodeRequest(req, res, this.opts.handle, this.log);
  }
}
