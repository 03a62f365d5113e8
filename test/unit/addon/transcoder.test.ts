/**
 * The ABR ladder in the native pipeline: a real ffmpeg-made source (with B-frames, as OBS sends
 * it) is decoded once, scaled and encoded per rung with libx264, and muxed on the source's time
 * grid. Everything is parsed back with mp4box: sizes, codecs, and tfdt/part alignment with the
 * source at every segment start.
 */
import t from 'tap';
import { makeFixture, parseCmaf, LL_OPTIONS, type Fixture } from './fixtures.js';
import { CmafPipeline, type LadderOptions, type LadderProblem, type RungReady } from '../../../src/addon/cmaf-pipeline.js';
import { avcCodecString } from '../../../src/media/codec-string.js';
import type { AccessUnit, CmafChunk, CmafPart } from '../../../src/media/types.js';

const LADDER: LadderOptions = {
  rungs: [
    { name: '480p', width: 854, height: 480, videoBitrate: 1_000_000, profile: 'main' },
    { name: '360p', width: 640, height: 360, videoBitrate: 600_000, maxFrameRate: 15, profile: 'baseline' },
  ],
  preset: 'veryfast',
  // The file is fed far faster than real time: the decoder waits for the encoders instead of
  // dropping (offline mode), and the input queue holds the whole file.
  maxInputQueue: 100_000,
  waitWhenBehind: true,
};

interface LadderRun {
  byRendition: Map<number, CmafChunk[]>;
  ready: RungReady[];
  problems: LadderProblem[];
  errors: Error[];
  stats: ReturnType<CmafPipeline['stats']>;
}

async function runLadder(fx: Fixture, ladder: LadderOptions, aus: AccessUnit[] = fx.aus): Promise<LadderRun> {
  const r: LadderRun = { byRendition: new Map(), ready: [], problems: [], errors: [], stats: { queued: 0, dropped: 0, written: 0 } };
  const p = new CmafPipeline({ tracks: fx.tracks, ...LL_OPTIONS, firstMsn: 7, ladder }, (c) => {
    const i = c.rendition ?? 0;
    if (!r.byRendition.has(i)) r.byRendition.set(i, []);
    r.byRendition.get(i)!.push(c);
  }, (e) => r.errors.push(e), { onRungReady: (x) => r.ready.push(x), onProblem: (x) => r.problems.push(x) });
  for (const au of aus) p.write(au);
  await p.close();
  r.stats = p.stats();
  return r;
}

const partsOf = (cs: CmafChunk[] = []) => cs.filter((c): c is CmafPart => c.kind === 'part');
const initOf = (cs: CmafChunk[] = []) => cs.find((c) => c.kind === 'init')!.data;

let fx: Fixture & { remove(): void };
t.before(async () => {
  // B-frames: decode order differs from presentation order, so dts ≠ pts in the source.
  fx = await makeFixture({ width: 1280, height: 720, fps: 30, gop: 30, bframes: 2, audio: true, durationSec: 6 });
});
t.teardown(() => fx?.remove());

