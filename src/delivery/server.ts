import { STATUS_CODES } from 'node:http';
import type { Logger } from 'pino';
import { isStream, type OriginReply, type OriginRequest, type ReplyBody } from './types.js';
import type { CancelSignal } from '../cancellation.js';

/**
 * What the uWS, node:http and node:http2 adapters share: the contract they offer the composition
 * root, and the translation rules (request ▶ OriginRequest, OriginReply ▶ status, headers and
 * body pieces) written once so the three adapters only differ in how bytes reach the socket.
 */

/**
 * The one transport-free handler every adapter calls (OriginHandler.handle, or a fake in tests).
 * It answers synchronously when it can (uWS then replies inside its own request callback) and
 * with a promise when the request has to wait.
 */
export type Handle = (req: OriginRequest) => OriginReply | Promise<OriginReply>;

/** An HTTP listener around a {@link Handle}. Constructors do no I/O. */
export interface HttpServerAdapter {
  /** Binds and resolves with the bound port (useful with port 0). */
  listen(): Promise<number>;
  /** Stops accepting, lets in-flight responses finish for a short grace, then drops connections. Idempotent. */
  close(): Promise<void>;
}

/** Options every adapter takes. */
export interface AdapterOptions {
  host: string;
  /** 0 picks a free port; listen() resolves with it. */
  port: number;
  handle: Handle;
  logger: Logger;
  /** How long close() lets in-flight responses run before dropping their connections. Default 1000 ms. */
  closeGraceMs?: number;
}

export const DEFAULT_CLOSE_GRACE_MS = 1000;

/** The reply sent when handle() throws (it should not: OriginHandler turns errors into replies). */
export function internalErrorReply(): OriginReply {
  return {
    status: 500,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: Buffer.from('{"error":{"code":"INTERNAL","message":"internal error"}}'),
  };
}

/** Splits a request target into path and raw query (no leading '?'). Absolute-form targets keep only the path. */
export function splitTarget(target: string): { path: string; query: string } {
  let t = target;
  if (!t.startsWith('/') && /^[a-z][a-z0-9+.-]*:\/\//i.test(t)) {
    // Absolute-form (RFC 9112 §3.2.2), as some proxies send: drop scheme and authority.
    const slash = t.indexOf('/', t.indexOf('//') + 2);
    t = slash < 0 ? '/' : t.slice(slash);
  }
  const q = t.indexOf('?');
  if (q < 0) return { path: t, query: '' };
  return { path: t.slice(0, q), query: t.slice(q + 1) };
}

/** Builds the OriginRequest; `lookup` receives lower-case names; `peer` is read only if the handler asks for the address. */
export function originRequest(method: string, path: string, query: string,
  lookup: (lowerName: string) => string | undefined, signal: CancelSignal,
  peer: () => string | undefined = () => undefined, protocol: 'h1' | 'h2' = 'h1'): OriginRequest {
  return {
    method: method.toUpperCase(),
    path,
    query,
    header: (name: string) => lookup(name.toLowerCase()),
    signal,
    get remoteAddress() { return peer(); },
    protocol,
  };
}

/**
 * Calls handle, turning a throw (or a rejected promise) into the 500 JSON reply and one log
 * line: a reply, or a promise of one when the handler waits. Never throws and never rejects.
 */
export function callHandleSync(handle: Handle, req: OriginRequest, log: Logger): OriginReply | Promise<OriginReply> {
  let reply: OriginReply | Promise<OriginReply>;
  try {
    reply = handle(req);
  } catch (err) {
    return handlerFailed(err, req, log);
  }
  if (reply instanceof Promise) return reply.then((r) => checkedReply(r, req, log), (err: unknown) => handlerFailed(err, req, log));
  return checkedReply(reply, req, log);
}

function checkedReply(reply: OriginReply, req: OriginRequest, log: Logger): OriginReply {
  if (reply && typeof reply.status === 'number') return reply;
  return handlerFailed(new Error('handle returned no reply'), req, log);
}

function handlerFailed(err: unknown, req: OriginRequest, log: Logger): OriginReply {
  log.error({ err, method: req.method, path: req.path }, 'handler threw');
  return internalErrorReply();
}

/** "200 OK", "404 Not Found", "599" for codes without a reason phrase. */
export function statusLine(status: number): string {
  let line = STATUS_LINES.get(status);
  if (line === undefined) {
    const reason = STATUS_CODES[status];
    line = reason ? `${status} ${reason}` : `${status}`;
    if (STATUS_LINES.size < 100) STATUS_LINES.set(status, line);
  }
  return line;
}
/** Built once per status: a string per response adds up at tens of thousands a second. */
const STATUS_LINES = new Map<number, string>();

/**
 * Headers that are the transport's business, not the handler's: framing (the adapter decides
 * between content-length and chunked/DATA frames) and HTTP/1.1 connection management, which
 * HTTP/2 forbids outright (RFC 9113 §8.2.2: a response carrying them is malformed).
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te']);

/** A reply after the transport-independent rules are applied. */
export interface PreparedReply {
  status: number;
  /** Lower-case names, hop-by-hop headers and content-length removed. */
  headers: [string, string][];
  /**
   * The content-length to announce: the body's exact length for Buffer and Buffer[] bodies, the
   * handler's value for bodyless replies (HEAD), undefined for streams (chunked / DATA frames).
   */
  contentLength: number | undefined;
  /**
   * HEAD reply of unknown length (the GET would be a stream): HTTP/1.1 adapters announce
   * `transfer-encoding: chunked`, as the GET would, so the client knows no body follows and
   * keeps the connection (Node's client otherwise closes it after such a HEAD).
   */
  headChunked: boolean;
  /** Whole pieces to send back to back (a Buffer is one piece), a stream, or nothing. */
  body: { kind: 'none' } | { kind: 'pieces'; pieces: readonly Buffer[] } | { kind: 'stream'; stream: AsyncIterable<Buffer> };
}

