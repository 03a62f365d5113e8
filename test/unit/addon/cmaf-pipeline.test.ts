/**
 * The native CMAF pipeline, end to end: an ffmpeg-made H.264/AAC file, read as RTMP would
 * deliver it (millisecond timestamps, interleaved), goes through CmafPipeline; the init
 * segment and parts are parsed back with mp4box and checked against the LL-HLS cut rules.
 */
import t, { type Test } from 'tap';
import { LL_PROFILE, makeFixture, parseCmaf, runPipeline, type Fixture, type RunResult } from './fixtures.js';
import { CmafPipeline } from '../../../src/addon/cmaf-pipeline.js';
import type { AccessUnit, CmafChunk } from '../../../src/media/types.js';

/** >1 when run under valgrind (scripts/valgrind-addon.sh): wall-clock bounds scale by it. */
const SLOW = Number(process.env.SIGMA_SLOW_FACTOR ?? 1) || 1;
const PART_TARGET = 200;
const SEG_TARGET = 2000;
/** The advertised PART-TARGET: every part ≤ it (PT-02), every inner non-independent part ≥ 0.85 × it (PT-03). */
const MAX_PART = LL_PROFILE.advertisedPartTargetSec! * 1000;
const MIN_PART = 0.85 * MAX_PART;

let fx: Fixture & { remove(): void };
t.before(async () => {
  // gop 30 at 30 fps: keyframes every second, so mid-segment parts can be independent too.
  fx = await makeFixture({ width: 640, height: 360, fps: 30, gop: 30, audio: true, durationSec: 7 });
});
t.teardown(() => fx?.remove());


