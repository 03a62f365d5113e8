import { performance } from 'node:perf_hooks';
import type { WebhookRequest } from './payload.js';

/** A response body is read up to this much (so the connection can be reused), then dropped. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export interface PostResult {
  /** delivered: a 2xx answer · failed: anything else · aborted: the sender shut down mid-attempt. */
  outcome: 'delivered' | 'failed' | 'aborted';
  /** The HTTP status, when an answer came. */
  status: number | null;
  /** Why the attempt failed (null when delivered). */
  error: string | null;
  durationMs: number;
}

/**
 * One webhook attempt: a POST with the global fetch, ended after timeoutMs (connecting,
 * sending and waiting for the answer all count). A redirect is not followed and counts as a
 * failure: a receiver must answer at the URL it registered. Never throws.
 */
export async function postWebhook(url: string, request: WebhookRequest, opts: { timeoutMs: number; shutdown: AbortSignal }): Promise<PostResult> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const signal = AbortSignal.any([AbortSignal.timeout(opts.timeoutMs), opts.shutdown]);
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: request.headers, body: request.body, redirect: 'manual', signal });
  } catch (e) {
    if (opts.shutdown.aborted) return { outcome: 'aborted', status: null, error: 'sender closed', durationMs: elapsed() };
    const error = signal.aborted ? `timeout after ${opts.timeoutMs / 1000} s` : networkError(e);
    return { outcome: 'failed', status: null, error, durationMs: elapsed() };
  }
  await discardBody(response);
  const { status } = response;
  const durationMs = elapsed();
  if (status >= 200 && status < 300) return { outcome: 'delivered', status, error: null, durationMs };
  const error = status >= 300 && status < 400 ? `HTTP ${status}: redirects are not followed` : `HTTP ${status}`;
  return { outcome: 'failed', status, error, durationMs };
}

/** Reads at most MAX_RESPONSE_BYTES of the body, then cancels the rest; errors do not matter here. */
async function discardBody(response: Response): Promise<void> {
  if (!response.body) return;
  const reader = response.body.getReader();
  try {
    for (let read = 0; read < MAX_RESPONSE_BYTES;) {
      const chunk = await reader.read();
      if (chunk.done) return;
      read += chunk.value.byteLength;
    }
    await reader.cancel();
  } catch {
    // A reset or the timeout while reading the body: the status already decided the outcome.
    await reader.cancel().catch(() => undefined);
  }
}

/** fetch rejects with "fetch failed" and the reason as cause (ECONNREFUSED, a TLS error, …). */
function networkError(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.message || cause?.code;
  const message = e instanceof Error ? e.message : String(e);
  return detail ? `${message}: ${detail}` : message;
}
