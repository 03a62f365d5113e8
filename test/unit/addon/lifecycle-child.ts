/**
 * Child process for cmaf-pipeline-lifecycle.test.ts (run with --expose-gc). Modes:
 *  loop      create + write + close 20 pipelines one after another
 *  parallel  20 open at once, then all closed
 *  unclosed  open pipelines, write, never close; the process must still exit by itself
 *  gc        pipelines dropped without close, then collected; their threads must end
 * With SIGMA_LADDER=1 every pipeline also transcodes one rung (decoder + rung threads, x264).
 * Prints one JSON line with thread counts; exits 0.
 */
import { readdirSync } from 'node:fs';
import { CmafPipeline } from '../../../src/addon/cmaf-pipeline.js';
import { loadMp4, LL_OPTIONS } from './fixtures.js';

const [mode, file] = process.argv.slice(2);
const fx = loadMp4(file);
const threads = () => readdirSync('/proc/self/task').length;
const SLOW = Number(process.env.SIGMA_SLOW_FACTOR ?? 1) || 1;
const tick = () => new Promise((r) => setTimeout(r, 20 * SLOW));
const ladder = process.env.SIGMA_LADDER === '1'
  ? { rungs: [{ name: 'small', width: 160, height: 90, videoBitrate: 100_000 }], preset: 'ultrafast' } : undefined;
const make = () => new CmafPipeline({ ...LL_OPTIONS, tracks: fx.tracks, ladder }, () => {}, (e) => { throw e; });
const feed = (p: CmafPipeline, n: number) => { for (const au of fx.aus.slice(0, n)) p.write(au); };

// Load the addon and let the runtime's own threads settle before the baseline.
await make().close();
await tick();
const baseline = threads();
let peak = baseline;
const out: Record<string, number | string> = { mode, baseline };

if (mode === 'loop') {
  for (let i = 0; i < 20; i++) {
    const p = make();
    feed(p, 120);
    peak = Math.max(peak, threads());
    await p.close();
  }
} else if (mode === 'parallel') {
  const ps = Array.from({ length: 20 }, make);
  ps.forEach((p) => feed(p, 120));
  peak = threads();
  await Promise.all(ps.map((p) => p.close()));
} else if (mode === 'unclosed') {
  const ps = Array.from({ length: 5 }, make);
  ps.forEach((p) => feed(p, 120));
  peak = threads();
  (globalThis as Record<string, unknown>).keep = ps; // stay reachable: exit must not wait for them
} else if (mode === 'gc') {
  (() => {
    for (let i = 0; i < 20; i++) feed(make(), 120);
  })();
  peak = threads();
  for (let i = 0; i < 20 && threads() > baseline; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await tick();
  }
}
await tick();
out.peak = peak;
out.after = threads();
console.log(JSON.stringify(out));
