/**
 * Source recording across a real process death. A child process runs the native pipeline and a
 * SourceRecorder on an ffmpeg-made H.264/AAC source fed at 8x real time (parts hit the disk
 * while it is killed); the parent kills it with SIGKILL at a random moment (seeded: the log
 * prints the seed, SIGMA_TEST_SEED replays it), runs
 * RecordingCatalog.recover() as the next process start would, and checks every file with
 * ffprobe and ffmpeg. With SIGTERM the child closes its recorder and nothing needs recovery.
 *
 * The same file is the child: with SIGMA_RECORDING_CHILD set it records instead of testing.
 */
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CmafPipeline } from '../../src/addon/cmaf-pipeline.js';
import { EventBus } from '../../src/events.js';
import { silentLogger } from '../../src/log.js';
import { SourceRecorder } from '../../src/store/recording/source-recorder.js';
import { RecordingCatalog } from '../../src/store/recording/recording-catalog.js';
import type { RecordingSidecar } from '../../src/store/recording/sidecar.js';
import { makeTestFile } from '../helpers/ffmpeg.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { LL_OPTIONS, loadMp4 } from '../unit/addon/fixtures.js';

const SPEED = 8;
const TICK_MS = 25;

/** Child: pipeline ▶ recorder, paced; SIGTERM closes the recorder (the origin's shutdown). */
async function child(source: string, dir: string): Promise<void> {
  const fx = loadMp4(source);
  const rec = new SourceRecorder({
    channelId: 'cam', dir, rotateAfterMs: 3000, gate: { writable: true, reportWriteError: () => {} },
    events: new EventBus(), logger: silentLogger(),
  });
  const pipeline = new CmafPipeline({ ...LL_OPTIONS, tracks: fx.tracks }, (c) => {
    if (c.kind === 'init') rec.addInit(c.data);
    else rec.addPart({ msn: c.msn, index: c.partIndex, durationMs: c.durationMs, segmentStart: c.segmentStart, data: c.data });
  }, (e) => { throw e; });
  rec.startSession();
  let next = 0;
  const started = Date.now();
  const timer = setInterval(() => {
    const until = (Date.now() - started) * SPEED;
    while (next < fx.aus.length && fx.aus[next].dts <= until) pipeline.write(fx.aus[next++]);
  }, TICK_MS);
  process.once('SIGTERM', () => {
    clearInterval(timer);
    void pipeline.close().then(() => rec.close()).then(() => process.exit(0));
  });
}

const run = promisify(execFile);

async function probe(file: string): Promise<{ durationSec: number; firstVideoFlags: string; decodeErrors: string }> {
  const fmt = JSON.parse((await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'json', file])).stdout);
  const first = JSON.parse((await run('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_packets',
    '-read_intervals', '%+#1', '-show_entries', 'packet=flags', '-of', 'json', file])).stdout);
  const { stderr } = await run('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-f', 'null', '-']);
  return { durationSec: Number(fmt.format.duration), firstVideoFlags: first.packets[0]?.flags ?? '', decodeErrors: stderr };
}

async function parent(): Promise<void> {
  const { default: t } = await import('tap');
  const root = mkdtempSync(join(tmpdir(), 'sigma-rec-int-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const source = join(root, 'src.mp4');
  t.before(() => makeTestFile(source, { width: 640, height: 360, fps: 30, gop: 30, audio: true, durationSec: 30 }));

  const recordings = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.mp4')).sort() : [])
    .map((f) => ({ path: join(dir, f), sidecar: JSON.parse(readFileSync(join(dir, f.replace(/\.mp4$/, '.json')), 'utf8')) as RecordingSidecar }));

  /** Starts a recording child and resolves once its second file has some media. */
  async function recordUntilRotated(name: string) {
    const dir = join(root, name, 'cam');
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
      env: { ...process.env, SIGMA_RECORDING_CHILD: JSON.stringify({ source, dir }) }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    p.stderr!.on('data', (d) => { stderr += d; });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.mp4')).sort() : [];
      if (files.length >= 2 && statSync(join(dir, files[1])).size > 100_000) break;
      if (Date.now() > deadline || p.exitCode !== null) throw new Error(`child did not record: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return { dir, p, stderr: () => stderr };
  }

  const random = seededRandom(t, 'kill points');
  for (let round = 1; round <= 3; round++) {
    t.test(`SIGKILL while writing (round ${round}): recover() leaves only whole, playable, complete files`, async (t) => {
      const { dir, p } = await recordUntilRotated(`kill-${round}`);
      const killAfterMs = Math.round(random() * 400);
      t.comment(`killing ${killAfterMs} ms after the second file has media`);
      await new Promise((r) => setTimeout(r, killAfterMs));
      p.kill('SIGKILL');
      await once(p, 'exit');
      const before = recordings(dir);
      const last = before.at(-1)!;
      const sizeBefore = statSync(last.path).size;
      t.same(before.slice(0, -1).map((f) => f.sidecar.complete), before.slice(0, -1).map(() => true), 'rotated files were already complete');
      t.equal(last.sidecar.complete, false, 'the file being written is left incomplete by the crash');
      t.ok(last.sidecar.bytes <= sizeBefore, 'its sidecar is behind the file, never ahead');

      await new RecordingCatalog(join(root, `kill-${round}`)).recover(silentLogger());
      const after = recordings(dir);
      t.equal(after.length, before.length, 'no recording lost');
      for (const f of after) {
        const p = await probe(f.path);
        t.equal(f.sidecar.complete, true, `${f.sidecar.file}: complete`);
        t.equal(f.sidecar.bytes, statSync(f.path).size, `${f.sidecar.file}: sidecar bytes = size`);
        t.equal(p.decodeErrors, '', `${f.sidecar.file}: decodes without an error`);
        t.equal(p.firstVideoFlags[0], 'K', `${f.sidecar.file}: starts with a keyframe`);
        t.ok(Math.abs(p.durationSec * 1000 - f.sidecar.durationMs) <= 200, `${f.sidecar.file}: ffprobe ${p.durationSec} s ≈ ${f.sidecar.durationMs} ms`);
      }
      const recovered = after.at(-1)!.sidecar;
      t.ok(recovered.durationMs >= last.sidecar.durationMs, 'recovery keeps at least what the sidecar had');
      t.comment(`killed at ${sizeBefore} bytes; cut ${sizeBefore - recovered.bytes} bytes; ${last.sidecar.durationMs} ▶ ${recovered.durationMs} ms`);
    });
  }

  t.test('SIGTERM: the recorder closes; every file is complete without recovery', async (t) => {
    const { dir, p, stderr } = await recordUntilRotated('term');
    p.kill('SIGTERM');
    const [code] = await once(p, 'exit');
    t.equal(code, 0, `child exits cleanly ${stderr()}`);
    const files = recordings(dir);
    t.ok(files.length >= 2, `${files.length} files`);
    for (const f of files) {
      t.equal(f.sidecar.complete, true, `${f.sidecar.file}: complete`);
      t.equal(f.sidecar.bytes, statSync(f.path).size, `${f.sidecar.file}: sidecar bytes = size`);
      t.equal((await probe(f.path)).decodeErrors, '', `${f.sidecar.file}: decodes without an error`);
    }
  });
}

const childArgs = process.env.SIGMA_RECORDING_CHILD;
if (childArgs) {
  const { source, dir } = JSON.parse(childArgs) as { source: string; dir: string };
  await child(source, dir);
} else await parent();