t.test('a 720p source becomes a 480p + 360p ladder aligned with the source at every segment start', async (t) => {
  const run = await runLadder(fx, LADDER);
  t.same(run.errors, [], 'no pipeline error');
  t.same(run.problems, [], 'no ladder problem');
  t.same([...run.byRendition.keys()].sort(), [0, 1, 2], 'chunks for the source and both rungs');
  t.same(run.ready.map((x) => [x.rendition, x.name, x.width, x.height]), [[1, '480p', 854, 480], [2, '360p', 640, 360]],
    'each rung announces its track before its init');
  t.equal(run.ready[0].codecConfig[1], 77, '480p is Main profile (avcC)');
  t.equal(run.ready[1].codecConfig[1], 66, '360p is Baseline profile (avcC)');

  const source = parseCmaf(initOf(run.byRendition.get(0)), partsOf(run.byRendition.get(0)).map((p) => p.data));
  const sourceParts = partsOf(run.byRendition.get(0));
  const videoOf = (parsed: ReturnType<typeof parseCmaf>) => [...parsed.tracks].find(([, v]) => v.kind === 'vide')![0];
  const audioOf = (parsed: ReturnType<typeof parseCmaf>) => [...parsed.tracks].find(([, v]) => v.kind === 'soun')?.[0];
  const sourceVideo = videoOf(source);
  const segmentTfdts = (parsed: ReturnType<typeof parseCmaf>, parts: CmafPart[], id: number) =>
    parts.flatMap((p, i) => (p.segmentStart ? [[p.msn, parsed.parts[i].find((x) => x.trackId === id)!.tfdt]] : []));
  const sourceSegments = segmentTfdts(source, sourceParts, sourceVideo);
  t.ok(sourceSegments.length >= 3, `the source has ${sourceSegments.length} segments`);
  const sampleCount = (parsed: ReturnType<typeof parseCmaf>, id: number | undefined) =>
    parsed.parts.flat().filter((x) => x.trackId === id).reduce((a, x) => a + x.durations.length, 0);
  const sourceFrames = sampleCount(source, sourceVideo);

  for (const [i, rung] of LADDER.rungs.entries()) {
    const chunks = run.byRendition.get(i + 1)!;
    const parts = partsOf(chunks);
    const parsed = parseCmaf(initOf(chunks), parts.map((p) => p.data));
    const video = videoOf(parsed);
    const info = parsed.tracks.get(video)!;
    t.equal(`${info.width}x${info.height}`, `${rung.width}x${rung.height}`, `${rung.name}: coded size in the init segment`);
    t.equal(info.codec, avcCodecString(run.ready[i].codecConfig), `${rung.name}: codec ${info.codec} is the encoder's avcC`);
    t.ok(audioOf(parsed) !== undefined, `${rung.name}: carries the audio track`);
    t.equal(sampleCount(parsed, audioOf(parsed)), sampleCount(source, audioOf(source)), `${rung.name}: every audio frame of the source`);
    // The same audio frames in every part as the source's part (first tfdt and count): a player
    // switching renditions then buffers the same extent from either. Cut later than the source
    // (audio waited for the encoded video), a rung's parts ended up to two AAC frames short of
    // the source's, and hls.js, switched to such a rung mid-segment, stopped loading: its buffer
    // ended 16 ms before the segment's end, inside a fragment it took as loaded (e2e abr.ts).
    const audioRuns = (p: ReturnType<typeof parseCmaf>) => p.parts.map((runs) => runs.filter((x) => x.trackId === audioOf(p))
      .map((x) => `${x.tfdt}+${x.durations.length}`).join(' '));
    t.same(audioRuns(parsed), audioRuns(source), `${rung.name}: each part holds the source part's audio frames`);
    // The final part's duration ends with the last frame's, which a lower frame rate makes longer.
    const facts = (ps: CmafPart[]) => ps.map((p, k) => [p.msn, p.partIndex, p.startMs, k === ps.length - 1 ? -1 : p.durationMs, p.independent, p.segmentStart]);
    t.same(facts(parts), facts(sourceParts), `${rung.name}: the same parts as the source (msn, index, start, duration, independence)`);
    t.same(segmentTfdts(parsed, parts, video), sourceSegments, `${rung.name}: video tfdt equals the source's at every segment start`);
    t.ok(parts.every((p, k) => !p.segmentStart || parsed.parts[k].find((x) => x.trackId === video)!.firstIsSync),
      `${rung.name}: every segment starts with a sync sample`);
    const frames = sampleCount(parsed, video);
    const expected = rung.maxFrameRate ? Math.round(sourceFrames * rung.maxFrameRate / 30) : sourceFrames;
    t.ok(Math.abs(frames - expected) <= 1, `${rung.name}: ${frames} frames (expected ${expected} of ${sourceFrames})`);
    t.same(run.stats.rungs?.[i] && { name: run.stats.rungs[i].name, dropped: run.stats.rungs[i].dropped }, { name: rung.name, dropped: 0 },
      `${rung.name}: nothing dropped`);
    t.equal(run.stats.rungs?.[i].encoded, frames, `${rung.name}: stats count the encoded frames`);
  }
});

t.test('an encoder that falls behind drops frames on its rung, reports it, and keeps the numbering', async (t) => {
  // One frame of queue and the whole file at once: the decoder outruns both encoders.
  const run = await runLadder(fx, { ...LADDER, maxFrameQueue: 1, waitWhenBehind: false });
  t.same(run.errors, [], 'no pipeline error: the source is untouched');
  const dropped = run.stats.rungs!.reduce((a, r) => a + r.dropped, 0);
  t.ok(dropped > 0, `${dropped} frames dropped over the rungs`);
  t.ok(run.problems.some((p) => p.code === 'ERR_TRANSCODE_BEHIND' && p.rendition >= 1), 'reported as ERR_TRANSCODE_BEHIND with its rung');
  const sourceParts = partsOf(run.byRendition.get(0));
  t.equal(sourceParts.length, partsOf((await runLadder(fx, LADDER)).byRendition.get(0)).length, 'the source lost no part');
  const sourceSegments = new Set(sourceParts.filter((p) => p.segmentStart).map((p) => p.msn));
  for (const i of [1, 2]) {
    const segments = partsOf(run.byRendition.get(i)).filter((p) => p.segmentStart).map((p) => p.msn);
    t.ok(segments.length > 0 && segments.every((m) => sourceSegments.has(m)), `rung ${i}: its segments keep the source's MSNs (${segments.join(',')})`);
  }
});

