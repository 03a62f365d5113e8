/**
 * Test fixtures for the native pipeline: an ffmpeg-made MP4 read back with mp4box into
 * TrackInfo + AccessUnits (millisecond timestamps, as RTMP delivers them), and a parser for
 * what the pipeline produces (init + parts) that reports per-part, per-track sample facts.
 */
import { readFileSync } from 'node:fs';
import { createFile } from 'mp4box';
import { toMp4BoxBuffer } from '../../helpers/cmaf.js';
export { parseCmaf, type ParsedCmaf, type ParsedTrackRun } from '../../helpers/cmaf.js';
import type { AccessUnit, AudioTrackInfo, TrackInfo, VideoTrackInfo } from '../../../src/media/types.js';

export interface Fixture {
  video?: VideoTrackInfo;
  audio?: AudioTrackInfo;
  tracks: TrackInfo[];
  /** Interleaved by dts (video first on ties), timescale 1000. */
  aus: AccessUnit[];
}


/* eslint-disable @typescript-eslint/no-explicit-any */
export function loadMp4(path: string): Fixture {
  const buf = readFileSync(path);
  const f: any = createFile();
  f.appendBuffer(toMp4BoxBuffer(buf, 0));
  f.flush();
  const fx: Fixture = { tracks: [], aus: [] };
  const aus: Array<AccessUnit & { order: number }> = [];
  for (const trak of f.moov.traks) {
    const entry = trak.mdia.minf.stbl.stsd.entries[0];
    const ts: number = trak.mdia.mdhd.timescale;
    let trackId: number;
    if (entry.avcC) {
      const b = entry.avcC;
      trackId = 0;
      fx.video = {
        kind: 'video', id: 0, codec: 'h264', timescale: 1000,
        codecConfig: Buffer.from(buf.subarray(b.start + b.hdr_size, b.start + b.size)),
        width: entry.width, height: entry.height, frameRate: 30,
      };
    } else if (entry.esds) {
      const asc: Uint8Array = entry.esds.esd.findDescriptor(4).findDescriptor(5).data;
      trackId = 1;
      fx.audio = {
        kind: 'audio', id: 1, codec: 'aac', timescale: 1000,
        codecConfig: Buffer.from(asc), sampleRate: entry.samplerate, channels: entry.channel_count,
      };
    } else continue;
    for (const s of trak.samples) {
      const dts = Math.round((s.dts * 1000) / ts);
      const pts = Math.round((s.cts * 1000) / ts);
      aus.push({
        trackId, dts, pts, keyframe: trackId === 1 ? true : !!s.is_sync,
        data: Buffer.from(buf.subarray(s.offset, s.offset + s.size)), order: trackId,
      });
    }
  }
  aus.sort((a, b) => a.dts - b.dts || a.order - b.order);
  fx.aus = aus.map(({ order: _o, ...au }) => au);
  if (fx.video) fx.tracks.push(fx.video);
  if (fx.audio) fx.tracks.push(fx.audio);
  return fx;
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestFile, type TestSourceOptions } from '../../helpers/ffmpeg.js';
import { CmafPipeline, type CmafPipelineOptions, type NativeError } from '../../../src/addon/cmaf-pipeline.js';
import type { CmafChunk, CmafPart } from '../../../src/media/types.js';
import { latencyProfile } from '../../../src/media/latency-profile.js';

/** Makes an MP4 with ffmpeg in a fresh temp dir and loads it; remove() deletes the dir. */
export async function makeFixture(o: TestSourceOptions & { durationSec: number }): Promise<Fixture & { remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-addon-'));
  const file = join(dir, 'src.mp4');
  await makeTestFile(file, o);
  const fx = loadMp4(file);
  // What RTMP's onMetaData announces: the cutter takes the frame duration from it.
  if (fx.video) fx.video.frameRate = o.fps ?? 30;
  return { ...fx, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * For a test file: a fixture made before its tests and an empty temp dir, both removed at its
 * end. Read `fx` and `root` inside the tests (they are set once t.before has run).
 */
export function fixtureAndDir(t: { before(fn: () => Promise<void>): void; teardown(fn: () => void): void },
  o: TestSourceOptions & { durationSec: number }, dirPrefix: string): { readonly fx: Fixture; readonly root: string } {
  let fx: (Fixture & { remove(): void }) | undefined;
  let root: string | undefined;
  t.before(async () => {
    fx = await makeFixture(o);
    root = mkdtempSync(join(tmpdir(), dirPrefix));
  });
  t.teardown(() => { fx?.remove(); if (root) rmSync(root, { recursive: true, force: true }); });
  return { get fx() { return fx!; }, get root() { return root!; } };
}

export interface RunResult {
  init?: Buffer;
  parts: CmafPart[];
  chunks: CmafChunk[];
  errors: NativeError[];
  accepted: number;
  refused: number;
  stats: { queued: number; dropped: number; written: number };
}

/** The ultra-low defaults as the channel passes them: 200 ms parts kept within [0.85, 1] × PART-TARGET 0.21 s. */
export const LL_PROFILE = latencyProfile('ultra-low', { segmentTargetSec: 2, partTargetSec: 0.2, playlistWindowSec: 12, minSegments: 6 });
export const LL_OPTIONS = {
  segmentTargetMs: 2000, partTargetMs: 200, partMaxMs: LL_PROFILE.partMaxMs!, partMinMs: LL_PROFILE.partMinMs!,
  segmentMaxMs: LL_PROFILE.segmentMaxMs, firstMsn: 1,
} as const;

/** Feeds all access units, closes, and collects what came out. */
export async function runPipeline(
  tracks: TrackInfo[],
  aus: AccessUnit[],
  extra: Partial<CmafPipelineOptions> = {},
): Promise<RunResult> {
  const r: RunResult = { parts: [], chunks: [], errors: [], accepted: 0, refused: 0, stats: { queued: 0, dropped: 0, written: 0 } };
  const p = new CmafPipeline({ tracks, ...LL_OPTIONS, ...extra }, (c) => {
    r.chunks.push(c);
    if (c.kind === 'init') r.init = c.data;
    else r.parts.push(c);
  }, (e) => r.errors.push(e));
  for (const au of aus) {
    if (p.write(au)) r.accepted++;
    else r.refused++;
  }
  await p.close();
  r.stats = p.stats();
  return r;
}
