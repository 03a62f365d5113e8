import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Logger } from 'pino';
import {
  callHandleSync, internalErrorReply, originRequest, prepareReply, pumpStream, splitTarget,
  type Handle,
} from '../server.js';
import { Cancellation } from '../../cancellation.js';

/** A request/response pair from node:http, or from node:http2's compatibility API (h2, h2c, or HTTP/1.1 through ALPN). */
export type NodeRequest = IncomingMessage | Http2ServerRequest;
export type NodeResponse = ServerResponse | Http2ServerResponse;

/** Minimal surface used on both response kinds (their typings differ in overloads only). */
interface ResponseLike {
  readonly headersSent: boolean;
  readonly writableFinished: boolean;
  readonly destroyed?: boolean;
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer): unknown;
  destroy(err?: Error): unknown;
  on(event: string, fn: (...args: unknown[]) => void): unknown;
  once(event: string, fn: (...args: unknown[]) => void): unknown;
  off(event: string, fn: (...args: unknown[]) => void): unknown;
}

export function headerLookup(headers: IncomingHttpHeaders): (lowerName: string) => string | undefined {
  return (name) => {
    let v = headers[name];
    // HTTP/2 carries the host as the :authority pseudo-header (RFC 9113 §8.3.1).
    if (v === undefined && name === 'host') v = headers[':authority'];
    if (v === undefined) return undefined;
    return Array.isArray(v) ? v.join(', ') : String(v);
  };
}

/** Resolves at the next 'drain', or when the response (or HTTP/2 stream) closes (client gone): never hangs. */
export function drainOrClose(res: Pick<ResponseLike, 'on' | 'off'>): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Serves one request through `handle`, for node:http and node:http2 (compatibility API) alike:
 * - the signal aborts when the response closes before it finished (client disconnect, RST_STREAM);
 * - Buffer[] bodies are written piece by piece (no concat) with content-length, waiting for
 *   'drain' whenever write() reports a full buffer;
 * - stream bodies are written chunk by chunk as they arrive (chunked transfer on HTTP/1.1, DATA
 *   frames on HTTP/2) with the same backpressure; headers go out with the first chunk;
 * - HEAD: headers with the content-length, no body.
 * Never rejects.
 */
export async function serveNodeRequest(rq: NodeRequest, rs: NodeResponse, handle: Handle, log: Logger): Promise<void> {
  const res = rs as unknown as ResponseLike;
  const controller = new Cancellation();
  // Aborted = the response closed before we ended it. (writableFinished cannot tell: the HTTP/2
  // compatibility layer emits 'finish' then 'close' on RST_STREAM too.)
  let ended = false;
  res.on('close', () => {
    if (!ended) controller.abort();
  });
  const end = (chunk?: Buffer) => {
    ended = true;
    res.end(chunk);
  };
  // A write racing a disconnect can surface as an 'error' on the response; it is not a crash.
  res.on('error', (err) => log.debug({ err }, 'response error'));

  const { path, query } = splitTarget(rq.url ?? '/');
  const request = originRequest(rq.method ?? 'GET', path, query, headerLookup(rq.headers), controller.signal,
    () => rq.socket?.remoteAddress, rq.httpVersionMajor === 2 ? 'h2' : 'h1');
  try {
    const pending = callHandleSync(handle, request, log);
    const reply = pending instanceof Promise ? await pending : pending;
    const p = prepareReply(request.method, reply);
    const gone = () => controller.signal.aborted || res.destroyed === true;
    if (gone()) {
      if (p.body.kind === 'stream') void pumpStream(p.body.stream, controller.signal, () => undefined);
      return;
    }
    const headers: Record<string, string> = Object.fromEntries(p.headers);
    if (p.contentLength !== undefined) headers['content-length'] = String(p.contentLength);
    const body = p.body;

    if (body.kind === 'none') {
      if (p.headChunked && rq.httpVersionMajor === 1 && rq.httpVersionMinor === 1) headers['transfer-encoding'] = 'chunked';
      res.writeHead(p.status, headers);
      end();
      return;
    }

    if (body.kind === 'pieces') {
      res.writeHead(p.status, headers);
      const pieces = body.pieces;
      if (pieces.length === 1) {
        end(pieces[0]);
        return;
      }
      for (const piece of pieces) {
        if (gone()) return;
        if (piece.length === 0) continue;
        if (!res.write(piece)) await drainOrClose(res);
      }
      if (!gone()) end();
      return;
    }

    const result = await pumpStream(body.stream, controller.signal, (chunk) => {
      if (gone()) return;
      if (!res.headersSent) res.writeHead(p.status, headers);
      if (!res.write(chunk)) return drainOrClose(res);
    });
    if (gone() || result === 'aborted') return;
    if (result === 'done') {
      if (!res.headersSent) res.writeHead(p.status, headers);
      end();
      return;
    }
    log.error({ err: result.error, path }, 'response stream failed');
    if (!res.headersSent) {
      const r = internalErrorReply();
      res.writeHead(r.status, r.headers);
      end(r.body as Buffer);
    } else {
      // Mid-body: cutting the connection (HTTP/1.1) or resetting the stream with INTERNAL_ERROR
      // (HTTP/2; a plain destroy() would end the stream cleanly) is the only way to tell the
      // client the body is incomplete.
      res.destroy(new Error('response stream failed'));
    }
  } catch (err) {
    // Writing failed in a way the checks above did not foresee; never let it reach the process.
    log.error({ err, path }, 'response failed');
    try { res.destroy(); } catch { /* already gone */ }
  }
}
