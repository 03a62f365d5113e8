/**
 * Scenario 2: requests per second for a part (~25 KB, immutable) and for the media playlist
 * (non-blocking; with and without Accept-Encoding: gzip) over uWS, node:http, h2c and TLS h2,
 * with nginx (1 and 2 workers) serving the same bytes from files as the yardstick.
 *
 *   node dist/bench/throughput.js [--connections 100] [--duration 10] [--warmup 3]
 *        [--only <substring of a case name>] [--pin true] [--h1tools autocannon,h2load] [--rounds 1]
 *
 * Load: autocannon (HTTP/1.1) and h2load (HTTP/2; also HTTP/1.1 with --h1 as a cross-check,
 * because autocannon is a single Node thread). With --pin (default), servers run on CPU 0 and
 * the load generator on CPU 1 (taskset); nginx with 2 workers gets CPUs 0-1 and so shares CPU 1
 * with the load generator. The origin is bench/fake-origin.ts (src/origin.ts with a fake
 * pipeline holding 100 parts of 25 000 bytes, nothing published during the runs).
 * With --rounds N every cell is measured N times, the cells alternating within each round so that
 * the machine's drift hits every server alike; a row reports the median rate (and the p50/p99 of
 * that median run) with every run's rate beside it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { forkChild, flags, freePort, median, pct, report, round, ROOT, runCommand, sleep, tmpDir, type IpcChild } from './common.js';

const round2 = (x: number) => round(x, 0);

const opts = flags({ connections: 100, duration: 10, warmup: 3, only: '', pin: true, h1tools: 'autocannon,h2load', streams: 1, rounds: 1 });

const SERVER_CPU = '0';
const CLIENT_CPU = '1';

interface Target { name: string; proto: 'h1' | 'h2c' | 'h2'; base: string; cpus: string }
interface Resource { name: string; path: string; gzip: boolean }
interface Row { target: string; proto: string; tool: string; resource: string; rps: number; rpsPerSecondMedian?: number; p50ms: number; p99ms: number; ok: number; errors: number; bytesPerResponse?: number; runs?: number[] }

/** The load generator, on its own core when --pin. */
function run(cmd: string, args: string[], timeoutMs: number) {
  return opts.pin ? runCommand('taskset', ['-c', CLIENT_CPU, cmd, ...args], timeoutMs) : runCommand(cmd, args, timeoutMs);
}

const AUTOCANNON = join(ROOT, 'node_modules', 'autocannon', 'autocannon.js');

async function autocannon(url: string, gzip: boolean, seconds: number) {
  const args = [AUTOCANNON, '-c', String(opts.connections), '-d', String(seconds), '-j', '--latency'];
  if (gzip) args.push('-H', 'accept-encoding=gzip');
  args.push(url);
  const r = await run(process.execPath, args, (seconds + 30) * 1000);
  const j = JSON.parse(r.out.slice(r.out.indexOf('{')));
  return {
    rps: j.requests.average as number, rpsPerSecondMedian: j.requests.p50 as number,
    p50ms: j.latency.p50 as number, p99ms: j.latency.p99 as number,
    ok: j['2xx'] as number, errors: (j.errors as number) + (j.timeouts as number) + (j.non2xx as number),
    bytesPerResponse: j['2xx'] ? Math.round(j.throughput.total / (j['2xx'] + j.non2xx)) : undefined,
  };
}

async function h2load(url: string, gzip: boolean, seconds: number, h1: boolean, logDir: string) {
  const log = join(logDir, `h2load-${Date.now()}.log`);
  const args = ['-c', String(opts.connections), '-m', String(opts.streams), '-t', '1', '-D', String(seconds), '--warm-up-time', '1', '--log-file', log];
  if (h1) args.push('--h1');
  if (gzip) args.push('-H', 'accept-encoding: gzip');
  args.push(url);
  const r = await run('h2load', args, (seconds + 30) * 1000);
  const fin = /finished in [\d.]+s, ([\d.]+) req\/s/.exec(r.out);
  const reqs = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(r.out);
  const traffic = /traffic: .*?\((\d+)\) total/.exec(r.out);
  if (!fin || !reqs) throw new Error(`h2load output not understood (exit ${r.code}): ${r.out} ${r.err}`);
  const lat: number[] = [];
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const f = line.split('\t');
    if (f.length >= 3) lat.push(Number(f[2]) / 1000);
  }
  rmSync(log, { force: true });
  return {
    rps: Number(fin[1]), p50ms: round(pct(lat, 50), 3), p99ms: round(pct(lat, 99), 3),
    ok: Number(reqs[4]), errors: Number(reqs[5]) + Number(reqs[6]) + Number(reqs[7]),
    bytesPerResponse: traffic ? Math.round(Number(traffic[1]) / Math.max(1, Number(reqs[3]))) : undefined,
  };
}

