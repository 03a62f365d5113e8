import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-SHA256 of a secret under a server key, hex: what the database stores for stream keys
 * and API tokens instead of the secrets. The digest is deterministic, so a unique index finds
 * the row of a presented secret in one lookup (the RTMP ingest has the key and nothing else);
 * a copy of the database without the server key tells nothing about the secrets, not even
 * for short hand-chosen stream keys. Each use has its own purpose label, so a stream key's
 * digest never matches an API token's.
 */
export class KeyedHash {
  private readonly key: Buffer;

  constructor(serverKey: string | Buffer, private readonly purpose: string) {
    this.key = typeof serverKey === 'string' ? Buffer.from(serverKey, 'utf8') : serverKey;
    if (this.key.length < 16) throw new Error('the server key of a KeyedHash must be at least 16 bytes');
  }

  digest(secret: string): string {
    return createHmac('sha256', this.key).update(this.purpose).update('\0').update(secret, 'utf8').digest('hex');
  }

  /** Constant-time check of a secret against a stored digest. */
  matches(secret: string, storedDigest: string): boolean {
    const a = Buffer.from(this.digest(secret), 'hex');
    const b = Buffer.from(storedDigest, 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }
}
