import { OriginError } from '../errors.js';
import { replyForError } from './error-reply.js';
import type { OriginReply, OriginRequest } from './types.js';

/** Where a channel's live playback is served when its publisher is on another origin (src/control/placement.ts). */
export interface PlaybackPlacement {
  /** The owning origin's URL, or undefined to serve here. */
  elsewhere(channelId: string): string | undefined;
  /** The owner did not answer (it died): forget it until its placement is renewed or taken over. */
  lost(channelId: string, ownerUrl: string): void;
  /** Until when requests wait for the channel to come back after its owner was lost (epoch ms); undefined when it was not. */
  comebackUntil(channelId: string): number | undefined;
  mode: 'proxy' | 'redirect';
}

/**
 * The live routes of a channel, whose media only the origin with its publisher has: its
 * playlists, parts, segments, inits and preview images. Not catchup (archive/): each origin
 * serves the sessions it recorded.
 */
const LIVE_ROUTE = /^\/live\/([a-z0-9_-]+)\/(?!archive\/)./;
/** Marks a request one origin relays to another: it is answered where it lands, never relayed again (no loop). */
export const FORWARDED_HEADER = 'x-sigma-forwarded';
/** Response headers relayed as they are (not the encoding or length: fetch has decoded the body). */
const RELAYED = ['content-type', 'cache-control', 'content-range', 'accept-ranges', 'expires', 'last-modified', 'etag'];
/** Longer than any blocking request the owner may hold (3 × the longest target duration). */
const PROXY_TIMEOUT_MS = 60_000;

/** The channel a live route names, when placement may send it elsewhere (not a request another origin relayed). */
export function liveRouteChannel(req: OriginRequest, placement: PlaybackPlacement | undefined): string | undefined {
  if (!placement || req.header(FORWARDED_HEADER) !== undefined) return undefined;
  return LIVE_ROUTE.exec(req.path)?.[1];
}

/**
 * The request answered by the owning origin: a 302 to it, or its answer relayed as it streams.
 * An owner that cannot be reached (it died; its lease has not run out yet) is forgotten and the
 * request answered by `unreachable` instead (src/delivery/handler.ts: held until the channel is
 * live here or on another origin, as a publisher moving over through a load balancer takes a
 * second or two).
 */
export function forward(req: OriginRequest, target: { channelId: string; ownerUrl: string }, placement: PlaybackPlacement,
  unreachable: () => OriginReply | Promise<OriginReply>): OriginReply | Promise<OriginReply> {
  const url = `${target.ownerUrl.replace(/\/+$/, '')}${req.path}${req.query ? `?${req.query}` : ''}`;
  if (placement.mode === 'redirect') return { status: 302, headers: { location: url, 'cache-control': 'no-store' } };
  return proxy(req, url).then((reply) => {
    if (reply !== UNREACHABLE) return reply;
    placement.lost(target.channelId, target.ownerUrl);
    return unreachable();
  });
}

/** The owner did not answer at all (no connection). */
const UNREACHABLE: OriginReply = { status: 502, headers: {} };

async function proxy(req: OriginRequest, target: string): Promise<OriginReply> {
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  req.signal.addEventListener('abort', onAbort, { once: true });
  const headers: Record<string, string> = { [FORWARDED_HEADER]: '1' };
  const range = req.header('range');
  if (range) headers.range = range;
  let res: Response;
  try {
    res = await fetch(target, { method: req.method, headers, redirect: 'manual', signal: AbortSignal.any([abort.signal, AbortSignal.timeout(PROXY_TIMEOUT_MS)]) });
  } catch (err) {
    req.signal.removeEventListener('abort', onAbort);
    if (req.signal.aborted) throw new OriginError('NOT_FOUND');
    // A timeout is an owner that answers too slowly, not a dead one: say so.
    if ((err as Error).name === 'TimeoutError') return replyForError(new OriginError('UPSTREAM_ORIGIN', `${new URL(target).host}: ${(err as Error).message}`), 'no-store');
    return UNREACHABLE;
  }
  const out: Record<string, string> = {};
  for (const h of RELAYED) {
    const v = res.headers.get(h);
    if (v !== null) out[h] = v;
  }
  return { status: res.status, headers: out, body: res.body ? relay(res.body, () => req.signal.removeEventListener('abort', onAbort)) : undefined };
}

/** The owner's body as it arrives (a segment still being produced streams part by part). */
async function* relay(body: ReadableStream<Uint8Array>, done: () => void): AsyncIterable<Buffer> {
  try {
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  } finally {
    done();
  }
}
