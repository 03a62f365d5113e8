/**
 * Prometheus's own tools in tests: promtool to check what /metrics serves and the rules the
 * README gives, and a real Prometheus server scraping an origin. Debian's `prometheus` package
 * has both (scripts/bootstrap.sh installs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingCommand } from './ci.js';
import { waitUntil } from './wait.js';

/** What a test of Prometheus's tools lacks on this machine (see testNeeding), or undefined. */
export function missingPrometheus(): string | undefined {
  return missingCommand('promtool', ['--version'], 'prometheus') ?? missingCommand('prometheus', ['--version']);
}

/** Runs promtool with `stdin`; resolves with its exit code and all it printed. */
export async function promtool(args: string[], stdin = ''): Promise<{ code: number | null; output: string }> {
  const p = spawn('promtool', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  p.stdout!.on('data', (d) => { output += d; });
  p.stderr!.on('data', (d) => { output += d; });
  p.stdin!.end(stdin);
  const [code] = await once(p, 'exit');
  return { code: code as number | null, output };
}

/** A port nobody listens on now (Prometheus takes no port 0). */
async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, 'close');
  return port;
}

export interface PrometheusServer {
  url: string;
  /** An instant PromQL query (HTTP API /api/v1/query): every sample of its vector result. */
  query(promql: string): Promise<{ metric: Record<string, string>; value: number }[]>;
  /** Kills the server and removes its config and data. */
  close(): Promise<void>;
}

export interface ScrapeTarget {
  /** host:port of the API listener. */
  target: string;
  /** metrics.token, when the origin has one. */
  bearerToken?: string;
}

/**
 * Starts a Prometheus server of its own (temp config and data dir, a free port on 127.0.0.1)
 * scraping `target` every second; resolves once it is ready.
 */
export async function startPrometheus(scrape: ScrapeTarget): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-prometheus-'));
  const config = [
    'global:', '  scrape_interval: 1s', '  evaluation_interval: 1s',
    'scrape_configs:', '  - job_name: sigma', '    metrics_path: /metrics',
    ...(scrape.bearerToken ? ['    authorization:', `      credentials: ${JSON.stringify(scrape.bearerToken)}`] : []),
    '    static_configs:', `      - targets: [${JSON.stringify(scrape.target)}]`, '',
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc: ChildProcess = spawn('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const close = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await once(proc, 'exit');
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(async () => {
      if (proc.exitCode !== null) throw new Error(`prometheus exited ${proc.exitCode}: ${stderr}`);
      return (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok;
    }, 20_000, 'prometheus to be ready', 200);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    url, close,
    async query(promql) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = await res.json() as { status: string; error?: string; data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } };
      if (body.status !== 'success') throw new Error(`query ${promql}: ${body.error}`);
      return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
  };
}
