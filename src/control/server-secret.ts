import { hkdfSync, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyedHash } from '../db/keyed-hash.js';
import { SealedText } from './sealed-text.js';

/**
 * The one server secret and the keys derived from it, each for one purpose, so a leaked
 * playback-token key tells nothing about stream-key digests. Given in the config (`secret`,
 * the same on every origin sharing a database) or made at first start and kept in
 * dataDir/secret.key, readable by the owner only.
 */
export interface ServerKeys {
  /** Digests of stream keys (what the database stores and the RTMP ingest looks up). */
  streamKeys: KeyedHash;
  /** Digests of API tokens. */
  apiTokens: KeyedHash;
  /** HS256 key of playback tokens. */
  playbackTokens: Uint8Array;
  /** Seals restream target URLs (their stream keys) in the database. */
  restreamUrls: SealedText;
  /** HS256 key of publish tokens (WHIP): never the playback tokens' key. */
  publishTokens: Uint8Array;
}

const SECRET_FILE = 'secret.key';

/** Reads dataDir/secret.key, or creates it (O_EXCL: two processes starting together agree on one). */
async function secretFromDataDir(dataDir: string): Promise<Buffer> {
  const path = join(dataDir, SECRET_FILE);
  await mkdir(dataDir, { recursive: true });
  try {
    const fh = await open(path, 'wx', 0o600);
    try {
      const secret = randomBytes(32).toString('hex');
      await fh.writeFile(`${secret}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  await chmod(path, 0o600);
  const text = (await readFile(path, 'utf8')).trim();
  if (text.length < 32) throw new Error(`${path} holds no usable secret (fewer than 32 characters): delete it to make a new one`);
  return Buffer.from(text, 'utf8');
}

function derive(secret: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'sigma-live', purpose, 32));
}

export async function loadServerKeys(o: { secret?: string; playbackTokenSecret?: string; dataDir: string }): Promise<ServerKeys> {
  const secret = o.secret !== undefined ? Buffer.from(o.secret, 'utf8') : await secretFromDataDir(o.dataDir);
  return {
    streamKeys: new KeyedHash(derive(secret, 'stream-key'), 'stream-key'),
    apiTokens: new KeyedHash(derive(secret, 'api-token'), 'api-token'),
    // A configured token secret is used as given, so a platform's back end can sign tokens with it.
    playbackTokens: o.playbackTokenSecret !== undefined ? Buffer.from(o.playbackTokenSecret, 'utf8') : derive(secret, 'playback-token'),
    restreamUrls: new SealedText(derive(secret, 'restream-url')),
    publishTokens: derive(secret, 'publish-token'),
  };
}
