/**
 * What the same-run on/off benchmarks share (bench/metrics.ts, bench/analytics.ts): autocannon
 * pinned to the client core, and the blocking-reload wake of a fake origin (bench/fake-origin.ts).
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT, runCommand, sleep, type IpcChild } from './common.js';

export const SERVER_CPU = '0', CLIENT_CPU = '1';
const AUTOCANNON = join(ROOT, 'node_modules', 'autocannon', 'autocannon.js');
export const now = () => performance.timeOrigin + performance.now();

/** Requests/s, p99 latency and failures of `connections` autocannon connections on `url` for `seconds`. */
export async function autocannon(url: string, seconds: number, o: { connections: number; pin: boolean }) {
  const args = [AUTOCANNON, '-c', String(o.connections), '-d', String(seconds), '-j', url];
  const r = o.pin ? await runCommand('taskset', ['-c', CLIENT_CPU, process.execPath, ...args], (seconds + 30) * 1000)
    : await runCommand(process.execPath, args, (seconds + 30) * 1000);
  const j = JSON.parse(r.out.slice(r.out.indexOf('{')));
  return { rps: j.requests.average as number, p99ms: j.latency.p99 as number, non2xx: (j.non2xx as number) + (j.errors as number) };
}

/**
 * `held` blocking reloads for the next part (the i-th at `url(i)` plus the directives), then the
 * part: ms from its publication to each response.
 */
export async function wakeOnce(origin: IpcChild, url: (i: number) => string, held: number): Promise<number[]> {
  const next = await origin.call<{ msn: number; idx: number }>('next');
  const arrivals: number[] = [];
  const requests = Array.from({ length: held }, (_, i) => {
    const u = url(i);
    return fetch(`${u}${u.includes('?') ? '&' : '?'}_HLS_msn=${next.msn}&_HLS_part=${next.idx}`)
      .then(async (r) => { await r.arrayBuffer(); arrivals.push(now()); });
  });
  for (let i = 0; (await origin.call<{ waiting: number }>('waiting')).waiting < held; i++) {
    if (i > 200) throw new Error('the blocking requests did not all arrive');
    await sleep(10);
  }
  const { pubTime } = await origin.call<{ pubTime: number }>('publish');
  await Promise.all(requests);
  return arrivals.map((a) => a - pubTime);
}
