/**
 * Source recording, with real CMAF from the native pipeline (an ffmpeg-made H.264/AAC file fed
 * as RTMP would deliver it) written to real files in a temp dir, and the files checked the way
 * a user would: ffprobe/ffmpeg open them, report the duration, decode them without an error,
 * and every file starts with a keyframe.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeFixture, runPipeline, type Fixture, type RunResult } from '../addon/fixtures.js';
import { SourceRecorder, type SourceRecorderOptions } from '../../../src/store/recording/source-recorder.js';
import { RecordingCatalog } from '../../../src/store/recording/recording-catalog.js';
import { readBoxHeader } from '../../../src/store/recording/mp4-boxes.js';
import type { RecordingSidecar } from '../../../src/store/recording/sidecar.js';
import { EventBus, type OriginEvents } from '../../../src/events.js';
import { silentLogger } from '../../../src/log.js';
import type { CmafPart } from '../../../src/media/types.js';

const run = promisify(execFile);
/** ffprobe durations may differ from the parts' sum by up to one part (audio runs a frame on). */
const PART_SEC = 0.2;
const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);

let fx: Fixture & { remove(): void };
let cmaf: RunResult;
let root: string;
t.before(async () => {
  // 13 s, keyframe every second, 2 s segments of ten 200 ms parts: msn 1..7 (the last 1 s).
  fx = await makeFixture({ width: 640, height: 360, fps: 30, gop: 30, audio: true, durationSec: 13 });
  cmaf = await runPipeline(fx.tracks, fx.aus);
  root = mkdtempSync(join(tmpdir(), 'sigma-rec-'));
});
t.teardown(() => {
  fx?.remove();
  if (root) rmSync(root, { recursive: true, force: true });
});

const videoAus = () => fx.aus.filter((a) => a.trackId === 0).length;
const audioAus = () => fx.aus.filter((a) => a.trackId === 1).length;
const sum = (parts: CmafPart[]) => parts.reduce((a, p) => a + p.durationMs, 0);
const size = (parts: CmafPart[]) => parts.reduce((a, p) => a + p.data.length, 0);

interface Probe {
  durationSec: number;
  startSec: number;
  videoPackets: number;
  audioPackets: number;
  firstVideoFlags: string;
  firstVideoPtsSec: number;
  /** What `ffmpeg -v error -i file -f null -` said (decode every frame); '' when clean. */
  decodeErrors: string;
}

async function probe(file: string): Promise<Probe> {
  const fmt = JSON.parse((await run('ffprobe', ['-v', 'error', '-count_packets',
    '-show_entries', 'format=duration,start_time:stream=codec_type,nb_read_packets', '-of', 'json', file])).stdout);
  const first = JSON.parse((await run('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_packets',
    '-read_intervals', '%+#1', '-show_entries', 'packet=pts_time,flags', '-of', 'json', file])).stdout);
  const packets = (type: string) => Number(fmt.streams.find((s: { codec_type: string }) => s.codec_type === type)?.nb_read_packets ?? 0);
  const { stderr } = await run('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-f', 'null', '-']);
  return {
    durationSec: Number(fmt.format.duration), startSec: Number(fmt.format.start_time),
    videoPackets: packets('video'), audioPackets: packets('audio'),
    firstVideoFlags: first.packets[0]?.flags ?? '', firstVideoPtsSec: Number(first.packets[0]?.pts_time), decodeErrors: stderr,
  };
}

/** A recorder on a fresh folder with a fake clock that the feed advances by media time. */
function setup(name: string, o: Partial<SourceRecorderOptions> = {}) {
  const dir = join(root, name, 'ch1');
  const events = new EventBus();
  const ready: Array<OriginEvents['recording.ready']> = [];
  events.on('recording.ready', (p) => ready.push(p));
  const ctx = {
    dir, ready, clock: T0,
    rec: undefined as unknown as SourceRecorder,
    /** Feeds parts as the channel would; `before` runs ahead of each (to flip the gate…). */
    feed(parts: CmafPart[], before?: (p: CmafPart) => void) {
      for (const p of parts) {
        before?.(p);
        ctx.rec.addPart({ msn: p.msn, index: p.partIndex, durationMs: p.durationMs, segmentStart: p.segmentStart, data: p.data });
        ctx.clock += p.durationMs;
      }
    },
    /** The recordings (sorted by name = by start), with their sidecars. */
    files(): Array<{ path: string; sidecar: RecordingSidecar }> {
      if (!existsSync(dir)) return [];
      return readdirSync(dir).filter((f) => f.endsWith('.mp4')).sort().map((f) => ({
        path: join(dir, f), sidecar: JSON.parse(readFileSync(join(dir, f.replace(/\.mp4$/, '.json')), 'utf8')),
      }));
    },
  };
  ctx.rec = new SourceRecorder({
    channelId: 'ch1', dir, rotateAfterMs: 3_600_000, events, logger: silentLogger(), now: () => ctx.clock,
    gate: { writable: true, reportWriteError: () => {} }, ...o,
  });
  return ctx;
}

