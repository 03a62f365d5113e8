import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema, type Config } from '../../src/config/schema.js';
import { Origin } from '../../src/origin.js';
import type { Logger } from 'pino';
import { createLogger, silentLogger } from '../../src/log.js';

export interface RunningOrigin {
  origin: Origin;
  config: Config;
  http: string;
  rtmp: (key: string) => string;
  ports: Origin['addresses'];
  close(): Promise<void>;
}

/**
 * Starts a real origin (native addon, RTMP, HTTP adapters) on ephemeral ports with a temp
 * dataDir. LOG_LEVEL=debug shows its logs while debugging a test.
 */
export async function startOrigin(overrides: Record<string, unknown> = {}, o: { logger?: Logger } = {}): Promise<RunningOrigin> {
  const ownDir = overrides.dataDir === undefined;
  const dataDir = (overrides.dataDir as string | undefined) ?? mkdtempSync(join(tmpdir(), 'sigma-test-'));
  const config = configSchema.parse({
    rtmp: { port: 0, host: '127.0.0.1', idleTimeoutSec: 5 },
    srt: { port: 0, host: '127.0.0.1' },
    http: { port: 0, host: '127.0.0.1' },
    http2: { port: 0, cleartextPort: 0, host: '127.0.0.1' },
    api: { port: 0, host: '127.0.0.1' },
    dataDir,
    reconnectWindowSec: 2,
    channels: [{ id: 'demo', streamKey: 'demo-key-123', latencyMode: 'ultra-low' }],
    ...overrides,
  });
  const log = o.logger ?? (process.env.LOG_LEVEL ? createLogger(process.env.LOG_LEVEL) : silentLogger());
  const origin = new Origin(config, log);
  const ports = await origin.start();
  return {
    origin, config, ports,
    http: `http://127.0.0.1:${ports.http}`,
    rtmp: (key) => `rtmp://127.0.0.1:${ports.rtmp}/live/${key}`,
    async close() {
      await origin.close();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export { waitUntil } from './wait.js';
