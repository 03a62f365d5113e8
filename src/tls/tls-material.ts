import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';

/** A certificate and key in PEM, and whether they were generated here for development. */
export interface TlsMaterial {
  cert: string;
  key: string;
  selfSigned: boolean;
}

export interface TlsMaterialOptions {
  /** PEM files from config (http2's or rtmps' certFile / keyFile); both or neither. */
  certFile?: string;
  keyFile?: string;
  /** Where a development certificate is kept: `<dataDir>/tls/`. */
  dataDir: string;
  logger: Logger;
}

export const DEV_CERT_FILE = 'dev-cert.pem';
export const DEV_KEY_FILE = 'dev-key.pem';
/** A stored development certificate closer than this to expiry is replaced. */
const RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;
const VALIDITY_DAYS = 365;

/**
 * The TLS certificate for a TLS listener (h2, RTMPS): the configured files when given, else a self-signed
 * development certificate (CN localhost; SAN localhost, 127.0.0.1, ::1) generated once and
 * reused from `<dataDir>/tls/` on later starts, so a browser exception or a `ca` pinned by a
 * test stays valid across restarts.
 */
export async function loadTlsMaterial(opts: TlsMaterialOptions): Promise<TlsMaterial> {
  if (opts.certFile !== undefined || opts.keyFile !== undefined) {
    if (opts.certFile === undefined || opts.keyFile === undefined) throw new Error('give both certFile and keyFile, or neither');
    const [cert, key] = await Promise.all([readFile(opts.certFile, 'utf8'), readFile(opts.keyFile, 'utf8')]);
    return { cert, key, selfSigned: false };
  }
  return ensureDevCertificate(opts.dataDir, opts.logger);
}

/** Loads `<dataDir>/tls/dev-{cert,key}.pem`, or generates and stores them when absent, unusable or expiring. */
export async function ensureDevCertificate(dataDir: string, logger: Logger): Promise<TlsMaterial> {
  const log = logger;
  const dir = join(dataDir, 'tls');
  const certPath = join(dir, DEV_CERT_FILE);
  const keyPath = join(dir, DEV_KEY_FILE);
  const stored = await readStored(certPath, keyPath);
  if (stored) {
    log.warn({ certFile: certPath }, 'using a self-signed TLS certificate, for development only (set certFile and keyFile of http2 and rtmps for production)');
    return stored;
  }
  const notBeforeDate = new Date(Date.now() - 60_000);
  // Loaded only when a certificate must be made: selfsigned pulls in ~150 ms of crypto modules.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + VALIDITY_DAYS * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Write then rename, so a crash never leaves half a key that the next start would reuse.
  await writeFile(`${keyPath}.tmp`, pems.private, { mode: 0o600 });
  await writeFile(`${certPath}.tmp`, pems.cert, { mode: 0o644 });
  await rename(`${keyPath}.tmp`, keyPath);
  await rename(`${certPath}.tmp`, certPath);
  log.warn({ certFile: certPath, fingerprint: pems.fingerprint },
    'generated a self-signed TLS certificate, for development only (set certFile and keyFile of http2 and rtmps for production)');
  return { cert: pems.cert, key: pems.private, selfSigned: true };
}

async function readStored(certPath: string, keyPath: string): Promise<TlsMaterial | undefined> {
  let cert: string, key: string;
  try {
    [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  } catch {
    return undefined;
  }
  try {
    const x509 = new X509Certificate(cert);
    if (Date.parse(x509.validTo) - Date.now() < RENEW_BEFORE_MS) return undefined;
    if (!x509.checkPrivateKey(createPrivateKey(key))) return undefined;
  } catch {
    return undefined;
  }
  return { cert, key, selfSigned: true };
}