const iso = (ms: number) => new Date(ms).toISOString();
const partsOf = (msns: number[]) => cmaf.parts.filter((p) => msns.includes(p.msn));
const msnRange = (first: number, last: number) => cmaf.parts.filter((p) => p.msn >= first && p.msn <= last);

t.test('one session: one file that ffprobe opens with the session duration, a sidecar and an event', async (t) => {
  const s = setup('one');
  s.rec.startSession();
  s.rec.addInit(cmaf.init!);
  s.feed(cmaf.parts);
  await s.rec.endSession();

  const total = sum(cmaf.parts);
  t.same(readdirSync(s.dir).sort(), ['20250102T030405Z-1.json', '20250102T030405Z-1.mp4'], 'one file + sidecar, named <UTC start>-<first msn>');
  const [{ path, sidecar }] = s.files();
  const bytes = cmaf.init!.length + size(cmaf.parts);
  t.equal(statSync(path).size, bytes, 'the file is the init and every part');
  const p = await probe(path);
  t.ok(Math.abs(p.durationSec - total / 1000) <= PART_SEC, `ffprobe duration ${p.durationSec} s ≈ ${total / 1000} s`);
  t.equal(p.decodeErrors, '', 'ffmpeg decodes it without an error');
  t.equal(p.firstVideoFlags[0], 'K', 'the first video packet is a keyframe');
  t.equal(p.videoPackets, videoAus(), 'every video frame is in the file');
  t.equal(p.audioPackets, audioAus(), 'every audio frame is in the file');
  t.same(sidecar, {
    channel: 'ch1', file: '20250102T030405Z-1.mp4', startedAt: iso(T0), endedAt: iso(T0 + total),
    durationMs: total, bytes, complete: true, firstMsn: 1, lastMsn: 7,
  }, 'the sidecar describes the finished file');
  t.same(s.ready, [{ channel: 'ch1', file: path, bytes, durationMs: total, startedAt: iso(T0), endedAt: iso(T0 + total) }],
    'endSession emits recording.ready once');
  t.comment(`one session: ${total} ms of parts, ffprobe ${p.durationSec} s, ${bytes} bytes`);
});

