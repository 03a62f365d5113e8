import type { CancelSignal } from '../cancellation.js';

/** The transport-free request/reply pair every adapter (uWS, node:http, node:http2) translates. */

export interface OriginRequest {
  method: string;
  /** Path without query, e.g. /live/demo/index.m3u8 (not decoded). */
  path: string;
  /** Raw query string without the leading '?', or ''. */
  query: string;
  /** Lower-case header lookup. */
  header(name: string): string | undefined;
  /** Fires when the client goes away; every wait in the handler honours it. */
  signal: CancelSignal;
  /**
   * The client's address as the socket saw it (no X-Forwarded-For), read when asked: the
   * viewer analytics' fallback key needs it now and then, most requests never.
   */
  readonly remoteAddress?: string;
  /** The HTTP version the request came over. */
  readonly protocol?: 'h1' | 'h2';
}

/**
 * A body is a whole buffer, a list of buffers sent back to back (a segment is the list of its
 * parts: no copy to join them), or a stream of buffers for responses produced part by part
 * (sent with chunked transfer on HTTP/1.1, DATA frames on HTTP/2).
 */
export type ReplyBody = Buffer | readonly Buffer[] | AsyncIterable<Buffer>;

export interface OriginReply {
  status: number;
  headers: Record<string, string>;
  body?: ReplyBody;
}

export function isStream(body: ReplyBody | undefined): body is AsyncIterable<Buffer> {
  return body !== undefined && !Buffer.isBuffer(body) && !Array.isArray(body);
}

export function bodyLength(body: ReplyBody | undefined): number | undefined {
  if (body === undefined) return 0;
  if (Buffer.isBuffer(body)) return body.length;
  if (Array.isArray(body)) return (body as readonly Buffer[]).reduce((s, b) => s + b.length, 0);
  return undefined;
}
