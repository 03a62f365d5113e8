/**
 * Runs every scenario with its default parameters, one after another (each alone on the
 * machine): fan-out, throughput, latency, transcode (ABR ladder beside ffmpeg), the floors under
 * the fan-out and CPU targets, the ingest meter, metrics, analytics, the object store (Ceph RGW
 * and PostgreSQL on this machine, ≈ 3 min), SRT against RTMP, restream targets, WHIP latency against RTMP, then resources (120 s, last so its CPU figure comes
 * from a quiet machine). `npm run bench` = bootstrap --bench, then this.
 *
 *   node dist/bench/run-all.js [--skip fanout,latency]
 *
 * Each scenario prints its RESULT line and summary, and appends the line to bench/results/<name>.jsonl.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { flags, ROOT, sleep } from './common.js';

const opts = flags({ skip: '' });
const SCENARIOS: [string, string[]][] = [
  ['fanout', []],
  ['throughput', []],
  ['latency', []],
  ['transcode', []],
  ['floors', []],
  ['ingest-meter', []],
  ['metrics', []],
  ['analytics', []],
  ['object-store', []],
  ['srt', []],
  ['restream', []],
  ['whip', []],
  ['console', []],
  ['resources', ['--duration', '120']],
];

async function main(): Promise<void> {
  const skip = new Set(opts.skip.split(',').filter(Boolean));
  const failed: string[] = [];
  for (const [name, args] of SCENARIOS) {
    if (skip.has(name)) continue;
    process.stdout.write(`\n=== ${name} ${args.join(' ')}\n`);
    const p = spawn(process.execPath, [join(ROOT, 'dist', 'bench', `${name}.js`), ...args], { stdio: 'inherit' });
    const [code] = await once(p, 'exit');
    if (code !== 0) failed.push(name);
    await sleep(3000); // let sockets in TIME_WAIT and the CPU settle between scenarios
  }
  if (failed.length) {
    process.stderr.write(`failed: ${failed.join(', ')}\n`);
    process.exit(1);
  }
}

main().catch((e) => { process.stderr.write(`${e.stack ?? e}\n`); process.exit(1); });