t.test('rotation at segment starts: each file starts with a keyframe, together they hold everything', async (t) => {
  const s = setup('rotate', { rotateAfterMs: 4000 });
  s.rec.startSession();
  s.rec.addInit(cmaf.init!);
  s.feed(cmaf.parts);
  await s.rec.endSession();

  const files = s.files();
  t.same(files.map((f) => [f.sidecar.firstMsn, f.sidecar.lastMsn]), [[1, 2], [3, 4], [5, 6], [7, 7]], 'a new file every 4 s of media');
  const probes = await Promise.all(files.map((f) => probe(f.path)));
  files.forEach((f, i) => {
    const p = probes[i];
    const media = msnRange(f.sidecar.firstMsn, f.sidecar.lastMsn);
    t.equal(p.firstVideoFlags[0], 'K', `file ${i} starts with a keyframe`);
    t.ok(p.firstVideoPtsSec < 0.05 && p.startSec === 0, `file ${i} starts at 0 (first video pts ${p.firstVideoPtsSec} s)`);
    t.equal(p.decodeErrors, '', `file ${i} decodes cleanly`);
    t.equal(f.sidecar.durationMs, sum(media), `file ${i} sidecar duration = its parts`);
    t.equal(statSync(f.path).size, cmaf.init!.length + size(media), `file ${i} = init + its parts`);
    t.equal(f.sidecar.bytes, statSync(f.path).size, `file ${i} sidecar bytes = file size`);
    t.ok(Math.abs(p.durationSec - f.sidecar.durationMs / 1000) <= PART_SEC, `file ${i}: ffprobe ${p.durationSec} s ≈ ${f.sidecar.durationMs} ms`);
    if (i < files.length - 1) t.ok(f.sidecar.durationMs >= 4000, `file ${i} rotated after ≥ 4 s`);
  });
  const total = sum(cmaf.parts);
  const probed = probes.reduce((a, p) => a + p.durationSec, 0);
  t.equal(files.reduce((a, f) => a + f.sidecar.durationMs, 0), total, 'sidecar durations sum to the session');
  t.ok(Math.abs(probed - total / 1000) <= files.length * PART_SEC, `ffprobe durations sum to ${probed.toFixed(3)} s ≈ ${total / 1000} s`);
  t.equal(probes.reduce((a, p) => a + p.videoPackets, 0), videoAus(), 'no video frame lost or doubled across files');
  t.equal(probes.reduce((a, p) => a + p.audioPackets, 0), audioAus(), 'no audio frame lost or doubled across files');
  t.same(s.ready.map((r) => r.file), files.map((f) => f.path), 'one recording.ready per file, in order');
  t.ok(files.every((f, i) => i === 0 || f.sidecar.startedAt === files[i - 1].sidecar.endedAt), 'each file starts when the previous ends');
  t.comment(`rotation: ffprobe ${probes.map((p) => p.durationSec).join(' + ')} s; sidecars ${files.map((f) => f.sidecar.durationMs).join(' + ')} ms`);

  const catalog = new RecordingCatalog(join(root, 'rotate'));
  const listed = await catalog.list('ch1');
  t.same(listed, files.map((f) => ({
    channel: 'ch1', file: f.path, bytes: statSync(f.path).size, durationMs: f.sidecar.durationMs,
    startedAt: f.sidecar.startedAt, endedAt: f.sidecar.endedAt, complete: true,
  })), 'the catalog lists each file with its size on disk and its sidecar facts');
  t.same(await catalog.list(), listed, 'all channels: the same here');
  t.same(await catalog.list('other'), [], 'another channel has none');
  t.same(await catalog.list('../rotate'), [], 'a channel id cannot walk out of the root');
});

t.test('a publisher clock far from zero: the file still starts at 0 and ffprobe reports its length', async (t) => {
  const HOUR = 3_600_000;
  const aus = fx.aus.filter((a) => a.dts < 4500).map((a) => ({ ...a, dts: a.dts + HOUR, pts: a.pts + HOUR }));
  const late = await runPipeline(fx.tracks, aus);
  const s = setup('clock');
  const copies = late.parts.map((x) => Buffer.from(x.data));
  s.rec.startSession();
  s.rec.addInit(late.init!);
  s.feed(late.parts);
  await s.rec.endSession();
  const [f] = s.files();
  const p = await probe(f.path);
  t.equal(p.startSec, 0, 'start_time 0');
  t.ok(Math.abs(p.durationSec - sum(late.parts) / 1000) <= PART_SEC, `duration ${p.durationSec} s, not the publisher's 3604 s`);
  t.equal(p.decodeErrors, '', 'decodes cleanly');
  t.ok(late.parts.every((x, i) => x.data.equals(copies[i])), 'the live parts (shared with delivery) are left as they were');
});

t.test('a new session ends the file of the previous one, even without endSession', async (t) => {
  const s = setup('sessions');
  s.rec.startSession();
  s.rec.addInit(cmaf.init!);
  s.feed(partsOf([1, 2]));
  s.clock = T0; // the same second as the first file
  s.rec.startSession();
  s.rec.addInit(cmaf.init!);
  s.feed(partsOf([1, 2, 3]));
  await s.rec.close();
  await s.rec.close();
  s.rec.addPart({ msn: 9, index: 0, durationMs: 200, segmentStart: true, data: cmaf.parts[0].data });
  const files = s.files();
  t.same(files.map((f) => [f.sidecar.firstMsn, f.sidecar.lastMsn, f.sidecar.durationMs, f.sidecar.complete]),
    [[1, 2, sum(partsOf([1, 2])), true], [1, 3, sum(partsOf([1, 2, 3])), true]], 'two files, both complete');
  t.not(files[0].path, files[1].path, 'same start second and msn: the second name is still unique');
  t.equal(s.ready.length, 2, 'close() finalizes the open file; later calls do nothing');
});

