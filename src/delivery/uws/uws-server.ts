import uWS from 'uWebSockets.js';
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { Logger } from 'pino';
import {
  callHandle, DEFAULT_CLOSE_GRACE_MS, internalErrorReply, originRequest, prepareReply, pumpStream, statusLine,
  type AdapterOptions, type HttpServerAdapter,
} from '../server.js';
import type { OriginRequest } from '../types.js';
import { Cancellation } from '../../cancellation.js';

const noop = () => undefined;

/** Per-response state shared by the abort handler and the writer. */
interface ResponseState {
  /** Set by onAborted: from then on `res` must not be touched (uWS has freed it). */
  aborted: boolean;
  controller: Cancellation;
  /** Resolves the current backpressure wait early when the client goes away. */
  wake?: () => void;
}

export type UwsServerOptions = AdapterOptions;

/**
 * HTTP/1.1 over uWebSockets.js. Only translates: uWS request ▶ OriginRequest, OriginReply ▶ uWS
 * response. Facts about this uWS build (v20 series, verified by test):
 * - the HttpRequest is only valid synchronously inside the route callback, so method, url, query
 *   and headers are copied before anything is awaited; onAborted is attached at once (uWS
 *   terminates the process if a handler returns without responding or attaching it);
 * - getMethod() is lower-case (so is getCaseSensitiveMethod() here); getQuery() is undefined
 *   rather than '' when there is no query;
 * - uWS writes Content-Length itself on end()/tryEnd(), so a content-length from the handler
 *   would be sent twice; it never special-cases HEAD (end(body) would send the body);
 *   endWithoutBody(n) leaves the response pending (offset 0 never reaches n) and stalls the
 *   keep-alive connection, so HEAD writes the header by hand and calls endWithoutBody();
 * - write() is chunked transfer and a zero-length write() would be the terminating chunk, so
 *   empty chunks are skipped;
 * - the onWritable callback returns to native code without a microtask checkpoint: a promise
 *   resolved in it would only continue at the next unrelated event (a slow client's download
 *   stalled forever), so backpressure waits resume through setImmediate, whose callback is
 *   followed by a checkpoint.
 */
