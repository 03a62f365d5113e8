/**
 * Scenario 13 (issue 20): what a restream target costs the origin.
 *
 *   node dist/bench/restream.js [--channels 4] [--seconds 20] [--rounds 5] [--warmup 15] [--settle 5]
 *                               [--width 640] [--height 360] [--bitrate 1M]
 *
 * One origin process (`node dist/src/main.js`, thumbnails off, the rest default), `channels`
 * channels each published live by ffmpeg (bench/common.ts startPublisher: testsrc2 at
 * width x height, 30 fps, a keyframe a second, x264 veryfast CBR `bitrate`, AAC 96k), and one
 * nginx with Debian's RTMP module (test/helpers/nginx-rtmp.ts) as the target. Each channel has two
 * restream targets in the config, both to that nginx under different keys, `enabled: false`, so
 * they are pushed only once started through the API (POST …/restream/config-N/start|stop): one
 * origin process measured in three cases, switched in place:
 *   a. no target pushing (both stopped; the channel's restream tap loops over two idle targets),
 *   b. one target per channel (config-1),
 *   c. two targets per channel (config-1 and config-2: the same stream twice to nginx).
 * After `warmup` s with two targets each (so the push code is compiled before any round), every
 * round measures the three cases one after the other, the order rotated from round to round
 * (abc, bca, cab, …). In each case: the targets are switched, the bench waits until the API shows
 * each wanted target `connected` and the others not, then `settle` s, then `seconds` s of
 * /proc/<pid>/stat of the origin (utime + stime: CPU over the window; its system time and its
 * main thread's apart), of the nginx process and of the encoders, VmRSS of the origin every 2 s,
 * the whole machine's busy time (/proc/stat) and, from the API, what each target sent, dropped
 * and retried.
 * Reported: medians over rounds per case; the added CPU per target, (b − a) / N and
 * (c − a) / (2 N), from the medians and as the median of each round's own differences; nginx's
 * CPU receiving them; the origin's RSS; warnings in the origin's log and errors in nginx's.
 * Everything on 127.0.0.1.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { startNginxRtmp, missingNginxRtmp } from '../test/helpers/nginx-rtmp.js';
import {
  CLK_TCK, flags, freePort, max, median, procSample, report, round, sleep, startOriginProcess, startPublisher, stopProcess, threadTicks, waitFor200,
} from './common.js';

const opts = flags({ channels: 4, seconds: 20, rounds: 5, warmup: 15, settle: 5, width: 640, height: 360, bitrate: '1M' });
const ADMIN = 'bench-restream-admin-token-0123456789abcdef';
const TARGETS = ['config-1', 'config-2'] as const;
type Case = 'a' | 'b' | 'c';
const CASES: Case[] = ['a', 'b', 'c'];
const TARGETS_ON: Record<Case, number> = { a: 0, b: 1, c: 2 };

interface TargetStatus { id: string; state: string; bytesSent: number; framesDropped: number; retries: number; bitrateKbps: number; lastError: string | null }

/** The pid of the nginx this process started (startNginxRtmp runs it in the foreground, as our child). */
function childPid(comm: string): number {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (name === comm && ppid === process.pid) return Number(d);
    } catch { /* gone */ }
  }
  throw new Error(`no child process named ${comm}`);
}

/** utime and stime in clock ticks (/proc/<pid>/stat fields 14 and 15), apart: on loopback the kernel's receive path of a send runs in the sender's system time. */
function userSys(pid: number): { user: number; sys: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(f[11]), sys: Number(f[12]) };
}

/** CPU ticks of a process's main thread (the event loop). */
function mainThreadTicks(pid: number): number {
  for (const [name, ticks] of threadTicks(pid)) if (name.endsWith('(main)')) return ticks;
  return NaN;
}

/** Busy and total jiffies of the whole machine (/proc/stat, first line). */
function machineJiffies(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = f[3] + f[4];
  return { busy: total - idle, total };
}