t.test('a publisher clock that goes back mid-session starts a new file instead of breaking the timeline', async (t) => {
  const s = setup('clock-back');
  s.rec.startSession();
  s.rec.addInit(cmaf.init!);
  s.feed(partsOf([3, 4]));
  // The same media again, numbered on: its tfdt is before the file's start.
  s.feed(partsOf([1, 2]).map((p) => ({ ...p, msn: p.msn + 4 })));
  await s.rec.endSession();
  const files = s.files();
  t.same(files.map((f) => [f.sidecar.firstMsn, f.sidecar.lastMsn, f.sidecar.durationMs]),
    [[3, 4, sum(partsOf([3, 4]))], [5, 6, sum(partsOf([1, 2]))]], 'two files, split where the clock went back');
  for (const f of files) {
    const p = await probe(f.path);
    t.equal(p.decodeErrors, '', `${f.sidecar.firstMsn}: decodes cleanly`);
    t.ok(Math.abs(p.durationSec - f.sidecar.durationMs / 1000) <= PART_SEC, `${f.sidecar.firstMsn}: ffprobe ${p.durationSec} s`);
  }
});

t.test('disk low: nothing is written while the gate is closed; the next file starts at a segment start', async (t) => {
  const gate = { writable: true, errors: 0, reportWriteError() { gate.errors++; } };
  const s = setup('gate', { gate });
  const closeAt = cmaf.parts.find((p) => p.msn === 3 && p.partIndex === 4)!;
  const openAt = cmaf.parts.find((p) => p.msn === 5 && p.partIndex === 3)!;
  const beforeClose = cmaf.parts.slice(0, cmaf.parts.indexOf(closeAt));
  s.rec.startSession();
  s.rec.addInit(cmaf.init!);
  s.feed(cmaf.parts.slice(0, cmaf.parts.indexOf(openAt)), (p) => { if (p === closeAt) gate.writable = false; });
  await s.rec.idle();
  const paused = s.files();
  t.same(paused.map((f) => [f.sidecar.firstMsn, f.sidecar.lastMsn, f.sidecar.complete]), [[1, 3, true]],
    'while closed: the file written so far is finalized and no other is opened');
  t.equal(statSync(paused[0].path).size, cmaf.init!.length + size(beforeClose), 'no byte after the gate closed');
  t.equal(s.ready.length, 1, 'and it is announced as ready');

  s.feed(cmaf.parts.slice(cmaf.parts.indexOf(openAt)), (p) => { if (p === openAt) gate.writable = true; });
  await s.rec.endSession();
  const files = s.files();
  t.same(files.map((f) => [f.sidecar.firstMsn, f.sidecar.lastMsn]), [[1, 3], [6, 7]], 'after reopening mid-msn 5, the next file starts at msn 6');
  t.equal(statSync(files[1].path).size, cmaf.init!.length + size(partsOf([6, 7])), 'the new file holds msn 6..7 whole');
  const p = await probe(files[1].path);
  t.equal(p.firstVideoFlags[0], 'K', 'and starts with a keyframe');
  t.equal(p.decodeErrors, '', 'and decodes cleanly');
  const first = await probe(files[0].path);
  t.equal(first.decodeErrors, '', 'the paused file ends cleanly');
  t.equal(files[0].sidecar.durationMs, sum(beforeClose), 'its duration covers the parts before the gate closed');
  t.equal(gate.errors, 0, 'no write error reported');
});