/** The invariants every output must satisfy, whatever the input tracks. */
function checkOutput(t: Test, r: RunResult, aus: AccessUnit[], expectTracks: Array<'vide' | 'soun'>, maxPartMs = MAX_PART, reorderDelayMs = 0) {
  t.same(r.errors, [], 'no muxing errors');
  t.ok(r.init, 'init chunk emitted');
  t.equal(r.chunks[0]?.kind, 'init', 'init comes first');
  t.equal(r.chunks.filter((c) => c.kind === 'init').length, 1, 'exactly one init chunk');
  const parsed = parseCmaf(r.init!, r.parts.map((p) => p.data));
  t.same(parsed.boxes.slice(0, 2), ['ftyp', 'moov'], 'init is ftyp + moov');
  t.ok(parsed.hasMvex, 'moov has mvex (fragmented)');
  t.same([...parsed.tracks.values()].map((x) => x.kind).sort(), [...expectTracks].sort(), 'one trak per input track');
  t.equal(parsed.parts.length, r.parts.length, 'one moof per part');
  t.same(parsed.boxes.slice(2).filter((b) => b !== 'moof' && b !== 'mdat'), [], 'parts hold only moof + mdat');

  const trackIdOf = (kind: string) => [...parsed.tracks].find(([, v]) => v.kind === kind)?.[0];
  const videoId = trackIdOf('vide');
  const audioId = trackIdOf('soun');
  const primaryId = videoId ?? audioId!;
  const primaryTs = parsed.tracks.get(primaryId)!.timescale;

  // tfdt continuity per track, and samples in = samples out.
  const counts = new Map<number, number>();
  const nextTfdt = new Map<number, number>();
  let continuityBreaks = 0;
  parsed.parts.forEach((runs) => {
    for (const run of runs) {
      const expected = nextTfdt.get(run.trackId);
      if (expected !== undefined && expected !== run.tfdt) continuityBreaks++;
      nextTfdt.set(run.trackId, run.tfdt + run.durations.reduce((a, b) => a + b, 0));
      counts.set(run.trackId, (counts.get(run.trackId) ?? 0) + run.durations.length);
    }
  });
  t.equal(continuityBreaks, 0, 'tfdt(n+1) = tfdt(n) + sum of durations(n) for every track');
  if (videoId !== undefined) {
    t.equal(counts.get(videoId), aus.filter((a) => a.trackId === 0).length, 'every video frame comes out');
    const firstRun = parsed.parts[0].find((x) => x.trackId === videoId)!;
    // With B-frames libavformat delays decode times by the reorder depth so no pts precedes its dts.
    const shift = firstRun.tfdt - aus.find((a) => a.trackId === 0)!.dts * 90;
    t.ok(shift >= 0 && shift <= reorderDelayMs * 90, `publisher dts passes through as tfdt (90 kHz), shifted by ${shift / 90} ms ≤ the reorder delay ${reorderDelayMs} ms`);
  }
  if (audioId !== undefined) t.equal(counts.get(audioId), aus.filter((a) => a.trackId === 1).length, 'every audio frame comes out');
  t.equal(r.stats.written, aus.length, 'stats.written counts every AU');
  t.equal(r.stats.dropped, 0, 'nothing dropped');
  t.equal(r.stats.queued, 0, 'queue drained');

  // Numbering: msn contiguous from 1; partIndex 0.. per segment; segment starts independent.
  const parts = r.parts;
  let prev: (typeof parts)[number] | undefined;
  let numberingOk = true;
  parts.forEach((p, i) => {
    if (!prev) numberingOk &&= p.msn === 1 && p.partIndex === 0;
    else if (p.msn === prev.msn) numberingOk &&= p.partIndex === prev.partIndex + 1;
    else numberingOk &&= p.msn === prev.msn + 1 && p.partIndex === 0;
    numberingOk &&= p.segmentStart === (p.partIndex === 0);
    // segmentEnd promises what comes next: part 0 of the next MSN (or nothing: the last part).
    numberingOk &&= p.segmentEnd === (i === parts.length - 1 || parts[i + 1].msn !== p.msn);
    if (prev) numberingOk &&= prev.startMs + prev.durationMs === p.startMs;
    prev = p;
    void i;
  });
  t.ok(numberingOk, 'msn contiguous from 1, partIndex from 0 per segment, durations tile the timeline, segmentEnd on each segment\'s last part');

  const segStarts = parts.filter((p) => p.partIndex === 0);
  t.ok(segStarts.every((p) => p.independent), 'every segment starts with an independent part');
  t.ok(segStarts.every((p) => parsed.parts[parts.indexOf(p)].find((x) => x.trackId === primaryId)!.firstIsSync),
    'every segment starts with a sync sample');
  t.ok(parts.every((p, i) => p.independent === parsed.parts[i].find((x) => x.trackId === primaryId)!.firstIsSync),
    'independent = the part starts with a sync sample');
  // Segments start at the first primary keyframe at or after a multiple of the target.
  const primaryTrack = videoId !== undefined ? 0 : 1;
  const keyDts = aus.filter((a) => a.trackId === primaryTrack && a.keyframe).map((a) => a.dts);
  const offGrid = segStarts.slice(1).filter((s) => {
    const boundary = Math.floor(s.startMs / SEG_TARGET) * SEG_TARGET;
    return keyDts.some((d) => d >= boundary && d < s.startMs) || !keyDts.includes(s.startMs);
  });
  t.same(offGrid.map((s) => s.startMs), [], 'segments start at the first keyframe on or after each 2 s boundary');

  // Part durations: ≤ PART-TARGET; ≥ 0.85 × PART-TARGET unless the segment's last or an independent part.
  const tooLong = parts.filter((p) => p.durationMs > maxPartMs);
  t.same(tooLong.map((p) => `${p.msn}.${p.partIndex}=${p.durationMs}`), [], `every part ≤ ${maxPartMs} ms`);
  const tooShort = parts.filter((p, i) => {
    const lastOfSegment = i === parts.length - 1 || parts[i + 1].msn !== p.msn;
    return !lastOfSegment && !p.independent && p.durationMs < MIN_PART;
  });
  t.same(tooShort.map((p) => `${p.msn}.${p.partIndex}=${p.durationMs}`), [], `inner parts ≥ ${MIN_PART} ms`);

  // Part durationMs agrees with the media inside it (primary track), within 1 ms.
  const mismatched = parts.filter((p, i) => {
    const run = parsed.parts[i].find((x) => x.trackId === primaryId)!;
    const mediaMs = (run.durations.reduce((a, b) => a + b, 0) * 1000) / primaryTs;
    return Math.abs(mediaMs - p.durationMs) > 1;
  });
  t.same(mismatched.map((p) => `${p.msn}.${p.partIndex}`), [], 'durationMs matches the primary track samples');

  // A segment's parts sum to its span (next segment start − its start; for the last, media end).
  const lastPrimary = aus.filter((a) => a.trackId === (videoId !== undefined ? 0 : 1)).at(-1)!;
  const prevPrimary = aus.filter((a) => a.trackId === lastPrimary.trackId).at(-2)!;
  const mediaEnd = lastPrimary.dts + (lastPrimary.dts - prevPrimary.dts);
  const badSpans: string[] = [];
  segStarts.forEach((s, k) => {
    const sum = parts.filter((p) => p.msn === s.msn).reduce((a, p) => a + p.durationMs, 0);
    const span = (segStarts[k + 1]?.startMs ?? mediaEnd) - s.startMs;
    if (Math.abs(sum - span) > 1) badSpans.push(`${s.msn}: ${sum} vs ${span}`);
  });
  t.same(badSpans, [], 'segment part durations sum to the segment span');
  return parsed;
}