t.test('undecodable video is reported; the source and the other frames go on', async (t) => {
  let n = 0;
  const garbage = fx.aus.map((au) => {
    // Every 10th non-key video frame becomes a well-framed NAL of noise: the muxer takes it, the decoder cannot.
    if (au.trackId !== 0 || au.keyframe || ++n % 10 !== 0) return au;
    const body = Buffer.alloc(200, 0x5a);
    body[0] = 0x41; // nal_unit_type 1 (non-IDR slice), nal_ref_idc 2
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    return { ...au, data: Buffer.concat([len, body]) };
  });
  const run = await runLadder(fx, LADDER, garbage);
  t.same(run.errors, [], 'no pipeline error');
  const sourceParts = partsOf(run.byRendition.get(0));
  t.ok(sourceParts.length >= 25, `the source goes on (${sourceParts.length} parts)`);
  // The damaged frames cost a rung the keyframes that followed them, so its segments need not
  // start where the source's do (a segment with no keyframe in time is cut at TARGETDURATION +
  // 0.5 s); what must hold is that the rung goes on to the end and no segment outgrows the bound.
  const endOf = (ps: CmafPart[]) => ps[ps.length - 1].startMs + ps[ps.length - 1].durationMs;
  for (const i of [1, 2]) {
    const parts = partsOf(run.byRendition.get(i));
    // (It also loses the damaged frames themselves: its media ends up shorter than the source's.)
    t.ok(parts.length > 0 && parts[parts.length - 1].startMs >= endOf(sourceParts) - 2000,
      `rung ${i} goes on into the last 2 s (its last part starts at ${parts.length ? parts[parts.length - 1].startMs : '-'} ms, the source ends at ${endOf(sourceParts)} ms)`);
    const spans = new Map<number, number>();
    for (const p of parts) spans.set(p.msn, (spans.get(p.msn) ?? 0) + p.durationMs);
    t.ok([...spans.values()].every((ms) => ms <= LL_OPTIONS.segmentMaxMs), `rung ${i}: every segment ≤ ${LL_OPTIONS.segmentMaxMs} ms (${[...spans.values()].join(', ')})`);
  }
  t.ok((run.stats.decodeErrors ?? 0) > 0, `${run.stats.decodeErrors} damaged frames counted`);
  t.ok(run.problems.some((p) => p.code === 'ERR_TRANSCODE_DECODE' && p.rendition === -1), 'reported once as ERR_TRANSCODE_DECODE (the shared decoder)');
  // At most one report per 10 s: fewer reports than damaged frames (under valgrind the run is slow enough for several).
  t.ok(run.problems.length < (run.stats.decodeErrors ?? 0), `rate-limited: ${run.problems.length} report(s) for ${run.stats.decodeErrors} frames`);
});

t.test('bad ladders are refused with ERR_NATIVE_CONFIG, naming the rung', async (t) => {
  const make = (ladder: unknown, tracks = fx.tracks) => () =>
    new CmafPipeline({ tracks, ...LL_OPTIONS, ladder: ladder as LadderOptions }, () => undefined, () => undefined);
  const rung = LADDER.rungs[0];
  t.throws(make({ rungs: [] }), { code: 'ERR_NATIVE_CONFIG' }, 'no rung');
  t.throws(make({ rungs: [{ ...rung, width: 855 }] }), { code: 'ERR_NATIVE_CONFIG', message: /480p/ }, 'odd width');
  t.throws(make({ rungs: [{ ...rung, videoBitrate: 10 }] }), { code: 'ERR_NATIVE_CONFIG', message: /bitrate/ }, 'bitrate too low');
  t.throws(make({ rungs: [{ ...rung, profile: 'high10' }] }), { code: 'ERR_NATIVE_CONFIG', message: /profile/ }, 'unknown profile');
  t.throws(make({ rungs: [{ ...rung, name: '' }] }), { code: 'ERR_NATIVE_CONFIG' }, 'no name');
  t.throws(make({ rungs: 'x' }), { code: 'ERR_NATIVE_CONFIG' }, 'rungs not an array');
  t.throws(make(LADDER, fx.tracks.filter((x) => x.kind === 'audio')), { code: 'ERR_NATIVE_CONFIG', message: /video/ }, 'audio-only source');
});
