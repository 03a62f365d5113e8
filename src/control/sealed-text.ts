import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/**
 * Text kept secret at rest (restream target URLs, which carry stream keys): AES-256-GCM under a
 * key derived from the server secret, a fresh 96-bit IV each time, `v1.<base64url(iv|tag|data)>`.
 * Every origin sharing the secret opens what another sealed; a changed secret cannot open it.
 */
export class SealedText {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new RangeError('SealedText needs a 256-bit key');
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64url')}`;
  }

  /** Throws when the text was not sealed with this key (another server secret) or was altered. */
  open(sealed: string): string {
    const [version, body] = sealed.split('.', 2);
    if (version !== VERSION || !body) throw new Error('not sealed text');
    const raw = Buffer.from(body, 'base64url');
    if (raw.length < 28) throw new Error('sealed text too short');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    try {
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('sealed text cannot be opened with this server secret');
    }
  }
}
