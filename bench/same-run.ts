/**
 * What the same-run on/off benchmarks share (bench/metrics.ts, bench/analytics.ts): autocannon
 * pinned to the client core, and the blocking-reload wake of a fake origin (bench/fake-origin.ts).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT, runCommand, sleep, tmpDir, type IpcChild } from './common.js';

export const SERVER_CPU = '0', CLIENT_CPU = '1';
const AUTOCANNON = join(ROOT, 'node_modules', 'autocannon', 'autocannon.js');
export const now = () => performance.timeOrigin + performance.now();

/**
 * `connections` autocannon connections for `seconds` on `url`, or on several URLs of one origin
 * that each connection requests in turn (given to autocannon as a HAR file): requests/s, p99
 * latency, failures, and the requests completed over the run's measured length.
 */
export async function autocannon(url: string | string[], seconds: number, o: { connections: number; pin: boolean }) {
  const urls = typeof url === 'string' ? [url] : url;
  const dir = urls.length > 1 ? tmpDir('har') : undefined;
  const args = [AUTOCANNON, '-c', String(o.connections), '-d', String(seconds), '-j'];
  if (dir) args.push('--har', harFile(dir, urls));
  args.push(urls[0]);
  try {
    const r = o.pin ? await runCommand('taskset', ['-c', CLIENT_CPU, process.execPath, ...args], (seconds + 30) * 1000)
      : await runCommand(process.execPath, args, (seconds + 30) * 1000);
    const j = JSON.parse(r.out.slice(r.out.indexOf('{')));
    return { rps: j.requests.average as number, p99ms: j.latency.p99 as number, non2xx: (j.non2xx as number) + (j.errors as number),
      requests: j.requests.total as number, seconds: j.duration as number };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** A HAR file of GET requests for `urls`, in order (autocannon --har keeps only the fields read here). */
function harFile(dir: string, urls: string[]): string {
  const file = join(dir, 'requests.har');
  const entries = urls.map((u) => ({ request: { method: 'GET', url: u, headers: [] } }));
  writeFileSync(file, JSON.stringify({ log: { entries } }));
  return file;
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
