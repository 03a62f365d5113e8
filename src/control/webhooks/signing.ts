import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures, Stripe-style: the header `Sigma-Signature: t=<unix seconds>,v1=<hex>`
 * where the hex is HMAC-SHA256(endpoint secret, "<t>.<raw body>"). The timestamp is signed
 * with the body, so a captured request cannot be replayed later than the receiver's tolerance.
 * Several `v1=` values may stand in one header (one per secret while a secret is rotated); a
 * receiver accepts the request when any of them matches its secret.
 */
export const SIGNATURE_HEADER = 'Sigma-Signature';

const SCHEME = 'v1';
const HEX_SHA256 = /^[0-9a-f]{64}$/;

function hmacHex(secret: string, timestamp: number, rawBody: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/**
 * The Sigma-Signature header value for a body sent at nowSec (unix seconds). Pass several
 * secrets to sign with each (secret rotation): the header then carries one v1 per secret.
 */
export function signWebhook(secret: string | readonly string[], body: string | Uint8Array, nowSec: number): string {
  const t = Math.floor(nowSec);
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0) throw new Error('signWebhook: no secret');
  return [`t=${t}`, ...secrets.map((s) => `${SCHEME}=${hmacHex(s, t, body)}`)].join(',');
}

export type VerifyResult =
  | { ok: true; timestamp: number }
  /** malformed: no t= or no v1= · expired: t outside the tolerance · mismatch: no v1 matches the secret. */
  | { ok: false; reason: 'malformed' | 'expired' | 'mismatch' };

export interface VerifyOptions {
  /** How far t may be from now, either way, in seconds (default 300). */
  toleranceSec?: number;
  /** Default: the current time. */
  nowSec?: number;
}

/**
 * For receivers: checks a Sigma-Signature header against the raw request body (the bytes as
 * received, before any JSON parsing) and the endpoint's secret. Comparison is constant-time.
 */
export function verifyWebhookSignature(
  secret: string, header: string | null | undefined, rawBody: string | Uint8Array, opts: VerifyOptions = {},
): VerifyResult {
  const { toleranceSec = 300, nowSec = Date.now() / 1000 } = opts;
  let timestamp: number | undefined;
  const candidates: Buffer[] = [];
  for (const part of (header ?? '').split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim(), value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return { ok: false, reason: 'malformed' };
      timestamp = Number(value);
    } else if (key === SCHEME && HEX_SHA256.test(value)) {
      candidates.push(Buffer.from(value, 'hex'));
    }
  }
  if (timestamp === undefined || candidates.length === 0) return { ok: false, reason: 'malformed' };
  if (Math.abs(nowSec - timestamp) > toleranceSec) return { ok: false, reason: 'expired' };
  const expected = Buffer.from(hmacHex(secret, timestamp, rawBody), 'hex');
  // Every candidate is compared (no early exit), each in constant time.
  let match = false;
  for (const c of candidates) match = timingSafeEqual(c, expected) || match;
  return match ? { ok: true, timestamp } : { ok: false, reason: 'mismatch' };
}
