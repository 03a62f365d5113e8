import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature, type VerifyResult } from '../../src/control/webhooks/signing.js';

export interface ReceivedWebhook {
  /** 1 for the first request this receiver got. */
  n: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, as signed. */
  body: string;
  /** verifyWebhookSignature on the raw body with the receiver's secret and clock. */
  verified: VerifyResult;
}

/**
 * How to answer one request: a status (and body), `hang` (never answer: the sender's timeout),
 * or `endless` (200, then a body that never ends).
 */
export type Reply = { status: number; body?: string; headers?: Record<string, string>; delayMs?: number } | 'hang' | 'endless';

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** The most requests ever open at once. */
  readonly maxInFlight: number;
  /** Resolves once n requests have come in (all of them), or rejects after timeoutMs. */
  waitForRequests(n: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

/**
 * A webhook endpoint on 127.0.0.1 that records every request and checks its signature the way
 * a customer's receiver would. reply decides each answer (default 204).
 */
export async function startWebhookReceiver(opts: { secret: string; nowSec: () => number; reply?: (r: ReceivedWebhook) => Reply }): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const waiters = new Set<() => void>();
  let inFlight = 0, maxInFlight = 0;
  const server = createServer((req, res) => {
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    res.once('close', () => inFlight--);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const r: ReceivedWebhook = {
        n: received.length + 1, method: req.method ?? '', path: req.url ?? '', headers: req.headers, body,
        verified: verifyWebhookSignature(opts.secret, req.headers['sigma-signature'] as string | undefined, body, { nowSec: opts.nowSec() }),
      };
      received.push(r);
      for (const w of waiters) w();
      answer(res, opts.reply?.(r) ?? { status: 204 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/sigma`,
    received,
    get maxInFlight() { return maxInFlight; },
    waitForRequests(n, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (received.length < n) return;
          cleanup();
          resolve(received.slice(0, n));
        };
        const timer = setTimeout(() => { cleanup(); reject(new Error(`receiver: ${received.length} of ${n} requests after ${timeoutMs} ms`)); }, timeoutMs);
        const cleanup = () => { clearTimeout(timer); waiters.delete(check); };
        waiters.add(check);
        check();
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function answer(res: ServerResponse, reply: Reply): void {
  if (reply === 'hang') return;
  if (reply === 'endless') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const chunk = Buffer.alloc(16 * 1024, 120);
    const more = () => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', more);
    };
    more();
    return;
  }
  const send = () => {
    res.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
    res.end(reply.body ?? '');
  };
  if (reply.delayMs) setTimeout(send, reply.delayMs);
  else send();
}