t.test('muxed H.264 + AAC: init, parts and the cut grid', async (t) => {
  const r = await runPipeline(fx.tracks, fx.aus);
  checkOutput(t, r, fx.aus, ['vide', 'soun']);
  const parts = r.parts;
  t.same([...new Set(parts.map((p) => p.msn))], [1, 2, 3, 4], '7 s at 2 s target → msn 1..4');
  t.same(parts.filter((p) => p.partIndex === 0).map((p) => p.startMs), [0, 2000, 4000, 6000], 'segments at 0, 2, 4, 6 s');
  t.equal(parts.filter((p) => p.msn === 1).length, 10, 'ten 200 ms parts per 2 s segment');
  t.same(parts.filter((p) => p.independent && !p.segmentStart).map((p) => p.startMs), [1000, 3000, 5000],
    'mid-segment keyframes on the part grid give independent parts');
  const parsed = parseCmaf(r.init!, parts.map((p) => p.data));
  t.ok(parsed.parts.every((runs) => runs.length === 2), 'each fragment carries both tracks (muxed A/V)');

  // A part's audio reaches its video's end: the audio frame that begins before the cut stays in
  // the part (it overhangs the cut by less than a frame) and the next part's audio starts where
  // it ends. A player buffers both tracks of a part; audio stopping short made the buffered
  // part end up to 21 ms before the video (16 ms before hls.js's segment end every fourth
  // segment at 48 kHz / 30 fps), and hls.js, after a mid-segment level switch, then stalled.
  const ids = (kind: string) => [...parsed.tracks].find(([, v]) => v.kind === kind)![0];
  const [vid, aud] = [ids('vide'), ids('soun')];
  const scale = (id: number) => parsed.tracks.get(id)!.timescale;
  const span = (runs: (typeof parsed.parts)[number], id: number) => {
    const run = runs.find((x) => x.trackId === id)!;
    return { start: run.tfdt / scale(id), end: (run.tfdt + run.durations.reduce((a, b) => a + b, 0)) / scale(id) };
  };
  const short: string[] = [];
  const gaps: string[] = [];
  for (let k = 0; k + 1 < parsed.parts.length; k++) {
    const [v, a, next] = [span(parsed.parts[k], vid), span(parsed.parts[k], aud), span(parsed.parts[k + 1], aud)];
    if (a.end < v.end - 1e-6) short.push(`part ${k}: audio ends ${((v.end - a.end) * 1000).toFixed(1)} ms before its video`);
    if (a.end - v.end > 1024 / fx.audio!.sampleRate! + 1e-6) short.push(`part ${k}: audio overhangs ${((a.end - v.end) * 1000).toFixed(1)} ms`);
    if (Math.abs(next.start - a.end) > 1e-6) gaps.push(`part ${k + 1}: audio starts ${((next.start - a.end) * 1000).toFixed(1)} ms off`);
  }
  t.same(short, [], 'every part\'s audio ends at its video\'s end or overhangs it by less than one AAC frame');
  t.same(gaps, [], 'every part\'s audio starts where the previous part\'s ended');
});