t.test('a slow disk (write queue full): files end at the last queued part and never hold a hole', async (t) => {
  const s = setup('queue', { maxPendingBytes: 100_000 });
  s.rec.startSession();
  s.rec.addInit(cmaf.init!);
  for (let msn = 1; msn <= 7; msn++) {
    s.feed(partsOf([msn])); // a whole segment at once: more than the queue takes
    await s.rec.idle(); // the disk catches up before the next one
  }
  await s.rec.endSession();
  const files = s.files();
  t.same(files.map((f) => f.sidecar.firstMsn), [1, 2, 3, 4, 5, 6, 7], 'each segment opens a new file at its start');
  for (const f of files) {
    const seg = partsOf([f.sidecar.firstMsn]);
    const n = seg.findIndex((_, k) => cmaf.init!.length + size(seg.slice(0, k + 1)) === statSync(f.path).size) + 1;
    t.ok(n > 0 && n < seg.length, `msn ${f.sidecar.firstMsn}: the file is init + the first ${n} of ${seg.length} parts`);
    t.equal(f.sidecar.durationMs, sum(seg.slice(0, n)), 'its sidecar duration matches');
    const p = await probe(f.path);
    t.equal(p.decodeErrors, '', 'decodes cleanly');
    t.equal(p.firstVideoFlags[0], 'K', 'starts with a keyframe');
  }
});

t.test('write errors go to the gate and the log; the recorder goes on', async (t) => {
  const errors: string[] = [];
  const gate = { writable: true, reportWriteError: (e: NodeJS.ErrnoException) => { errors.push(e.code!); } };
  writeFileSync(join(root, 'err'), 'a file where a folder should be');
  const s = setup('err', { gate });
  s.rec.startSession();
  s.rec.addInit(cmaf.init!);
  s.feed(partsOf([1, 2]));
  await s.rec.endSession();
  t.ok(errors.length >= 1 && errors.every((c) => c === 'ENOTDIR'), `reported: ${errors.join(',')}`);
  t.same(s.ready, [], 'no recording announced');
});

/** A file and an incomplete sidecar as a recorder killed mid-part leaves them. */
function crashed(dir: string, name: string, whole: CmafPart[], tail: Buffer): string {
  mkdirSync(dir, { recursive: true });
  const mp4 = join(dir, `${name}.mp4`);
  writeFileSync(mp4, Buffer.concat([cmaf.init!, ...whole.map((p) => p.data), tail]));
  const seg1 = partsOf([1]);
  const sidecar: RecordingSidecar = {
    channel: 'ch1', file: `${name}.mp4`, startedAt: iso(T0), endedAt: null, durationMs: sum(seg1),
    bytes: cmaf.init!.length + size(seg1), complete: false, firstMsn: 1, lastMsn: 1,
  };
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(sidecar));
  return mp4;
}

t.test('recover(): a torn tail is cut at the last whole fragment; the file opens cleanly and is complete', async (t) => {
  const whole = cmaf.parts.slice(0, 14); // msn 1 and four parts of msn 2
  const next = cmaf.parts[14].data;
  const moofSize = readBoxHeader(next, 0)!.size;
  const cases = [
    { name: 'half-a-part', tail: next.subarray(0, next.length >> 1), brokenBefore: true },
    { name: 'moof-without-mdat', tail: next.subarray(0, moofSize), brokenBefore: false },
    { name: 'half-a-header', tail: next.subarray(0, 5), brokenBefore: false },
    { name: 'clean-end', tail: Buffer.alloc(0), brokenBefore: false },
  ];
  const dir = join(root, 'recover', 'ch1');
  const files = cases.map((c) => crashed(dir, c.name, whole, c.tail));
  const before = await Promise.all(files.map(probe));
  await new RecordingCatalog(join(root, 'recover')).recover(silentLogger());
  const listed = await new RecordingCatalog(join(root, 'recover')).list('ch1');
  for (const [i, c] of cases.entries()) {
    const mp4 = files[i];
    const sidecar = JSON.parse(readFileSync(mp4.replace(/\.mp4$/, '.json'), 'utf8')) as RecordingSidecar;
    const bytes = cmaf.init!.length + size(whole);
    if (c.brokenBefore) t.match(before[i].decodeErrors, /partial file|Invalid/, `${c.name}: before, ffmpeg reports errors`);
    t.equal(statSync(mp4).size, bytes, `${c.name}: cut to the end of the last whole part`);
    const p = await probe(mp4);
    t.equal(p.decodeErrors, '', `${c.name}: decodes cleanly afterwards`);
    t.ok(Math.abs(p.durationSec - sum(whole) / 1000) <= PART_SEC, `${c.name}: ffprobe ${p.durationSec} s ≈ ${sum(whole)} ms`);
    t.ok(Math.abs(sidecar.durationMs - sum(whole)) <= 1, `${c.name}: duration measured again from the media (${sidecar.durationMs} ms, sidecar said ${sum(partsOf([1]))})`);
    t.same({ complete: sidecar.complete, bytes: sidecar.bytes, endedAt: sidecar.endedAt },
      { complete: true, bytes, endedAt: statSync(mp4).mtime.toISOString() }, `${c.name}: complete, ended at the last write`);
    t.ok(listed.some((l) => l.file === mp4 && l.complete && l.bytes === bytes), `${c.name}: listed as complete`);
  }
});

