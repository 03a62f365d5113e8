import { randomBytes } from 'node:crypto';

/**
 * The secrets the API hands out once: a type prefix and 32 random bytes in base64url (256 bits,
 * URL-safe, so a stream key fits rtmp://host/live/<key> and a token an HTTP header as they are).
 * Only their KeyedHash digests are stored (webhook secrets excepted: deliveries sign with them).
 */
export const SECRET_PREFIX = { apiToken: 'sgl_', streamKey: 'sk_', webhook: 'whsec_' } as const;

export function newSecret(kind: keyof typeof SECRET_PREFIX): string {
  return SECRET_PREFIX[kind] + randomBytes(32).toString('base64url');
}

/** The last characters of a secret, stored so an operator can tell keys apart. */
export function hintOf(secret: string): string {
  return secret.slice(-4);
}