t.test('video only', async (t) => {
  const aus = fx.aus.filter((a) => a.trackId === 0);
  const r = await runPipeline([fx.video!], aus);
  checkOutput(t, r, aus, ['vide']);
  t.ok(r.parts.filter((p) => p.msn === 1).every((p, i, a) => i === a.length - 1 || p.durationMs === 200), '200 ms parts');
});

t.test('audio only: every part independent, cut on whole AAC frames within PART-TARGET', async (t) => {
  const aus = fx.aus.filter((a) => a.trackId === 1);
  const r = await runPipeline([fx.audio!], aus);
  // 1024-sample frames of 21.3 ms at 48 kHz do not divide 200 ms: nearest-frame snapping alone
  // gave 213 ms parts; the cutter now keeps 9 frames (192 ms) so every part ≤ PART-TARGET.
  checkOutput(t, r, aus, ['soun']);
  t.ok(r.parts.every((p) => p.independent), 'audio-only parts are all independent');
  t.same(r.parts.filter((p) => p.partIndex === 0).map((p) => p.msn), [1, 2, 3, 4], 'same segment numbering as video');
});

// The frame grids publishers send (issue 15): every part within PART-TARGET on each of them.
const grids: { name: string; fps: number; gop?: number; sampleRate?: number; bframes?: number; tracks: Array<'vide' | 'soun'> }[] = [
  { name: 'AAC 44.1 kHz audio only', fps: 30, sampleRate: 44100, tracks: ['soun'] },
  { name: '24 fps video', fps: 24, tracks: ['vide', 'soun'] },
  { name: '25 fps video', fps: 25, tracks: ['vide', 'soun'] },
  { name: '29.97 fps video', fps: 29.97, gop: 30, tracks: ['vide', 'soun'] },
  { name: '50 fps video', fps: 50, tracks: ['vide'] },
  { name: '60 fps video with B-frames', fps: 60, bframes: 2, tracks: ['vide', 'soun'] },
  { name: '15 fps video', fps: 15, tracks: ['vide'] },
];
for (const grid of grids) {
  t.test(`${grid.name}: parts within PART-TARGET on its frame grid`, async (t) => {
    const gfx = await makeFixture({ width: 320, height: 180, fps: grid.fps, gop: grid.gop ?? grid.fps, audio: grid.tracks.includes('soun'),
      sampleRate: grid.sampleRate, bframes: grid.bframes, durationSec: 5 });
    t.teardown(() => gfx.remove());
    const wanted = grid.tracks.includes('vide') ? gfx.tracks : [gfx.audio!];
    const ids = new Set(wanted.map((x) => x.id));
    const aus = gfx.aus.filter((a) => ids.has(a.trackId));
    const r = await runPipeline(wanted, aus);
    checkOutput(t, r, aus, [...grid.tracks], MAX_PART, Math.ceil(((grid.bframes ?? 0) * 1000) / grid.fps));
  });
}

