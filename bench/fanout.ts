/**
 * Scenario 1: blocking-reload fan-out. N keep-alive HTTP/1.1 connections each hold
 * `GET /live/bench/source.m3u8?_HLS_msn=M&_HLS_part=P` for the next part; the part is then
 * published and every response's arrival time minus the publication time is recorded.
 *
 *   node dist/bench/fanout.js [--servers uws,node,raw] [--n 1000,5000,10000] [--rounds 5]
 *                             [--warmup 1] [--clients 2] [--gzip true] [--profile DIR]
 *
 * Servers: uws and node are the origin (http.server); raw is a bare node:net floor, not the origin.
 * Processes: the origin (bench/fake-origin.ts: src/origin.ts with a fake pipeline) is a child;
 * the client is `--clients` worker processes (this file with --role client), each holding N/clients
 * raw net sockets. Times are performance.timeOrigin + performance.now() in each process.
 */
import { fork } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { forkChild, flags, max, median, pct, report, round, sleep, ROOT, type IpcChild } from './common.js';
import { join } from 'node:path';

const opts = flags({ role: 'main', servers: 'uws,node,raw', n: '1000,5000,10000', rounds: 5, warmup: 1, clients: 2, gzip: true, settleMs: 300, profile: '' });

const now = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------- client worker
interface Conn { sock: Socket; alive: boolean; expect: number; got: number; headerDone: boolean; buf: Buffer | undefined; status: number; arrival: number; pending: boolean }

function clientWorker(): void {
  const conns: Conn[] = [];
  let port = 0;
  let onDone: (() => void) | undefined;
  let outstanding = 0;

  const finish = (c: Conn) => {
    c.pending = false;
    if (--outstanding === 0) onDone?.();
  };
  const onData = (c: Conn, d: Buffer) => {
    if (!c.pending) return;
    const t = now();
    if (!c.headerDone) {
      const b = c.buf ? Buffer.concat([c.buf, d]) : d;
      const end = b.indexOf('\r\n\r\n');
      if (end < 0) { c.buf = b; return; }
      const head = b.subarray(0, end).toString('latin1');
      c.status = Number(head.slice(9, 12));
      const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (!cl) { c.status = -1; c.sock.destroy(); return; } // chunked is not expected for playlists
      c.expect = Number(cl[1]);
      c.got = b.length - end - 4;
      c.headerDone = true;
      c.buf = undefined;
    } else {
      c.got += d.length;
    }
    if (c.got >= c.expect) { c.arrival = t; finish(c); }
  };
  const open = (): Promise<void> => new Promise((res) => {
    const sock = connect({ host: '127.0.0.1', port, noDelay: true });
    const c: Conn = { sock, alive: false, expect: 0, got: 0, headerDone: false, buf: undefined, status: 0, arrival: 0, pending: false };
    sock.once('connect', () => { c.alive = true; conns.push(c); res(); });
    sock.on('data', (d) => onData(c, d));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      const wasAlive = c.alive;
      c.alive = false;
      if (c.pending) { c.status = -2; c.arrival = now(); finish(c); }
      if (!wasAlive) res();
    });
  });
  const ensure = async (count: number) => {
    for (let i = conns.length - 1; i >= 0; i--) if (!conns[i].alive) conns.splice(i, 1);
    while (conns.length < count) {
      const batch = Math.min(250, count - conns.length);
      const before = conns.length;
      await Promise.all(Array.from({ length: batch }, open));
      if (conns.length === before) throw new Error('could not open connections');
    }
  };

  process.on('message', async (m: any) => {
    try {
      if (m.cmd === 'connect') {
        port = m.port;
        await ensure(m.count);
        process.send!({ id: m.id, open: conns.length });
      } else if (m.cmd === 'request') {
        await ensure(m.count);
        const use = conns.slice(0, m.count);
        const req = Buffer.from(`GET ${m.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: sigma-fanout\r\n${m.gzip ? 'Accept-Encoding: gzip\r\n' : ''}\r\n`, 'latin1');
        outstanding = use.length;
        const done = new Promise<void>((r) => { onDone = r; });
        for (const c of use) {
          c.pending = true; c.headerDone = false; c.buf = undefined; c.got = 0; c.expect = 0; c.status = 0; c.arrival = 0;
          c.sock.write(req);
        }
        process.send!({ id: m.id, sent: use.length });
        const timeout = sleep(m.timeoutMs).then(() => 'timeout');
        await Promise.race([done, timeout]);
        const arrivals: number[] = [];
        const statuses: Record<string, number> = {};
        let bytes = 0;
        for (const c of use) {
          const key = c.pending ? 'pending' : String(c.status);
          statuses[key] = (statuses[key] ?? 0) + 1;
          if (!c.pending && c.status === 200) { arrivals.push(c.arrival); bytes = c.expect; }
          c.pending = false;
        }
        process.send!({ id: m.id + 0.5, arrivals, statuses, bodyBytes: bytes });
      } else if (m.cmd === 'close') {
        for (const c of conns) c.sock.destroy();
        process.exit(0);
      }
    } catch (e) {
      process.send!({ id: m.id, error: String(e) });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ ready: true, pid: process.pid });
}

