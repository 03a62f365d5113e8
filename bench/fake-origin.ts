/**
 * The origin (src/origin.ts, real delivery stack) in a child process, fed by a fake pipeline
 * the parent drives over IPC. Started with child_process.fork by fanout.ts and throughput.ts:
 *
 *   fork('dist/bench/fake-origin.js', ['--server', 'uws'|'node', '--http2', 'true'|'false',
 *        '--partBytes', '25000', '--prefill', '100', '--api', 'false'|'true', '--analytics', 'true'|'false'])
 *
 * --server raw replaces the origin by a bare node:net floor (see rawFloor).
 * Messages in:  {id, cmd:'publish'} ▶ emits the next part, replies {pubTime, msn, idx}
 *               (pubTime = performance.timeOrigin + performance.now() just before the emit);
 *               {id, cmd:'next'} ▶ {msn, idx} of the part the next publish will produce;
 *               {id, cmd:'waiting'} ▶ {waiting} held requests; {id, cmd:'cpu'} ▶ process.cpuUsage();
 *               {id, cmd:'analytics', on} ▶ {analytics: on, served, cpuUs, at}: delivery counts viewers
 *               or not from now on (needs --analytics true: the sessions, timers and database stay,
 *               only the per-request work goes); with the replies served so far (counted from the
 *               first such command on), this process's CPU time (process.cpuUsage(), user + system, µs)
 *               and performance.now() at the switch, so a caller can split both exactly at it
 *               (bench/analytics.ts compares the two conditions in one process).
 * The first message out is {ready, ports, channel, lastMsn, lastIdx, pid}.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../src/config/schema.js';
import { Origin } from '../src/origin.js';
import { silentLogger } from '../src/log.js';
import type { AccessUnit } from '../src/media/types.js';
import { TRACKS } from '../test/helpers/fake-channel.js';
import { manualPipeline } from '../test/helpers/manual-pipeline.js';
import { flags } from './common.js';

const opts = flags({ server: 'uws', http2: false, partBytes: 25000, prefill: 100, channel: 'bench', certFile: '', keyFile: '', api: false,
  analytics: true });

/**
 * --server raw: not the origin. A bare node:net server that holds every request and, on
 * 'publish', writes one precomputed 200 response to each held socket: the floor any Node
 * implementation of blocking reload pays on this machine (syscalls, loopback, client).
 */
async function rawFloor(): Promise<void> {
  const { createServer } = await import('node:net');
  const body = Buffer.alloc(466, 'x');
  const reply = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: application/vnd.apple.mpegurl\r\ncontent-encoding: gzip\r\ncontent-length: ${body.length}\r\n\r\n`), body]);
  let held: import('node:net').Socket[] = [];
  const srv = createServer((sock) => {
    sock.setNoDelay(true);
    sock.on('data', () => { held.push(sock); });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  let msn = 1, idx = 0;
  process.on('message', (m: { id: number; cmd: string }) => {
    let reply2: Record<string, unknown>;
    switch (m.cmd) {
      case 'publish': {
        const pubTime = performance.timeOrigin + performance.now();
        const list = held; held = [];
        for (const s of list) s.write(reply);
        reply2 = { pubTime, msn, idx: idx++ };
        break;
      }
      case 'next': reply2 = { msn, idx }; break;
      case 'waiting': reply2 = { waiting: held.length }; break;
      case 'cpu': reply2 = { ...process.cpuUsage() }; break;
      case 'close': process.exit(0); return;
      default: reply2 = { error: `unknown ${m.cmd}` };
    }
    process.send!({ id: m.id, ...reply2 });
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ ready: true, ports: { http: (srv.address() as { port: number }).port }, pid: process.pid });
}

async function main(): Promise<void> {
  if (opts.server === 'raw') return rawFloor();
  const dataDir = mkdtempSync(join(tmpdir(), 'sigma-bench-fake-'));
  const config = configSchema.parse({
    srt: { enabled: false }, rtmp: { enabled: false, port: 0 },
    http: { host: '127.0.0.1', port: 0, server: opts.server },
    http2: { enabled: opts.http2, host: '127.0.0.1', port: 0, cleartextPort: 0,
      ...(opts.certFile ? { certFile: opts.certFile, keyFile: opts.keyFile } : {}) },
    // The media path only unless --api (bench/metrics.ts: /metrics is on the API port); several of these run side by side.
    api: { enabled: opts.api, host: '127.0.0.1', port: 0 },
    dataDir,
    log: { level: 'silent' },
    analytics: { enabled: opts.analytics },
    channels: [{ id: opts.channel, streamKey: 'bench-fake-key', latencyMode: 'ultra-low' }],
  });
  const partMs = 200;
  const perSegment = 10; // 2 s segments / 0.2 s parts (ultra-low defaults)
  const pipe = manualPipeline({ partMs, perSegment, fill: (m, i) => `${m}.${i}|moof-mdat-filler|` });
  const origin = new Origin(config, silentLogger(), pipe.factory);
  const ports = await origin.start();
  const channel = origin.channels.get(opts.channel)!;
  const pub = channel.startPublication('127.0.0.1');
  pub.setTracks(TRACKS);
  // One access unit through the sink so PROGRAM-DATE-TIME is anchored like a real publish.
  pub.write({ trackId: 1, dts: 0, pts: 0, keyframe: true, data: Buffer.alloc(0) } satisfies AccessUnit);
  pipe.init(Buffer.alloc(800, 1));

  const part = () => {
    const pubTime = performance.timeOrigin + performance.now();
    const { msn, index } = pipe.part(opts.partBytes);
    return { pubTime, msn, idx: index };
  };
  const next = () => { const n = pipe.next(); return { msn: n.msn, idx: n.index }; };
  for (let i = 0; i < opts.prefill; i++) part();

  const window = () => channel.rendition()!.window;
  let served: number | undefined;
  const countViewers = (on: boolean) => {
    if (!origin.analytics) return { error: 'started with --analytics false' };
    if (served === undefined) countReplies();
    origin.handler.countViewers(on ? origin.analytics.requests : undefined);
    const cpu = process.cpuUsage();
    return { analytics: on, served, cpuUs: cpu.user + cpu.system, at: performance.now() };
  };
  /** From now on, counts each reply (in front of the metrics' observer, which stays). */
  const countReplies = () => {
    served = 0;
    const metrics = origin.metrics?.http;
    origin.handler.observeReplies({ replied: (req, reply, at) => { served!++; metrics?.replied(req, reply, at); } });
  };
  process.on('message', (m: { id: number; cmd: string; on?: boolean }) => {
    let reply: Record<string, unknown>;
    switch (m.cmd) {
      case 'publish': reply = part(); break;
      case 'next': reply = next(); break;
      case 'waiting': reply = { waiting: window().waiting }; break;
      case 'cpu': reply = { ...process.cpuUsage(), rss: process.memoryUsage().rss }; break;
      case 'analytics': reply = countViewers(m.on === true); break;
      case 'close':
        void origin.close().finally(() => { rmSync(dataDir, { recursive: true, force: true }); process.exit(0); });
        return;
      default: reply = { error: `unknown ${m.cmd}` };
    }
    process.send!({ id: m.id, ...reply });
  });
  process.on('disconnect', () => process.exit(0));
  // The last part emitted: the one before the next.
  const last = window().lastPart!;
  process.send!({ ready: true, ports, channel: opts.channel, lastMsn: last.msn, lastIdx: last.index, pid: process.pid });
}

main().catch((e) => { process.stderr.write(`fake-origin failed: ${e.stack ?? e}\n`); process.exit(1); });