t.test('recover(): leftovers are cleaned, complete recordings untouched', async (t) => {
  const dir = join(root, 'leftovers', 'ch1');
  const empty = crashed(dir, 'init-only', [], cmaf.parts[0].data.subarray(0, 100));
  const orphan = crashed(dir, 'orphan', partsOf([1]), Buffer.alloc(0));
  rmSync(orphan);
  const done = crashed(dir, 'done', partsOf([1]), Buffer.from('not a box'));
  const doneSidecar = JSON.stringify({ ...JSON.parse(readFileSync(done.replace(/\.mp4$/, '.json'), 'utf8')), complete: true });
  writeFileSync(done.replace(/\.mp4$/, '.json'), doneSidecar);
  writeFileSync(join(dir, 'done.json.tmp'), '{"half":');
  await new RecordingCatalog(join(root, 'leftovers')).recover(silentLogger());
  t.same(readdirSync(dir).sort(), ['done.json', 'done.mp4'], 'nothing-playable file, orphan sidecar and temporary removed');
  t.equal(readFileSync(done.replace(/\.mp4$/, '.json'), 'utf8'), doneSidecar, 'a complete recording is not touched');
});

t.test('remove(): deletes a recording and its sidecar; refuses what it must not delete', async (t) => {
  const catalogRoot = join(root, 'remove');
  const dir = join(catalogRoot, 'ch1');
  const live = crashed(dir, 'live', partsOf([1]), Buffer.alloc(0));
  const old = crashed(dir, 'old', partsOf([1]), Buffer.alloc(0));
  const oldSidecar = old.replace(/\.mp4$/, '.json');
  writeFileSync(oldSidecar, JSON.stringify({ ...JSON.parse(readFileSync(oldSidecar, 'utf8')), complete: true }));
  const catalog = new RecordingCatalog(catalogRoot);
  await catalog.remove(old);
  t.same(readdirSync(dir).sort(), ['live.json', 'live.mp4'], 'the file and its sidecar are gone');
  await t.rejects(catalog.remove(live), { code: 'RECORDING_IN_PROGRESS', statusCode: 409 }, 'a recording in progress is refused');
  await t.rejects(catalog.remove(old), { code: 'NOT_FOUND' }, 'a second remove: not found');
  await t.rejects(catalog.remove(join(catalogRoot, '..', 'escape.mp4')), { code: 'NOT_FOUND' }, 'nothing outside the root');
  t.ok(existsSync(live), 'the refused recording is still there');
});

t.test('box headers: 32-bit size, 64-bit largesize, torn and malformed', async (t) => {
  const large = Buffer.alloc(16);
  large.writeUInt32BE(1, 0);
  large.write('mdat', 4, 'latin1');
  large.writeBigUInt64BE(5_000_000_000n, 8);
  t.same(readBoxHeader(large, 0), { type: 'mdat', start: 0, size: 5_000_000_000, headerSize: 16 }, 'size 1: the largesize follows');
  t.equal(readBoxHeader(large.subarray(0, 12), 0), undefined, 'a largesize cut short is torn, not wrong');
  t.same(readBoxHeader(cmaf.init!, 0), { type: 'ftyp', start: 0, size: cmaf.init!.readUInt32BE(0), headerSize: 8 }, 'a plain 32-bit size');
  const bad = Buffer.from([0, 0, 0, 4, 0x6d, 0x6f, 0x6f, 0x66]);
  t.throws(() => readBoxHeader(bad, 0), { code: 'ERR_MP4_BOX' }, 'a size below the header is malformed');
});