// ---------------------------------------------------------------- main
interface ClientProc { call(cmd: string, a: Record<string, unknown>): Promise<any>; result(id: number): Promise<any>; kill(): void }

async function startClient(): Promise<ClientProc> {
  const proc = fork(join(ROOT, 'dist', 'bench', 'fanout.js'), ['--role', 'client'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiters = new Map<number, (m: any) => void>();
  const early = new Map<number, any>();
  let id = 1;
  await new Promise<void>((r) => proc.once('message', () => r()));
  proc.on('message', (m: any) => {
    const w = waiters.get(m.id);
    if (w) { waiters.delete(m.id); w(m); } else early.set(m.id, m);
  });
  const wait = (k: number) => {
    if (early.has(k)) { const m = early.get(k); early.delete(k); return Promise.resolve(m); }
    return new Promise<any>((r) => waiters.set(k, r));
  };
  return {
    call(cmd, a) { const k = id++; proc.send({ id: k, cmd, ...a }); return wait(k).then((m) => { if (m.error) throw new Error(m.error); return { ...m, _id: k }; }); },
    result(k) { return wait(k + 0.5); },
    kill() { try { proc.send({ cmd: 'close' }); } catch { /* gone */ } setTimeout(() => proc.kill('SIGKILL'), 2000).unref(); },
  };
}

interface RoundResult { round: number; latenciesMs: number[]; statuses: Record<string, number>; bodyBytes: number; originCpuMs: number }

async function runServer(server: string, ns: number[]): Promise<Record<string, unknown>[]> {
  // --profile DIR writes a V8 CPU profile of the origin process (node --cpu-prof) per server.
  const origin: IpcChild = await forkChild('fake-origin.js', ['--server', server, '--prefill', '100'],
    opts.profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${opts.profile}`, `--cpu-prof-name=fanout-${server}.cpuprofile`] } : {});
  const port: number = origin.ready.ports.http;
  const clients = await Promise.all(Array.from({ length: opts.clients }, startClient));
  const out: Record<string, unknown>[] = [];
  try {
    for (const n of ns) {
      const per = Array.from({ length: opts.clients }, (_, i) => Math.floor(n / opts.clients) + (i < n % opts.clients ? 1 : 0));
      await Promise.all(clients.map((c, i) => c.call('connect', { port, count: per[i] })));
      const rounds: RoundResult[] = [];
      for (let r = -opts.warmup; r < opts.rounds; r++) {
        const next = await origin.call<{ msn: number; idx: number }>('next');
        const path = `/live/bench/source.m3u8?_HLS_msn=${next.msn}&_HLS_part=${next.idx}`;
        const sent = await Promise.all(clients.map((c, i) => c.call('request', { count: per[i], path, gzip: opts.gzip, timeoutMs: 10000 })));
        // Publish only once the origin holds every request.
        const deadline = Date.now() + 8000;
        let waiting = 0;
        while (Date.now() < deadline) {
          waiting = (await origin.call<{ waiting: number }>('waiting')).waiting;
          if (waiting >= n) break;
          await sleep(20);
        }
        await sleep(opts.settleMs);
        const cpu0 = await origin.call<{ user: number; system: number }>('cpu');
        const pub = await origin.call<{ pubTime: number }>('publish');
        const results = await Promise.all(clients.map((c, i) => c.result(sent[i]._id)));
        const cpu1 = await origin.call<{ user: number; system: number }>('cpu');
        const latenciesMs = results.flatMap((x) => (x.arrivals as number[]).map((a) => a - pub.pubTime));
        const statuses: Record<string, number> = {};
        for (const x of results) for (const [k, v] of Object.entries(x.statuses as Record<string, number>)) statuses[k] = (statuses[k] ?? 0) + v;
        const rr: RoundResult = { round: r, latenciesMs, statuses, bodyBytes: results[0].bodyBytes, originCpuMs: (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / 1000 };
        process.stderr.write(`[fanout] ${server} N=${n} round ${r}${r < 0 ? ' (warm-up)' : ''}: held ${waiting}, p50 ${round(pct(latenciesMs, 50))} ms, p99 ${round(pct(latenciesMs, 99))} ms, max ${round(max(latenciesMs))} ms, statuses ${JSON.stringify(statuses)}\n`);
        if (r >= 0) rounds.push(rr);
        await sleep(200);
      }
      const all = rounds.flatMap((r) => r.latenciesMs);
      const ok = all.length;
      out.push({
        server, n, rounds: rounds.length, responses200: ok, expected: n * rounds.length,
        statuses: rounds.reduce((acc, r) => { for (const [k, v] of Object.entries(r.statuses)) acc[k] = (acc[k] ?? 0) + v; return acc; }, {} as Record<string, number>),
        bodyBytes: rounds[0]?.bodyBytes,
        pooledMs: { p50: round(pct(all, 50)), p99: round(pct(all, 99)), max: round(max(all)) },
        perRoundMs: rounds.map((r) => ({ p50: round(pct(r.latenciesMs, 50)), p99: round(pct(r.latenciesMs, 99)), max: round(max(r.latenciesMs)), originCpuMs: round(r.originCpuMs, 1) })),
        medianOfRoundP99Ms: round(median(rounds.map((r) => pct(r.latenciesMs, 99)))),
      });
    }
  } finally {
    for (const c of clients) c.kill();
    await origin.close();
  }
  return out;
}

async function main(): Promise<void> {
  const ns = opts.n.split(',').map(Number);
  const servers = opts.servers.split(',');
  const results: Record<string, unknown>[] = [];
  for (const s of servers) {
    results.push(...await runServer(s, ns));
    await sleep(1000);
  }
  report('fanout', { params: { ...opts, role: undefined }, client: `${opts.clients} worker process(es), raw net sockets`, results });
  process.stdout.write('fanout (arrival − publication, ms; pooled over rounds):\n');
  for (const r of results as any[]) {
    process.stdout.write(`  ${r.server.padEnd(5)} N=${String(r.n).padStart(5)}  p50 ${r.pooledMs.p50}  p99 ${r.pooledMs.p99}  max ${r.pooledMs.max}  ` +
      `(median of per-round p99 ${r.medianOfRoundP99Ms}; ${r.responses200}/${r.expected} 200s)${r.n === 5000 ? `  target p99 ≤ 10 ms: ${r.pooledMs.p99 <= 10 ? 'met' : 'NOT met'}` : ''}\n`);
  }
}

if (opts.role === 'client') clientWorker();
else main().then(() => process.exit(0), (e) => { process.stderr.write(`fanout failed: ${e.stack ?? e}\n`); process.exit(1); });
