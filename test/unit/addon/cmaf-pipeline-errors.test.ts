/**
 * Hostile and broken input to the native pipeline: bad options and codec configs throw with a
 * code; garbage bytes, bad timestamps and overload are dropped and counted, never crash; a
 * muxing failure is reported once and turns write() into a no-op.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { makeFixture, parseCmaf, runPipeline, LL_OPTIONS, type Fixture } from './fixtures.js';
import { CmafPipeline, type CmafPipelineOptions, type NativeError } from '../../../src/addon/cmaf-pipeline.js';
import type { AccessUnit, TrackInfo } from '../../../src/media/types.js';

let fx: Fixture & { remove(): void };
t.before(async () => {
  fx = await makeFixture({ width: 320, height: 180, fps: 30, gop: 30, audio: true, durationSec: 3 });
});
t.teardown(() => fx?.remove());

function tfdtBreaks(init: Buffer, parts: Buffer[]): number {
  const parsed = parseCmaf(init, parts);
  const next = new Map<number, number>();
  let breaks = 0;
  for (const runs of parsed.parts) {
    for (const r of runs) {
      const e = next.get(r.trackId);
      if (e !== undefined && e !== r.tfdt) breaks++;
      next.set(r.trackId, r.tfdt + r.durations.reduce((a, b) => a + b, 0));
    }
  }
  return breaks;
}

t.test('bad options and codec configs: the constructor throws ERR_NATIVE_CONFIG', async (t) => {
  const v = fx.video!, a = fx.audio!;
  const cases: Array<[string, () => CmafPipelineOptions]> = [
    ['random bytes as avcC', () => ({ ...LL_OPTIONS, tracks: [{ ...v, codecConfig: randomBytes(40) }] })],
    ['empty avcC', () => ({ ...LL_OPTIONS, tracks: [{ ...v, codecConfig: Buffer.alloc(0) }] })],
    ['truncated avcC', () => ({ ...LL_OPTIONS, tracks: [{ ...v, codecConfig: v.codecConfig.subarray(0, 12) }] })],
    ['avcC without PPS', () => ({ ...LL_OPTIONS, tracks: [{ ...v, codecConfig: Buffer.concat([v.codecConfig.subarray(0, 8 + v.codecConfig.readUInt16BE(6)), Buffer.from([0])]) }] })],
    ['garbage AudioSpecificConfig', () => ({ ...LL_OPTIONS, tracks: [{ ...a, codecConfig: Buffer.from([0, 0]) }] })],
    ['reserved AAC sampling index', () => ({ ...LL_OPTIONS, tracks: [{ ...a, codecConfig: Buffer.from([0x17, 0x10]) }] })],
    ['codecConfig not a Buffer', () => ({ ...LL_OPTIONS, tracks: [{ ...v, codecConfig: 'avcC' as unknown as Buffer }] })],
    ['unsupported codec', () => ({ ...LL_OPTIONS, tracks: [{ ...v, codec: 'vp8' as 'h264' }] })],
    ['zero timescale', () => ({ ...LL_OPTIONS, tracks: [{ ...v, timescale: 0 }] })],
    ['zero width', () => ({ ...LL_OPTIONS, tracks: [{ ...v, width: 0 }] })],
    ['zero channels', () => ({ ...LL_OPTIONS, tracks: [{ ...a, channels: 0 }] })],
    ['no tracks', () => ({ ...LL_OPTIONS, tracks: [] })],
    ['two video tracks', () => ({ ...LL_OPTIONS, tracks: [v, { ...v, id: 5 }] })],
    ['same id twice', () => ({ ...LL_OPTIONS, tracks: [v, { ...a, id: v.id }] })],
    ['partTargetMs 0', () => ({ ...LL_OPTIONS, partTargetMs: 0, tracks: [v] })],
    ['part longer than segment', () => ({ ...LL_OPTIONS, partTargetMs: 3000, tracks: [v] })],
    ['firstMsn 0', () => ({ ...LL_OPTIONS, firstMsn: 0, tracks: [v] })],
    ['fractional segment target', () => ({ ...LL_OPTIONS, segmentTargetMs: 1999.5, tracks: [v] })],
  ];
  for (const [name, make] of cases) {
    let err: NativeError | undefined;
    try {
      new CmafPipeline(make(), () => {}, () => {});
    } catch (e) {
      err = e as NativeError;
    }
    t.ok(err instanceof Error, `${name}: throws an Error`);
    t.equal(err?.code, 'ERR_NATIVE_CONFIG', `${name}: code ERR_NATIVE_CONFIG (${err?.message})`);
  }
});

t.test('garbage bytes and bad timestamps are dropped and counted; the output stays valid', async (t) => {
  const good = fx.aus;
  const mixed: AccessUnit[] = [];
  let workerDrops = 0;
  let doorDrops = 0;
  good.forEach((au, i) => {
    mixed.push(au);
    if (i === 40) { mixed.push({ ...au, trackId: 0, keyframe: false, data: Buffer.alloc(300, 0xff) }); workerDrops++; }
    if (i === 41) { mixed.push({ ...au, trackId: 0, keyframe: true, data: randomBytes(500) }); workerDrops++; }
    if (i === 42) { mixed.push({ ...au, trackId: 1, data: Buffer.from([0xff, 0xf1, 0x50, 0x80, 1, 2, 3, 4]) }); workerDrops++; } // ADTS
    if (i === 50) { mixed.push({ ...au, dts: au.dts - 500, pts: au.pts - 500 }); workerDrops++; } // backwards
    if (i === 51) { mixed.push({ ...au }); workerDrops++; } // equal dts
    if (i === 52) { mixed.push({ ...au, dts: au.dts + 1e9, pts: au.pts + 1e9 }); workerDrops++; } // huge jump
    if (i === 53) { mixed.push({ ...au, dts: -5, pts: -5 }); workerDrops++; } // negative (after start)
    if (i === 60) { mixed.push({ ...au, data: Buffer.alloc(0) }); doorDrops++; }
    if (i === 61) { mixed.push({ ...au, dts: Number.NaN }); doorDrops++; }
    if (i === 62) { mixed.push({ ...au, dts: au.dts + 0.5 }); doorDrops++; }
    if (i === 63) { mixed.push({ ...au, trackId: 7 }); doorDrops++; }
  });
  const r = await runPipeline(fx.tracks, mixed);
  t.same(r.errors, [], 'no muxing error');
  t.equal(r.refused, doorDrops, 'write() refuses what it can judge at the door');
  t.equal(r.stats.dropped, doorDrops + workerDrops, 'every bad AU counted as dropped');
  t.equal(r.stats.written, good.length, 'every good AU written');
  const parsed = parseCmaf(r.init!, r.parts.map((p) => p.data));
  const samples = parsed.parts.flat().reduce((n, run) => n + run.durations.length, 0);
  t.equal(samples, good.length, 'output holds exactly the good samples');
  t.equal(tfdtBreaks(r.init!, r.parts.map((p) => p.data)), 0, 'tfdt still continuous');
});

t.test('random garbage of every kind: no crash, close resolves', async (t) => {
  const aus: AccessUnit[] = [];
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < 2000; i++) {
    const kind = rnd();
    const dts = Math.floor(rnd() * 1e7) - 1000;
    aus.push({
      trackId: kind < 0.45 ? 0 : kind < 0.9 ? 1 : Math.floor(rnd() * 5),
      dts, pts: dts + Math.floor(rnd() * 200) - 100,
      keyframe: rnd() < 0.3,
      data: rnd() < 0.5 ? randomBytes(Math.floor(rnd() * 3000)) : Buffer.concat([Buffer.from([0, 0, 0, 3]), randomBytes(3)]),
    });
  }
  const r = await runPipeline(fx.tracks, aus);
  t.same(r.errors, [], 'no muxing error');
  t.equal(r.stats.written + r.stats.dropped, aus.length, 'every AU is either written or counted as dropped');
  if (r.parts.length) t.equal(tfdtBreaks(r.init!, r.parts.map((p) => p.data)), 0, 'whatever came out is continuous');
});

t.test('a stream that starts mid-GOP: everything before the first keyframe is dropped', async (t) => {
  const firstKeyAfter = fx.aus.find((a) => a.trackId === 0 && a.keyframe && a.dts > 0)!;
  const aus = fx.aus.filter((a) => a.dts >= 300);
  const before = aus.filter((a) => a.dts < firstKeyAfter.dts || (a.dts === firstKeyAfter.dts && a.trackId === 0 && a !== firstKeyAfter));
  const r = await runPipeline(fx.tracks, aus);
  t.same(r.errors, []);
  t.equal(r.parts[0].startMs, firstKeyAfter.dts, 'first part starts at the first keyframe');
  t.ok(r.parts[0].independent && r.parts[0].segmentStart);
  t.equal(r.stats.dropped, before.length, 'AUs before it counted as dropped');
  t.equal(r.stats.written, aus.length - before.length);
});

t.test('a muxing failure is reported once; then write() is a no-op returning false', async (t) => {
  const errors: NativeError[] = [];
  let chunks = 0;
  const p = new CmafPipeline({ ...LL_OPTIONS, tracks: fx.tracks, testFailAfterWrites: 50 }, () => { chunks++; }, (e) => errors.push(e));
  for (const au of fx.aus.slice(0, 200)) p.write(au);
  for (let i = 0; i < 200 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  t.equal(errors.length, 1, 'onError called once');
  t.ok(errors[0] instanceof Error);
  t.equal(errors[0].code, 'ERR_NATIVE_MUX');
  t.equal(p.write(fx.aus[200]), false, 'write() returns false after the failure');
  await p.close();
  t.equal(errors.length, 1, 'still exactly one error after close');
  t.ok(chunks >= 1, 'chunks before the failure were delivered');
});

t.test('a throwing chunk handler becomes this pipeline\'s error, not a process crash', async (t) => {
  const errors: NativeError[] = [];
  const p = new CmafPipeline({ ...LL_OPTIONS, tracks: fx.tracks }, (c) => { if (c.kind === 'part') throw new Error('boom'); },
    (e) => errors.push(e));
  for (const au of fx.aus.slice(0, 200)) p.write(au);
  await p.close();
  t.ok(errors.length >= 1, 'reported through onError');
  t.equal(errors[0].code, 'ERR_CHUNK_HANDLER');
  t.equal(errors[0].message, 'boom');
});

t.test('close() is idempotent and ends writing', async (t) => {
  const p = new CmafPipeline({ ...LL_OPTIONS, tracks: fx.tracks }, () => {}, () => {});
  for (const au of fx.aus.slice(0, 100)) p.write(au);
  const c1 = p.close();
  const c2 = p.close();
  t.equal(c1, c2, 'same promise');
  await c1;
  await p.close();
  t.equal(p.write(fx.aus[100]), false, 'write after close returns false');
  t.same(p.stats(), { queued: 0, dropped: 0, written: 100 });
});

t.test('close() right after construction, and with nothing written', async (t) => {
  const chunks: string[] = [];
  const p = new CmafPipeline({ ...LL_OPTIONS, tracks: fx.tracks }, (c) => chunks.push(c.kind), () => {});
  await p.close();
  t.same(chunks, ['init'], 'only the init segment');
});

t.test('a full queue drops and counts instead of growing', async (t) => {
  const tracks: TrackInfo[] = fx.tracks;
  const r = await runPipeline(tracks, fx.aus, { maxQueue: 4 });
  t.same(r.errors, []);
  t.ok(r.refused > 0, `write() refused ${r.refused} AUs while the queue was full`);
  t.ok(r.stats.dropped >= r.refused, 'refused AUs are counted as dropped');
  t.equal(r.stats.written + r.stats.dropped, fx.aus.length, 'written + dropped = offered');
  t.throws(() => new CmafPipeline({ ...LL_OPTIONS, tracks, maxQueue: 0 }, () => {}, () => {}), { code: 'ERR_NATIVE_CONFIG' });
});
