import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePorts } from './origin-process.js';

/**
 * A real S3-compatible object store for tests: Ceph's RADOS Gateway from Debian's packages,
 * started by the project's scripts/s3/start-rgw.sh (which installs the packages when missing)
 * in a temp dir on free ports of 127.0.0.1, and stopped (its data purged) by stop().
 */
export interface ObjectStoreServer {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The credentials as the AWS SDK reads them from the environment (what an origin process gets). */
  env: Record<string, string>;
  /** A client with the credentials, for a test's own checks. */
  client: S3Client;
  /** Creates an empty bucket (one per test, for isolation) and returns its name. */
  createBucket(name: string): Promise<string>;
  stop(): Promise<void>;
}

const SCRIPTS = resolve(import.meta.dirname, '../../../scripts/s3');
// As src/store/object/bucket.ts: the SDK's multi-line Node 20 notice stays out of the test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function run(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const p = spawn('bash', [join(SCRIPTS, script), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (code) => done({ code: code ?? 1, stdout, stderr }));
  });
}

export async function startObjectStore(): Promise<ObjectStoreServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-rgw-'));
  const [port, monPort] = await freePorts(2);
  const started = await run('start-rgw.sh', [dir, String(port)], { ...process.env, RGW_MON_PORT: String(monPort) });
  if (started.code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`scripts/s3/start-rgw.sh failed (${started.code}): ${started.stderr.slice(-2000)}`);
  }
  const vars = Object.fromEntries(started.stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const endpoint = vars.S3_ENDPOINT, region = vars.S3_REGION ?? 'us-east-1';
  const accessKeyId = vars.S3_ACCESS_KEY_ID, secretAccessKey = vars.S3_SECRET_ACCESS_KEY;
  const client = new S3Client({ endpoint, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  let stopped: Promise<void> | undefined;
  return {
    endpoint, region, accessKeyId, secretAccessKey, client,
    env: { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: region },
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    stop() {
      stopped ??= (async () => {
        client.destroy();
        const r = await run('stop-rgw.sh', [dir, '--purge'], process.env);
        if (r.code !== 0) throw new Error(`scripts/s3/stop-rgw.sh failed (${r.code}): ${r.stderr.slice(-1000)}`);
      })();
      return stopped;
    },
  };
}