async function startNginx(dir: string, root: string, workers: number, cert: string, key: string) {
  const [h1, h2c, h2] = [await freePort(), await freePort(), await freePort()];
  const cors = `add_header access-control-allow-origin "*" always; add_header access-control-expose-headers "Age, Content-Length, Content-Range, Date" always;`;
  const conf = `
user root;
worker_processes ${workers};
daemon off;
pid ${dir}/nginx-${workers}.pid;
error_log ${dir}/error-${workers}.log warn;
events { worker_connections 4096; multi_accept on; }
http {
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_timeout 65; keepalive_requests 10000000;
  http2_max_requests 10000000;
  open_file_cache max=100 inactive=60s; open_file_cache_valid 60s;
  client_body_temp_path ${dir}/cb; proxy_temp_path ${dir}/pt; fastcgi_temp_path ${dir}/ft; uwsgi_temp_path ${dir}/ut; scgi_temp_path ${dir}/st;
  types { application/vnd.apple.mpegurl m3u8; video/iso.segment m4s; video/mp4 mp4; }
  ssl_certificate ${cert}; ssl_certificate_key ${key};
  server {
    listen 127.0.0.1:${h1};
    listen 127.0.0.1:${h2c} http2;
    listen 127.0.0.1:${h2} ssl http2;
    root ${root};
    location ~ \\.m4s$ { add_header cache-control "public, max-age=31536000, immutable"; ${cors} }
    location ~ \\.m3u8$ { gzip_static on; gzip_vary on; add_header cache-control "public, max-age=1"; ${cors} }
  }
}`;
  const file = join(dir, `nginx-${workers}.conf`);
  writeFileSync(file, conf);
  const cpus = opts.pin ? (workers === 1 ? SERVER_CPU : '0,1') : '0,1';
  const p = spawn('taskset', ['-c', cpus, 'nginx', '-p', dir, '-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (d) => { err += d; });
  const end = Date.now() + 10000;
  for (;;) {
    try { if ((await fetch(`http://127.0.0.1:${h1}/live/bench/source.m3u8`)).ok) break; } catch { /* not yet */ }
    if (p.exitCode !== null || Date.now() > end) throw new Error(`nginx did not start: ${err} ${readFileSync(join(dir, `error-${workers}.log`), 'utf8')}`);
    await sleep(100);
  }
  return {
    ports: { h1, h2c, h2 }, cpus, pid: p.pid!,
    async stop() { p.kill('SIGQUIT'); const t = setTimeout(() => p.kill('SIGKILL'), 5000); await once(p, 'exit'); clearTimeout(t); },
  };
}

async function main(): Promise<void> {
  const dir = tmpDir('throughput');
  const cert = join(dir, 'cert.pem'), key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const pinArg = opts.pin ? { taskset: SERVER_CPU } : {};
  const rows: Row[] = [];
  let uwsOrigin: IpcChild | undefined, nodeOrigin: IpcChild | undefined;
  const nginxes: Awaited<ReturnType<typeof startNginx>>[] = [];
  try {
    uwsOrigin = await forkChild('fake-origin.js', ['--server', 'uws', '--http2', 'true', '--certFile', cert, '--keyFile', key], pinArg);
    nodeOrigin = await forkChild('fake-origin.js', ['--server', 'node', '--http2', 'false'], pinArg);
    const up = uwsOrigin.ready.ports, np = nodeOrigin.ready.ports;
    const o = `http://127.0.0.1:${up.http}`;
    // The bytes nginx serves: fetched from the origin itself.
    const plain = await fetch(`${o}/live/bench/source.m3u8`, { headers: { 'accept-encoding': 'identity' } });
    const text = Buffer.from(await plain.arrayBuffer());
    const partUri = /#EXT-X-PART:.*URI="([^"]+)"/.exec(text.toString())![1];
    const partPath = `/live/bench/${partUri}`;
    const part = Buffer.from(await (await fetch(`${o}${partPath}`)).arrayBuffer());
    const { gzipSync } = await import('node:zlib');
    const root = join(dir, 'www');
    mkdirSync(join(root, 'live', 'bench', 'source'), { recursive: true });
    writeFileSync(join(root, 'live', 'bench', 'source.m3u8'), text);
    writeFileSync(join(root, 'live', 'bench', 'source.m3u8.gz'), gzipSync(text, { level: 6 }));
    writeFileSync(join(root, partPath), part);
    for (const w of [1, 2]) nginxes.push(await startNginx(dir, root, w, cert, key));
    process.stderr.write(`[throughput] part ${partPath} ${part.length} B; playlist ${text.length} B (gzip ${gzipSync(text, { level: 6 }).length} B)\n`);

    const resources: Resource[] = [
      { name: 'part-25KB', path: partPath, gzip: false },
      { name: 'playlist', path: '/live/bench/source.m3u8', gzip: false },
      { name: 'playlist-gzip', path: '/live/bench/source.m3u8', gzip: true },
    ];
    const targets: Target[] = [
      { name: 'origin-uws', proto: 'h1', base: `http://127.0.0.1:${up.http}`, cpus: SERVER_CPU },
      { name: 'origin-node-http', proto: 'h1', base: `http://127.0.0.1:${np.http}`, cpus: SERVER_CPU },
      { name: 'nginx-1w', proto: 'h1', base: `http://127.0.0.1:${nginxes[0].ports.h1}`, cpus: nginxes[0].cpus },
      { name: 'nginx-2w', proto: 'h1', base: `http://127.0.0.1:${nginxes[1].ports.h1}`, cpus: nginxes[1].cpus },
      { name: 'origin-h2c', proto: 'h2c', base: `http://127.0.0.1:${up.h2c}`, cpus: SERVER_CPU },
      { name: 'nginx-1w-h2c', proto: 'h2c', base: `http://127.0.0.1:${nginxes[0].ports.h2c}`, cpus: nginxes[0].cpus },
      { name: 'nginx-2w-h2c', proto: 'h2c', base: `http://127.0.0.1:${nginxes[1].ports.h2c}`, cpus: nginxes[1].cpus },
      { name: 'origin-h2-tls', proto: 'h2', base: `https://127.0.0.1:${up.http2}`, cpus: SERVER_CPU },
      { name: 'nginx-1w-h2-tls', proto: 'h2', base: `https://127.0.0.1:${nginxes[0].ports.h2}`, cpus: nginxes[0].cpus },
      { name: 'nginx-2w-h2-tls', proto: 'h2', base: `https://127.0.0.1:${nginxes[1].ports.h2}`, cpus: nginxes[1].cpus },
    ];
    const h1tools = opts.h1tools.split(',');
    const runs = new Map<string, Row[]>();
    for (let round = 1; round <= opts.rounds; round++) {
      for (const res of resources) {
        for (const t of targets) {
          const tools = t.proto === 'h1' ? h1tools : ['h2load'];
          for (const tool of tools) {
            const name = `${t.name}/${tool}/${res.name}`;
            if (opts.only && !opts.only.split(',').some((s) => name.includes(s))) continue;
            const url = `${t.base}${res.path}`;
            const go = (secs: number) => (tool === 'autocannon' ? autocannon(url, res.gzip, secs) : h2load(url, res.gzip, secs, t.proto === 'h1', dir));
            await go(opts.warmup); // warm-up, discarded
            const r = await go(opts.duration);
            const row: Row = { target: t.name, proto: t.proto, tool, resource: res.name, ...r, rps: round2(r.rps) };
            if (!runs.has(name)) runs.set(name, []);
            runs.get(name)!.push(row);
            process.stderr.write(`[throughput] round ${round}/${opts.rounds} ${name}: ${row.rps} req/s, p50 ${row.p50ms} ms, p99 ${row.p99ms} ms, ok ${row.ok}, errors ${row.errors}, ${row.bytesPerResponse ?? '?'} B/resp\n`);
          }
        }
      }
    }
    for (const list of runs.values()) {
      // The median run stands for the cell (lower median for an even count); its latencies with it.
      const sorted = [...list].sort((a, b) => a.rps - b.rps);
      const mid = sorted[Math.floor((sorted.length - 1) / 2)];
      rows.push({ ...mid, rps: round2(median(list.map((x) => x.rps))), errors: list.reduce((n, x) => n + x.errors, 0), runs: list.map((x) => x.rps) });
    }
  } finally {
    await uwsOrigin?.close();
    await nodeOrigin?.close();
    for (const n of nginxes) await n.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  report('throughput', { params: { ...opts }, pinning: opts.pin ? `servers on CPU ${SERVER_CPU} (nginx-2w on 0,1), load generator on CPU ${CLIENT_CPU}` : 'none', feed: 'fake pipeline, 100 parts × 25 000 B, static during the runs', rows });
  process.stdout.write('throughput (req/s, p50/p99 ms):\n');
  for (const r of rows) process.stdout.write(`  ${`${r.target} [${r.tool}]`.padEnd(34)} ${r.resource.padEnd(14)} ${String(r.rps).padStart(8)} req/s  p50 ${r.p50ms}  p99 ${r.p99ms}  errors ${r.errors}${r.runs && r.runs.length > 1 ? `  runs ${r.runs.join(' ')}` : ''}\n`);
  // Verdict against nginx-1w for the same protocol family, tool and resource.
  for (const r of rows.filter((x) => x.target.startsWith('origin'))) {
    const fam = r.proto === 'h1' ? 'nginx-1w' : r.proto === 'h2c' ? 'nginx-1w-h2c' : 'nginx-1w-h2-tls';
    const n = rows.find((x) => x.target === fam && x.tool === r.tool && x.resource === r.resource);
    if (n) process.stdout.write(`  ${r.target} [${r.tool}] ${r.resource}: ${round((r.rps / n.rps) * 100, 0)}% of ${fam} → ${r.rps >= n.rps ? 'met' : 'NOT met'}\n`);
  }
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`throughput failed: ${e.stack ?? e}\n`); process.exit(1); });