export class UwsServer implements HttpServerAdapter {
  private readonly log: Logger;
  private app: TemplatedApp | undefined;
  private listenSocket: us_listen_socket | undefined;
  private inFlight = 0;
  private onIdle: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: UwsServerOptions) {
    this.log = opts.logger.child({ adapter: 'uws' });
  }

  listen(): Promise<number> {
    if (this.app) return Promise.reject(new Error('UwsServer: listen() called twice'));
    const app = uWS.App();
    app.any('/*', (res, req) => this.onRequest(res, req));
    this.app = app;
    const { host, port } = this.opts;
    return new Promise<number>((resolve, reject) => {
      app.listen(host, port, (socket) => {
        if (!socket) {
          this.app = undefined;
          app.close();
          reject(Object.assign(new Error(`uWS could not listen on ${host}:${port} (in use or not permitted)`), { code: 'EADDRINUSE' }));
          return;
        }
        this.listenSocket = socket;
        const bound = uWS.us_socket_local_port(socket);
        this.log.info({ host, port: bound }, 'http listening (uWebSockets.js)');
        resolve(bound);
      });
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.listenSocket) {
        uWS.us_listen_socket_close(this.listenSocket);
        this.listenSocket = undefined;
      }
      if (this.inFlight > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((r) => { this.onIdle = r; }),
          new Promise<void>((r) => { timer = setTimeout(r, this.opts.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS); }),
        ]);
        clearTimeout(timer);
      }
      // Closes every socket, idle keep-alive ones included (pending responses see onAborted),
      // so nothing keeps the event loop alive afterwards.
      this.app?.close();
      this.app = undefined;
      this.log.info('http closed (uWebSockets.js)');
    })();
    return this.closing;
  }

  private onRequest(res: HttpResponse, req: HttpRequest): void {
    // Everything from req now: it is stack-allocated and gone after this callback returns.
    const method = req.getMethod().toUpperCase();
    const path = req.getUrl();
    const query = req.getQuery() ?? '';
    const headers = new Map<string, string>();
    req.forEach((k, v) => {
      const prev = headers.get(k);
      headers.set(k, prev === undefined ? v : `${prev}, ${v}`);
    });
    const st: ResponseState = { aborted: false, controller: new Cancellation() };
    res.onAborted(() => {
      st.aborted = true;
      st.controller.abort();
      const wake = st.wake;
      st.wake = undefined;
      wake?.();
      // Make sure the continuations of what the abort settled run now, not at some later event.
      setImmediate(noop);
    });
    const request = originRequest(method, path, query, (n) => headers.get(n), st.controller.signal);
    this.inFlight++;
    this.respond(res, st, request)
      .catch((err) => {
        this.log.error({ err, path }, 'response failed');
        if (!st.aborted) {
          st.aborted = true;
          try { res.close(); } catch { /* already gone */ }
        }
      })
      .finally(() => {
        if (--this.inFlight === 0) this.onIdle?.();
      });
  }

  private async respond(res: HttpResponse, st: ResponseState, request: OriginRequest): Promise<void> {
    const reply = await callHandle(this.opts.handle, request, this.log);
    const p = prepareReply(request.method, reply);
    if (st.aborted) {
      if (p.body.kind === 'stream') void pumpStream(p.body.stream, st.controller.signal, () => undefined);
      return;
    }
    const head = () => {
      res.writeStatus(statusLine(p.status));
      for (const [k, v] of p.headers) res.writeHeader(k, v);
    };
    const body = p.body;
    if (body.kind === 'none') {
      res.cork(() => {
        head();
        if (request.method === 'HEAD' || p.status === 204 || p.status === 304 || p.status < 200) {
          if (p.contentLength !== undefined) res.writeHeader('content-length', String(p.contentLength));
          else if (p.headChunked) res.writeHeader('transfer-encoding', 'chunked');
          res.endWithoutBody();
        } else {
          res.end();
        }
      });
      return;
    }
    if (body.kind === 'pieces') {
      await this.sendPieces(res, st, head, body.pieces, p.contentLength ?? 0);
      return;
    }
    await this.sendStream(res, st, head, body.stream, request.path);
  }

  /**
   * A known-length body sent piece by piece with tryEnd (no concat): uWS announces the total as
   * Content-Length on the first call and completes the response when the offset reaches it. When
   * a piece does not fit, the rest is retried from onWritable at the offset uWS reports.
   */
  private async sendPieces(res: HttpResponse, st: ResponseState, head: () => void,
    pieces: readonly Buffer[], total: number): Promise<void> {
    if (total === 0) {
      res.cork(() => { head(); res.end(); });
      return;
    }
    let headSent = false;
    for (const piece of pieces) {
      if (piece.length === 0) continue;
      if (st.aborted) return;
      let base = 0;
      let ok = false;
      let done = false;
      res.cork(() => {
        if (!headSent) { head(); headSent = true; }
        base = res.getWriteOffset();
        [ok, done] = res.tryEnd(piece, total);
      });
      if (done) return;
      if (ok) continue;
      await new Promise<void>((resolve) => {
        st.wake = resolve;
        res.onWritable((offset) => {
          const [ok2, done2] = res.tryEnd(piece.subarray(offset - base), total);
          if (ok2 || done2) {
            st.wake = undefined;
            setImmediate(resolve); // see the class comment: no microtask checkpoint after onWritable
          }
          return ok2;
        });
      });
    }
  }

  /** A stream as chunked transfer: each chunk is written as it arrives; a full socket buffer pauses the reading. */
  private async sendStream(res: HttpResponse, st: ResponseState, head: () => void,
    stream: AsyncIterable<Buffer>, path: string): Promise<void> {
    let headSent = false;
    const result = await pumpStream(stream, st.controller.signal, (chunk) => {
      if (st.aborted) return;
      let ok = true;
      res.cork(() => {
        if (!headSent) { head(); headSent = true; }
        ok = res.write(chunk);
      });
      if (!ok && !st.aborted) {
        // write() kept the whole chunk in uWS's buffer; wait until the socket drains some of it.
        return new Promise<void>((resolve) => {
          st.wake = resolve;
          res.onWritable(() => {
            st.wake = undefined;
            setImmediate(resolve); // see the class comment: no microtask checkpoint after onWritable
            return true;
          });
        });
      }
    });
    if (st.aborted) return;
    if (result === 'done') {
      res.cork(() => {
        if (!headSent) head();
        res.end();
      });
      return;
    }
    if (result === 'aborted') return;
    this.log.error({ err: result.error, path }, 'response stream failed');
    st.aborted = true;
    if (!headSent) {
      const r = internalErrorReply();
      const body = r.body as Buffer;
      res.cork(() => {
        res.writeStatus(statusLine(r.status));
        for (const [k, v] of Object.entries(r.headers)) res.writeHeader(k, v);
        res.end(body);
      });
    } else {
      // Mid-body: the only honest signal left is a cut connection (the chunked body never ends).
      res.close();
    }
  }
}