/**
 * Applies the rules every adapter shares:
 * - header names lower-cased; hop-by-hop headers dropped; content-length recomputed from the body;
 * - HEAD: no body, but the content-length of the body a GET would get (RFC 9110 §9.3.2); a stream
 *   body handed to a HEAD reply is released without being read;
 * - 204 and 304 never carry a body (RFC 9110 §6.4.1).
 */
export function prepareReply(method: string, reply: OriginReply): PreparedReply {
  const headers: [string, string][] = [];
  let declared: number | undefined;
  const given = reply.headers ?? {};
  // for…in rather than Object.entries: this runs for every response (no array per header).
  for (const k in given) {
    const v = given[k];
    if (v === undefined || v === null) continue;
    const name = k.toLowerCase();
    if (name === 'content-length') {
      const n = Number(v);
      if (Number.isSafeInteger(n) && n >= 0) declared = n;
      continue;
    }
    if (HOP_BY_HOP.has(name)) continue;
    headers.push([name, String(v)]);
  }
  const body = reply.body;
  const headChunked = method === 'HEAD' && reply.status >= 200 && reply.status !== 204 && reply.status !== 304
    && (body === undefined || isStream(body)) && declared === undefined;
  const bodyless = method === 'HEAD' || reply.status === 204 || reply.status === 304 || reply.status < 200;
  if (body === undefined) {
    return { status: reply.status, headers, headChunked, contentLength: reply.status === 204 || reply.status < 200 ? undefined : (bodyless ? declared : 0), body: { kind: 'none' } };
  }
  if (Buffer.isBuffer(body) || Array.isArray(body)) {
    const pieces: readonly Buffer[] = Buffer.isBuffer(body) ? [body] : (body as readonly Buffer[]);
    let total = 0;
    for (const p of pieces) total += p.length;
    if (bodyless) {
      return { status: reply.status, headers, headChunked, contentLength: reply.status === 204 || reply.status < 200 ? undefined : total, body: { kind: 'none' } };
    }
    return { status: reply.status, headers, headChunked, contentLength: total, body: { kind: 'pieces', pieces } };
  }
  const stream = body as AsyncIterable<Buffer>;
  if (bodyless) {
    releaseStream(stream);
    return { status: reply.status, headers, headChunked, contentLength: reply.status === 204 ? undefined : declared, body: { kind: 'none' } };
  }
  // A stream's length is whatever it yields; a declared length could disagree and corrupt framing.
  return { status: reply.status, headers, headChunked, contentLength: undefined, body: { kind: 'stream', stream } };
}

/** Lets a stream that will not be read run its finally blocks. */
function releaseStream(stream: AsyncIterable<Buffer>): void {
  try {
    const it = stream[Symbol.asyncIterator]();
    void it.return?.()?.catch(() => undefined);
  } catch {
    // A broken iterable has nothing to release.
  }
}

/** A promise that resolves when the signal aborts, and a way to drop the listener. */
export function abortWaiter(signal: CancelSignal): { promise: Promise<void>; dispose(): void } {
  if (signal.aborted) return { promise: Promise.resolve(), dispose: () => undefined };
  let onAbort!: () => void;
  const promise = new Promise<void>((resolve) => { onAbort = () => resolve(); });
  signal.addEventListener('abort', onAbort, { once: true });
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

/** How pumpStream ended. */
export type PumpResult = 'done' | 'aborted' | { error: unknown };

/**
 * Reads a body stream and hands each non-empty chunk to `write`, waiting for the promise write
 * returns (backpressure) before pulling the next one. When the signal aborts, the pending read is
 * abandoned and the iterator's return() is called so its finally blocks run and it lets go of
 * whatever it holds (waiters, buffers); an iterator that ignores the signal is released at its
 * next yield. Never throws.
 */
export async function pumpStream(stream: AsyncIterable<Buffer>, signal: CancelSignal,
  write: (chunk: Buffer) => void | Promise<void>): Promise<PumpResult> {
  let it: AsyncIterator<Buffer>;
  try {
    it = stream[Symbol.asyncIterator]();
  } catch (error) {
    return { error };
  }
  const aborted = abortWaiter(signal);
  let finished = false;
  try {
    for (;;) {
      if (signal.aborted) return 'aborted';
      const next = Promise.resolve(it.next());
      // After an abort nobody awaits this read any more; a late rejection must not go unhandled.
      next.catch(() => undefined);
      const r = await Promise.race([next, aborted.promise]);
      if (r === undefined || signal.aborted) return 'aborted';
      if (r.done) { finished = true; return 'done'; }
      const chunk = r.value;
      if (!chunk || chunk.length === 0) continue;
      const w = write(chunk);
      if (w) await Promise.race([w, aborted.promise]);
    }
  } catch (error) {
    finished = true; // a throwing iterator is already closed
    return { error };
  } finally {
    aborted.dispose();
    if (!finished) {
      try {
        void it.return?.()?.catch(() => undefined);
      } catch {
        // ignore: nothing more to release
      }
    }
  }
}

export type { OriginReply, OriginRequest, ReplyBody };
