/**
 * Worker threads and the event loop, for every native class with a worker (CmafPipeline,
 * Thumbnailer): each worker ends when its object is closed (or collected), and neither open
 * nor closed objects keep the process from exiting. Each case runs in a child process
 * (lifecycle-child.ts) that counts its own threads.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTestFile } from '../../helpers/ffmpeg.js';
import type { WorkerKind } from './lifecycle-child.js';

/** >1 under valgrind (scripts/valgrind-addon.sh): time limits scale by it. */
const SLOW = Number(process.env.SIGMA_SLOW_FACTOR ?? 1) || 1;
const CHILD = fileURLToPath(new URL('./lifecycle-child.js', import.meta.url));

export function lifecycleSuite(kind: WorkerKind, noun: string): void {
  let dir = '';
  let file = '';
  t.before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sigma-addon-life-'));
    file = join(dir, 'src.mp4');
    await makeTestFile(file, { width: 320, height: 180, fps: 30, gop: 30, audio: true, durationSec: 3 });
  });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  async function runChild(mode: string): Promise<{ code: number | null; out: Record<string, number>; stderr: string; ms: number }> {
    const t0 = Date.now();
    const p = spawn(process.execPath, ['--expose-gc', CHILD, mode, file, kind], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const killer = setTimeout(() => p.kill('SIGKILL'), 20_000 * SLOW);
    const [code] = await once(p, 'exit');
    clearTimeout(killer);
    const line = stdout.trim().split('\n').pop() ?? '{}';
    let out: Record<string, number> = {};
    try { out = JSON.parse(line); } catch { /* reported below */ }
    return { code: code as number | null, out, stderr, ms: Date.now() - t0 };
  }

  t.test(`20 ${noun}s created and closed in a loop: no thread leak, process exits`, async (t) => {
    const r = await runChild('loop');
    t.equal(r.code, 0, `child exited 0 ${r.stderr}`);
    t.equal(r.out.after, r.out.baseline, `threads back to baseline (${r.out.baseline} → peak ${r.out.peak} → ${r.out.after})`);
  });

  t.test(`20 ${noun}s open at once: one worker each, all joined on close`, async (t) => {
    const r = await runChild('parallel');
    t.equal(r.code, 0, `child exited 0 ${r.stderr}`);
    t.ok(r.out.peak >= r.out.baseline + 20, `one thread per open ${noun} (peak ${r.out.peak}, baseline ${r.out.baseline})`);
    t.equal(r.out.after, r.out.baseline, 'all joined');
  });

  t.test(`open, never-closed ${noun}s do not keep the process alive and do not crash it at exit`, async (t) => {
    const r = await runChild('unclosed');
    t.equal(r.code, 0, `child exited 0 ${r.stderr}`);
    t.ok(r.ms < 15_000 * SLOW, `exited on its own in ${r.ms} ms`);
  });

  t.test(`${noun}s garbage-collected without close: threads end, no crash`, async (t) => {
    const r = await runChild('gc');
    t.equal(r.code, 0, `child exited 0 ${r.stderr}`);
    t.equal(r.out.after, r.out.baseline, `collected ${noun}s joined their workers (peak ${r.out.peak} → ${r.out.after})`);
  });
}
