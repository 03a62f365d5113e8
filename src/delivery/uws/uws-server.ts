import uWS from 'uWebSockets.js';
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { Logger } from 'pino';
import {
  callHandleSync, DEFAULT_CLOSE_GRACE_MS, internalErrorReply, prepareReply, pumpStream, statusLine,
  type AdapterOptions, type HttpServerAdapter, type PreparedReply,
} from '../server.js';
import type { OriginReply, OriginRequest } from '../types.js';
import { Cancellation, type CancelSignal } from '../../cancellation.js';

const noop = () => undefined;

/** Per-response state shared by the abort handler and the writer. */
interface ResponseState {
  /** Set by onAborted: from then on `res` must not be touched (uWS has freed it). */
  aborted: boolean;
  /** Made when the handler first asks for the request's signal. */
  controller?: Cancellation;
  /** The request's headers, copied before a handler that waits gets to read them. */
  headers?: Map<string, string>;
  /** Inside uWS's request callback, where uWS has corked the socket already. */
  corked: boolean;
  /** Resolves the current backpressure wait early when the client goes away. */
  wake?: () => void;
}

export type UwsServerOptions = AdapterOptions;

/**
 * HTTP/1.1 over uWebSockets.js. Only translates: uWS request ▶ OriginRequest, OriginReply ▶ uWS
 * response. Facts about this uWS build (v20 series, verified by test):
 * - the HttpRequest is only valid synchronously inside the route callback: method, url and
 *   query are read at once, headers on demand while the callback runs and from a copy made
 *   before anything is awaited; a reply the handler gives synchronously is written inside the
 *   callback, where uWS has corked the socket already; otherwise onAborted is attached before the
 *   callback returns (uWS terminates the process if a handler returns without responding or
 *   attaching it);
 * - getMethod() is lower-case (so is getCaseSensitiveMethod() here); getQuery() is undefined
 *   rather than '' when there is no query;
 * - uWS writes Content-Length itself on end()/tryEnd(), so a content-length from the handler
 *   would be sent twice; it never special-cases HEAD (end(body) would send the body);
 *   endWithoutBody(n) leaves the response pending (offset 0 never reaches n) and stalls the
 *   keep-alive connection, so HEAD writes the header by hand and calls endWithoutBody();
 * - write() is chunked transfer and a zero-length write() would be the terminating chunk, so
 *   empty chunks are skipped;
 * - it writes `Date` itself on every response (from its clock, updated once a second), whatever
 *   the handler set, so the handler's `date` is left out (a second Date header is invalid);
 *   Expires still comes from the handler's clock, the same system clock in production;
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
    const st: ResponseState = { aborted: false, corked: true };
    const request = new UwsRequest(req, res, st);
    const reply = callHandleSync(this.opts.handle, request, this.log);
    if (reply instanceof Promise) {
      st.headers = copyHeaders(req);
      st.corked = false;
      this.watch(res, st);
      this.track(reply.then((r) => this.send(res, st, request.method, r)), st, res, request.path);
      return;
    }
    // Answered inside uWS's callback (already corked): no promise, no abort handler, unless the
    // socket cannot take the whole body now.
    const pending = this.sendSafely(res, st, request.method, reply, request.path);
    st.corked = false;
    if (pending) {
      st.headers = copyHeaders(req); // a stream body may still read the request's headers later
      this.watch(res, st);
      this.track(pending, st, res, request.path);
    }
  }

  /** The abort handler a response needs before its request callback returns unanswered. */
  private watch(res: HttpResponse, st: ResponseState): void {
    res.onAborted(() => {
      st.aborted = true;
      st.controller?.abort();
      const wake = st.wake;
      st.wake = undefined;
      wake?.();
      // Make sure the continuations of what the abort settled run now, not at some later event.
      setImmediate(noop);
    });
  }

  /** Counts a response still being written (close() waits for them) and contains its failure. */
  private track(pending: Promise<void>, st: ResponseState, res: HttpResponse, path: string): void {
    this.inFlight++;
    pending
      .catch((err) => this.failed(err, st, res, path))
      .finally(() => {
        if (--this.inFlight === 0) this.onIdle?.();
      });
  }

  private failed(err: unknown, st: ResponseState, res: HttpResponse, path: string): void {
    this.log.error({ err, path }, 'response failed');
    if (!st.aborted) {
      st.aborted = true;
      try { res.close(); } catch { /* already gone */ }
    }
  }

  /** send() for the synchronous path, where a throw must not escape into uWS's callback. */
  private sendSafely(res: HttpResponse, st: ResponseState, method: string, reply: OriginReply, path: string): Promise<void> | undefined {
    try {
      return this.send(res, st, method, reply);
    } catch (err) {
      this.failed(err, st, res, path);
      return undefined;
    }
  }

  /** Writes a reply; undefined when it is all written, a promise while the rest waits for the socket. */
  private send(res: HttpResponse, st: ResponseState, method: string, reply: OriginReply): Promise<void> | undefined {
    const p = prepareReply(method, reply);
    if (st.aborted) {
      if (p.body.kind === 'stream') void pumpStream(p.body.stream, (st.controller ??= new Cancellation()).signal, () => undefined);
      return undefined;
    }
    const body = p.body;
    if (body.kind === 'none') {
      res.cork(() => {
        writeHead(res, p);
        if (method === 'HEAD' || p.status === 204 || p.status === 304 || p.status < 200) {
          if (p.contentLength !== undefined) res.writeHeader('content-length', String(p.contentLength));
          else if (p.headChunked) res.writeHeader('transfer-encoding', 'chunked');
          res.endWithoutBody();
        } else {
          res.end();
        }
      });
      return undefined;
    }
    if (body.kind === 'pieces') return this.sendPieces(res, st, p, body.pieces, 0, p.contentLength ?? 0, false);
    return this.sendStream(res, st, p, body.stream);
  }

  /**
   * A known-length body sent piece by piece with tryEnd (no concat), from piece `from` on: uWS
   * announces the total as Content-Length on the first call and completes the response when the
   * offset reaches it. When a piece does not fit, the rest is retried from onWritable at the
   * offset uWS reports, and the pieces after it follow once it is through.
   */
  private sendPieces(res: HttpResponse, st: ResponseState, p: PreparedReply, pieces: readonly Buffer[],
    from: number, total: number, headSent: boolean): Promise<void> | undefined {
    if (total === 0) {
      res.cork(() => { writeHead(res, p); res.end(); });
      return undefined;
    }
    for (let i = from; i < pieces.length; i++) {
      const piece = pieces[i];
      if (piece.length === 0) continue;
      let base = 0;
      let ok = false;
      let done = false;
      const write = () => {
        if (!headSent) { writeHead(res, p); headSent = true; }
        base = res.getWriteOffset();
        [ok, done] = res.tryEnd(piece, total);
      };
      if (st.corked) write();
      else res.cork(write);
      if (done) return undefined;
      if (ok) continue;
      return new Promise<void>((resolve) => {
        st.wake = resolve;
        res.onWritable((offset) => {
          const [ok2, done2] = res.tryEnd(piece.subarray(offset - base), total);
          if (ok2 || done2) {
            st.wake = undefined;
            setImmediate(resolve); // see the class comment: no microtask checkpoint after onWritable
          }
          return ok2;
        });
      }).then(() => (st.aborted ? undefined : this.sendPieces(res, st, p, pieces, i + 1, total, true)));
    }
    return undefined;
  }

  /** A stream as chunked transfer: each chunk is written as it arrives; a full socket buffer pauses the reading. */
  private async sendStream(res: HttpResponse, st: ResponseState, p: PreparedReply, stream: AsyncIterable<Buffer>): Promise<void> {
    const head = () => writeHead(res, p);
    let headSent = false;
    const result = await pumpStream(stream, (st.controller ??= new Cancellation()).signal, (chunk) => {
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
    this.log.error({ err: result.error }, 'response stream failed');
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


/**
 * The OriginRequest of a uWS request. While the request callback runs, headers are read from
 * uWS's own request on demand (it is stack-allocated and gone afterwards); a handler that waits
 * reads the copy the adapter makes before anything was awaited.
 */
class UwsRequest implements OriginRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly protocol = 'h1';

  constructor(private readonly req: HttpRequest, private readonly res: HttpResponse, private readonly st: ResponseState) {
    this.method = req.getMethod().toUpperCase();
    this.path = req.getUrl();
    this.query = req.getQuery() ?? '';
  }

  header(name: string): string | undefined {
    const n = name.toLowerCase();
    if (this.st.headers) return this.st.headers.get(n);
    const v = this.req.getHeader(n);
    return v === '' ? undefined : v;
  }

  get signal(): CancelSignal {
    return (this.st.controller ??= new Cancellation()).signal;
  }

  /** Decoded only when asked (a TextDecoder call); a response already gone has no address. */
  get remoteAddress(): string | undefined {
    if (this.st.aborted) return undefined;
    return Buffer.from(this.res.getRemoteAddressAsText()).toString();
  }
}

function writeHead(res: HttpResponse, p: PreparedReply): void {
  res.writeStatus(statusLine(p.status));
  // uWS writes a Date of its own on every response: the handler's would make it appear twice.
  for (const [k, v] of p.headers) if (k !== 'date') res.writeHeader(k, v);
}

/** Every header of the request (repeated names joined as RFC 9110 §5.3 allows). */
function copyHeaders(req: HttpRequest): Map<string, string> {
  const headers = new Map<string, string>();
  req.forEach((k, v) => {
    const prev = headers.get(k);
    headers.set(k, prev === undefined ? v : `${prev}, ${v}`);
  });
  return headers;
}
