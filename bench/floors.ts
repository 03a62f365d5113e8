/**
 * Floors under two of issue 2's targets: what this machine costs for the least part of the job,
 * with no origin at all. Not the origin's numbers; the yardstick for how far a target is reachable.
 *
 *   node dist/bench/floors.js [--only ingest,fanout] [--duration 60] [--settle 10] [--runs 3] [--bitrate 3M] [--gop 30]
 *                             [--n 5000] [--rounds 5]
 *
 * ingest (under "≤ 1 % of a core per 3 Mb/s remux channel"): ffmpeg encodes the same live test pattern as bench/resources.ts (1280x720 30 fps, CBR, AAC) and
 * sends it as FLV over plain TCP (the bytes of RTMP without its handshake) to a sink that reads and
 * drops them: `node` is bench/floor/tcp-sink.ts (a node:net 'data' handler, the least any ingest on
 * the event loop does), `c` is bench/floor/tcp-sink.c built here with `cc -O2` (one blocking read()
 * per wake-up). The kinds alternate run by run; CPU = Δ(utime + stime) of the sink from /proc as %
 * of one core, reads = Δ syscr from /proc/<pid>/io.
 *
 * fanout (under "p99 ≤ 10 ms for 5 000 held requests"): bench/floor/fanout-writes.c, built here,
 * opens --n loopback connections and times one write() of a 700-byte reply to each, per round,
 * with nothing else to do: the least time any single-threaded server needs to answer them all.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { CLK_TCK, flags, freePort, median, procSample, report, round, ROOT, sleep, startPublisher, stopProcess, tmpDir } from './common.js';

const opts = flags({ only: 'ingest,fanout', duration: 60, settle: 10, runs: 3, bitrate: '3M', gop: 30, n: 5000, rounds: 5 });

type Kind = 'node' | 'c';

/** Builds bench/floor/<name>.c into a temporary directory; returns the binary's path. */
function buildC(name: string): string {
  const out = join(tmpDir('floor'), name);
  execFileSync('cc', ['-O2', '-o', out, join(ROOT, 'bench', 'floor', `${name}.c`)]);
  return out;
}

function startSink(kind: Kind, port: number, cBinary: string): ChildProcess {
  return kind === 'node'
    ? spawn(process.execPath, [join(ROOT, 'dist', 'bench', 'floor', 'tcp-sink.js'), String(port)], { stdio: ['ignore', 'ignore', 'inherit'] })
    : spawn(cBinary, [String(port)], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function waitListening(port: number): Promise<void> {
  const end = Date.now() + 10000;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); res(true); });
      s.on('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`sink on ${port} did not listen`);
    await sleep(50);
  }
}

const readSyscalls = (pid: number): number => Number(/syscr:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);

async function measure(kind: Kind, cBinary: string): Promise<{ cpuPct: number; readsPerSec: number }> {
  const port = await freePort();
  const sink = startSink(kind, port, cBinary);
  try {
    await waitListening(port);
    const pub = startPublisher(`tcp://127.0.0.1:${port}`, { gop: opts.gop, bitrate: opts.bitrate });
    try {
      await sleep(opts.settle * 1000);
      if (pub.exitCode !== null) throw new Error(`publisher exited: ${pub.stderrText()}`);
      const a = procSample(sink.pid!), ra = readSyscalls(sink.pid!);
      await sleep(opts.duration * 1000);
      const b = procSample(sink.pid!), rb = readSyscalls(sink.pid!);
      const wall = (b.t - a.t) / 1000;
      return { cpuPct: round(((b.ticks - a.ticks) / CLK_TCK / wall) * 100, 3), readsPerSec: round((rb - ra) / wall, 1) };
    } finally {
      await stopProcess(pub);
    }
  } finally {
    await stopProcess(sink, 'SIGTERM');
  }
}

async function ingest(): Promise<Record<string, unknown>> {
  const cBinary = buildC('tcp-sink');
  const runs: Record<Kind, { cpuPct: number; readsPerSec: number }[]> = { node: [], c: [] };
  for (let i = 0; i < opts.runs; i++) {
    for (const kind of ['node', 'c'] as const) {
      const r = await measure(kind, cBinary);
      runs[kind].push(r);
      process.stderr.write(`[floors] ingest run ${i + 1} ${kind}: ${r.cpuPct} % of a core, ${r.readsPerSec} reads/s\n`);
    }
  }
  const summarize = (k: Kind) => ({
    cpuPctMedian: round(median(runs[k].map((r) => r.cpuPct)), 3),
    readsPerSecMedian: round(median(runs[k].map((r) => r.readsPerSec)), 1),
    runs: runs[k],
  });
  const summary = { node: summarize('node'), c: summarize('c') };
  process.stdout.write(`floors: receiving a ${opts.bitrate} publisher costs node:net ${summary.node.cpuPctMedian} % and C ${summary.c.cpuPctMedian} % of a core ` +
    `(medians of ${opts.runs}); the per-channel target is 1 %\n`);
  return summary;
}

function fanout(): Record<string, unknown> {
  const out = execFileSync(buildC('fanout-writes'), [String(opts.n), String(opts.rounds)], { encoding: 'utf8' });
  const rounds = out.trim().split('\n').map((l) => JSON.parse(l) as { n: number; ms: number; usPerWrite: number });
  const ms = round(median(rounds.map((r) => r.ms)), 1);
  process.stdout.write(`floors: one write() to each of ${opts.n} connections takes ${ms} ms in C (median of ${opts.rounds}); the fan-out target is p99 ≤ 10 ms\n`);
  return { msMedian: ms, usPerWriteMedian: round(median(rounds.map((r) => r.usPerWrite)), 2), rounds };
}

async function main(): Promise<void> {
  const only = new Set(opts.only.split(','));
  const result: Record<string, unknown> = { params: { ...opts } };
  if (only.has('fanout')) result.fanoutWrites = fanout();
  if (only.has('ingest')) result.ingest = await ingest();
  report('floors', result);
}

main().catch((e) => { process.stderr.write(`${e instanceof Error ? e.stack : e}\n`); process.exit(1); });