async function main(): Promise<void> {
  const missing = missingNginxRtmp();
  if (missing) throw new Error(missing);
  const N = opts.channels;
  const loadAtStart = loadavg().map((x) => round(x, 2));
  const nginx = await startNginxRtmp(await freePort());
  const nginxPid = childPid('nginx');
  const apiPort = await freePort();
  const ids = Array.from({ length: N }, (_, i) => `rs-${i + 1}`);
  const key = (i: number) => `bench-restream-${i + 1}`;
  const o = await startOriginProcess({
    http2: { enabled: false },
    thumbnails: { enabled: false },
    api: { host: '127.0.0.1', port: apiPort, adminToken: ADMIN },
    channels: ids.map((id, i) => ({
      id, streamKey: key(i),
      restream: [
        { name: 'nginx 1', url: nginx.url(`${id}-first`), enabled: false },
        { name: 'nginx 2', url: nginx.url(`${id}-second`), enabled: false },
      ],
    })),
  });
  // The origin logs JSON lines at `warn` and above (startOriginProcess's level): keep those.
  const warnings: string[] = [];
  let partial = '';
  const onLog = (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) if (/"level":\s*(40|50|60)/.test(l)) warnings.push(l.slice(0, 400));
  };
  o.proc.stderr!.on('data', onLog);
  o.proc.stdout!.on('data', onLog);
  const api = async (path: string, method = 'GET') => {
    const r = await fetch(`http://127.0.0.1:${apiPort}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}` } });
    const body = await r.json() as Record<string, any>;
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(body)}`);
    return body;
  };
  const targets = async (id: string) => (await api(`/v1/channels/${id}/restream`)).items as TargetStatus[];
  const allTargets = async () => Object.fromEntries(await Promise.all(ids.map(async (id) => [id, await targets(id)] as const)));

  const publishers = ids.map((_, i) => startPublisher(`rtmp://127.0.0.1:${o.ports.rtmp}/live/${key(i)}`,
    { gop: 30, width: opts.width, height: opts.height, fps: 30, bitrate: opts.bitrate }));
  const on = new Map<string, boolean>();
  /** Starts or stops targets so that `n` per channel push, then waits until the API shows it. */
  const switchTo = async (n: number) => {
    for (const id of ids) {
      for (const [j, t] of TARGETS.entries()) {
        const want = j < n;
        if ((on.get(`${id}/${t}`) ?? false) === want) continue;
        await api(`/v1/channels/${id}/restream/${t}/${want ? 'start' : 'stop'}`, 'POST');
        on.set(`${id}/${t}`, want);
      }
    }
    const end = Date.now() + 30_000;
    for (;;) {
      const all = await allTargets();
      const ok = ids.every((id) => all[id].every((t) => (on.get(`${id}/${t.id}`) ? t.state === 'connected' : t.state !== 'connected' && t.state !== 'connecting')));
      if (ok) return;
      if (Date.now() > end) throw new Error(`targets not in place for ${n} per channel: ${JSON.stringify(all)}`);
      await sleep(200);
    }
  };

  type Cell = {
    round: number; case: Case; order: number; targetsPerChannel: number;
    originCpuPct: number; originCpuPctPerChannel: number; originMainThreadPct: number; originSysPct: number; nginxCpuPct: number; encodersCpuPct: number;
    machineBusyPct: number; otherCpuPct: number; rssMiB: { median: number; min: number; max: number };
    sentKbpsPerTarget: number; framesDropped: number; retries: number; loadavg1: number; seconds: number;
  };
  const cells: Cell[] = [];
  const measure = async (r: number, c: Case, order: number): Promise<Cell> => {
    const n = TARGETS_ON[c];
    await switchTo(n);
    await sleep(opts.settle * 1000);
    const before = await allTargets();
    const t0 = performance.now();
    const o0 = procSample(o.pid), g0 = procSample(nginxPid), m0 = machineJiffies(), self0 = process.cpuUsage();
    const e0 = publishers.map((p) => procSample(p.pid!).ticks);
    const main0 = mainThreadTicks(o.pid), us0 = userSys(o.pid);
    const rss: number[] = [];
    for (let i = 1; i * 2 <= opts.seconds; i++) {
      await sleep(Math.max(0, t0 + i * 2000 - performance.now()));
      rss.push(procSample(o.pid).rssBytes / 2 ** 20);
    }
    await sleep(Math.max(0, t0 + opts.seconds * 1000 - performance.now()));
    const o1 = procSample(o.pid), g1 = procSample(nginxPid), m1 = machineJiffies(), self1 = process.cpuUsage(self0);
    const e1 = publishers.map((p) => procSample(p.pid!).ticks);
    const main1 = mainThreadTicks(o.pid), us1 = userSys(o.pid);
    const after = await allTargets();
    const secs = (o1.t - o0.t) / 1000;
    if (publishers.some((p) => p.exitCode !== null)) throw new Error(`an encoder exited: ${publishers.map((p) => p.stderrText()).join(' | ')}`);
    const pct = (ticks: number) => round((ticks / CLK_TCK / secs) * 100, 2);
    const origin = pct(o1.ticks - o0.ticks), ng = pct(g1.ticks - g0.ticks), enc = pct(e1.reduce((a, b) => a + b, 0) - e0.reduce((a, b) => a + b, 0));
    const machineBusy = round(((m1.busy - m0.busy) / (m1.total - m0.total)) * 100 * cpus().length, 1);
    const self = round(((self1.user + self1.system) / 1e6 / secs) * 100, 2);
    let sent = 0, dropped = 0, retries = 0, pushing = 0;
    for (const id of ids) {
      for (const t of after[id]) {
        const b = before[id].find((x) => x.id === t.id)!;
        if (on.get(`${id}/${t.id}`)) { sent += t.bytesSent - b.bytesSent; pushing++; }
        dropped += t.framesDropped - b.framesDropped;
        retries += t.retries - b.retries;
      }
    }
    return {
      round: r + 1, case: c, order, targetsPerChannel: n,
      originCpuPct: origin, originCpuPctPerChannel: round(origin / N, 3), originMainThreadPct: pct(main1 - main0), originSysPct: pct(us1.sys - us0.sys), nginxCpuPct: ng, encodersCpuPct: enc,
      machineBusyPct: machineBusy, otherCpuPct: round(machineBusy - origin - ng - enc - self, 1),
      rssMiB: { median: round(median(rss), 1), min: round(Math.min(...rss), 1), max: round(max(rss), 1) },
      sentKbpsPerTarget: pushing ? round((sent * 8) / 1000 / secs / pushing, 0) : 0, framesDropped: dropped, retries, loadavg1: round(loadavg()[0], 2), seconds: round(secs, 2),
    };
  };

  try {
    await Promise.all(ids.map((id) => waitFor200(`${o.http}/live/${id}/index.m3u8`, 30_000, `${id} live`)));
    process.stderr.write(`[restream] ${N} channels live; warm-up ${opts.warmup} s with 2 targets each\n`);
    await switchTo(2);
    await sleep(opts.warmup * 1000);
    for (let r = 0; r < opts.rounds; r++) {
      const order = CASES.map((_, i) => CASES[(i + r) % CASES.length]);
      for (const [i, c] of order.entries()) {
        const cell = await measure(r, c, i);
        cells.push(cell);
        process.stderr.write(`[restream] round ${r + 1} ${c} (${cell.targetsPerChannel} per channel): origin ${cell.originCpuPct} % of a core (${cell.originCpuPctPerChannel} per channel, main thread ${cell.originMainThreadPct}, system ${cell.originSysPct}), ` +
          `nginx ${cell.nginxCpuPct} %, encoders ${cell.encodersCpuPct} %, machine ${cell.machineBusyPct} % (other ${cell.otherCpuPct}), RSS ${cell.rssMiB.median} MiB, ` +
          `${cell.sentKbpsPerTarget} kb/s per target, dropped ${cell.framesDropped}, retries ${cell.retries}, load ${cell.loadavg1}\n`);
      }
    }
  } finally {
    await Promise.all(publishers.map((p) => stopProcess(p)));
    await o.stop();
    await nginx.stop().catch(() => undefined);
  }
  const nginxErrors = nginx.errors().split('\n').filter((l) => /\[(error|crit|alert|emerg)\]/.test(l));

  const of = (c: Case) => cells.filter((x) => x.case === c);
  const med = (c: Case, f: (x: Cell) => number) => median(of(c).map(f));
  const summary = Object.fromEntries(CASES.map((c) => [c, {
    targetsPerChannel: TARGETS_ON[c],
    originCpuPct: round(med(c, (x) => x.originCpuPct), 2), originCpuPctRuns: of(c).map((x) => x.originCpuPct),
    originCpuPctPerChannel: round(med(c, (x) => x.originCpuPct) / N, 3),
    originMainThreadPct: round(med(c, (x) => x.originMainThreadPct), 2), originSysPct: round(med(c, (x) => x.originSysPct), 2),
    nginxCpuPct: round(med(c, (x) => x.nginxCpuPct), 2), nginxCpuPctRuns: of(c).map((x) => x.nginxCpuPct),
    encodersCpuPct: round(med(c, (x) => x.encodersCpuPct), 1), machineBusyPct: round(med(c, (x) => x.machineBusyPct), 1), otherCpuPct: round(med(c, (x) => x.otherCpuPct), 1),
    rssMiB: round(med(c, (x) => x.rssMiB.median), 1), rssMiBRuns: of(c).map((x) => x.rssMiB.median),
    sentKbpsPerTarget: round(med(c, (x) => x.sentKbpsPerTarget), 0),
    framesDropped: of(c).reduce((a, x) => a + x.framesDropped, 0), retries: of(c).reduce((a, x) => a + x.retries, 0),
  }]));
  /** Per round: (case − a) divided by the targets pushing; the median over rounds and the range. */
  const paired = (c: Case, f: (x: Cell) => number) => {
    const d = [...new Set(cells.map((x) => x.round))].map((r) => {
      const x = cells.find((y) => y.round === r && y.case === c)!, a = cells.find((y) => y.round === r && y.case === 'a')!;
      return (f(x) - f(a)) / (TARGETS_ON[c] * N);
    });
    return { median: round(median(d), 3), min: round(Math.min(...d), 3), max: round(max(d), 3), runs: d.map((v) => round(v, 3)) };
  };
  const perTarget = (c: Case) => ({
    fromMedians: round((summary[c].originCpuPct - summary.a.originCpuPct) / (TARGETS_ON[c] * N), 3),
    pairedByRound: paired(c, (x) => x.originCpuPct),
    mainThreadFromMedians: round((summary[c].originMainThreadPct - summary.a.originMainThreadPct) / (TARGETS_ON[c] * N), 3),
    sysFromMedians: round((summary[c].originSysPct - summary.a.originSysPct) / (TARGETS_ON[c] * N), 3),
    nginxFromMedians: round((summary[c].nginxCpuPct - summary.a.nginxCpuPct) / (TARGETS_ON[c] * N), 3),
    rssMiBFromMedians: round((summary[c].rssMiB - summary.a.rssMiB) / (TARGETS_ON[c] * N), 2),
  });
  const added = { oneTarget: perTarget('b'), twoTargets: perTarget('c') };
  const loadAtEnd = loadavg().map((x) => round(x, 2));
  report('restream', {
    params: { ...opts, publishers: `${opts.width}x${opts.height} 30 fps, GOP 1 s, x264 veryfast zerolatency CBR ${opts.bitrate}, AAC 96k`, target: 'nginx 1.22 + libnginx-mod-rtmp, one process for every target' },
    loadavg: { start: loadAtStart, end: loadAtEnd },
    note: 'CPU in % of one core over each window (utime+stime from /proc/<pid>/stat); a: both targets stopped, b: config-1 pushing, c: config-1 and config-2; ' +
      'added per target = (case − a) / (targets per channel × channels); otherCpuPct = machine busy − origin − nginx − encoders − the bench',
    summary, addedPerTargetPct: added,
    originWarnings: { count: warnings.length, first: warnings.slice(0, 10) },
    nginxErrors: { count: nginxErrors.length, first: nginxErrors.slice(0, 10) },
    cells,
  });
  process.stdout.write(`case  targets/ch  origin % (per channel)  main thread %  nginx %  RSS MiB  kb/s per target\n`);
  for (const c of CASES) {
    const s = summary[c];
    process.stdout.write(`${c.padEnd(5)} ${String(s.targetsPerChannel).padEnd(11)} ${String(s.originCpuPct).padEnd(7)} (${String(s.originCpuPctPerChannel).padEnd(6)})        ` +
      `${String(s.originMainThreadPct).padEnd(14)} ${String(s.nginxCpuPct).padEnd(8)} ${String(s.rssMiB).padEnd(8)} ${s.sentKbpsPerTarget}\n`);
  }
  process.stdout.write(`added per target, % of a core: one target ${added.oneTarget.fromMedians} (paired by round ${added.oneTarget.pairedByRound.median}, ${added.oneTarget.pairedByRound.min}…${added.oneTarget.pairedByRound.max}); ` +
    `two targets ${added.twoTargets.fromMedians} (paired ${added.twoTargets.pairedByRound.median}, ${added.twoTargets.pairedByRound.min}…${added.twoTargets.pairedByRound.max}); ` +
    `nginx per target ${added.oneTarget.nginxFromMedians} / ${added.twoTargets.nginxFromMedians}\n`);
  process.stdout.write(`origin warnings: ${warnings.length}; nginx errors: ${nginxErrors.length}; load average ${loadAtStart.join(' ')} → ${loadAtEnd.join(' ')}\n`);
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`restream failed: ${e.stack ?? e}\n`); process.exit(1); });