t.test('keyframes later than the segment bound: the segment is cut without one, never longer than TARGETDURATION + 0.5 s', async (t) => {
  // A 3 s GOP on a 2 s target: before, segments grew to 4 s under TARGETDURATION 2 (TD-02).
  const sparse = await makeFixture({ width: 320, height: 180, fps: 30, gop: 90, audio: true, durationSec: 10 });
  t.teardown(() => sparse.remove());
  const r = await runPipeline(sparse.tracks, sparse.aus);
  t.same(r.errors, []);
  const segs = new Map<number, { ms: number; independent: boolean }>();
  for (const p of r.parts) {
    const s = segs.get(p.msn) ?? { ms: 0, independent: p.independent };
    s.ms += p.durationMs;
    segs.set(p.msn, s);
  }
  const spans = [...segs.values()];
  t.ok(spans.every((s) => s.ms <= LL_PROFILE.segmentMaxMs), `every segment ≤ ${LL_PROFILE.segmentMaxMs} ms (${spans.map((s) => s.ms).join(', ')})`);
  t.ok(spans.some((s) => !s.independent), 'a segment cut between keyframes does not claim to be independent');
  // Keyframes at 0, 3, 6, 9 s: each starts a segment, the cut segments between them are short.
  t.same(r.parts.filter((p) => p.partIndex === 0 && p.independent).map((p) => p.startMs), [0, 3000, 6000, 9000],
    'every keyframe after a cut starts a segment (a join point)');
  const parsed = parseCmaf(r.init!, r.parts.map((p) => p.data));
  t.equal(parsed.parts.flat().reduce((n, run) => n + run.durations.length, 0), sparse.aus.length, 'no frame lost');
  const videoId = [...parsed.tracks].find(([, v]) => v.kind === 'vide')![0];
  t.ok(r.parts.every((p, i) => p.independent === parsed.parts[i].find((x) => x.trackId === videoId)!.firstIsSync),
    'INDEPENDENT = the part starts with a sync sample');
});

t.test('±1 ms timestamp jitter still gives 6-frame parts at 30 fps', async (t) => {
  const jitter = [0, 1, -1, 1, 0, -1];
  const aus = fx.aus.filter((a) => a.trackId === 0).map((a, i) => ({
    ...a, dts: a.dts + (a.keyframe ? 0 : jitter[i % jitter.length]), pts: a.pts + (a.keyframe ? 0 : jitter[i % jitter.length]),
  }));
  const r = await runPipeline([fx.video!], aus);
  t.same(r.errors, []);
  const parsed = parseCmaf(r.init!, r.parts.map((p) => p.data));
  const frames = parsed.parts.map((runs) => runs[0].durations.length);
  t.ok(frames.slice(0, -1).every((n) => n === 6), `6 frames per part (got ${frames.join(',')})`);
  t.equal(frames.reduce((a, b) => a + b, 0), aus.length, 'no frame lost');
});

t.test('firstMsn is honoured', async (t) => {
  const aus = fx.aus.filter((a) => a.dts < 2500);
  const r = await runPipeline(fx.tracks, aus, { firstMsn: 41 });
  t.same([...new Set(r.parts.map((p) => p.msn))], [41, 42]);
});

t.test('write() does not block: muxing happens on the worker thread', async (t) => {
  const aus = fx.aus.slice(0, 300);
  const chunks: CmafChunk[] = [];
  const p = new CmafPipeline({ tracks: fx.tracks, segmentTargetMs: SEG_TARGET, partTargetMs: PART_TARGET, firstMsn: 1 },
    (c) => chunks.push(c), () => {});
  // Warm up allocation paths once so the measurement is of steady state.
  const t0 = process.hrtime.bigint();
  let ok = 0;
  for (const au of aus) if (p.write(au)) ok++;
  const writeMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const deliveredDuringWrites = chunks.length;
  await p.close();
  const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
  t.equal(ok, 300, 'all accepted');
  t.equal(deliveredDuringWrites, 0, 'no chunk delivered synchronously inside write()');
  t.ok(chunks.length > 5, 'chunks arrive afterwards');
  t.ok(writeMs < 100 * SLOW, `300 writes took ${writeMs.toFixed(2)} ms (< ${100 * SLOW} ms)`);
  t.ok(writeMs < totalMs, `writes ${writeMs.toFixed(2)} ms < write+mux ${totalMs.toFixed(2)} ms`);
  t.comment(`300 AUs: write() loop ${writeMs.toFixed(2)} ms, until last chunk ${totalMs.toFixed(2)} ms`);
});
