import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { initTracks, partSamples } from '../../../src/restream/cmaf-samples.js';
import { makeTestFile } from '../../helpers/ffmpeg.js';

const run = promisify(execFile);

/**
 * A rung is pushed over RTMP from the CMAF the pipeline cut: what cmaf-samples reads back from a
 * fragmented MP4 must be every packet ffprobe sees in it, with its size, timestamps and keyframe
 * flag, and the tracks' codec configuration as the file declares it.
 */
t.test('init tracks and part samples read back what ffprobe reads from the same fragmented MP4 (B-frames, AAC)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sigma-cmaf-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const flv = join(dir, 'src.flv'), mp4 = join(dir, 'frag.mp4');
  await makeTestFile(flv, { durationSec: 3, fps: 30, gop: 30, bframes: 2, audio: true, sampleRate: 44100 });
  await run('ffmpeg', ['-hide_banner', '-v', 'error', '-i', flv, '-c', 'copy', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-y', mp4]);
  const file = readFileSync(mp4);
  const firstMoof = file.indexOf('moof') - 4;
  const tracks = initTracks(file.subarray(0, firstMoof));
  t.match(tracks, [
    { kind: 'video', id: 1, codec: 'h264', width: 640, height: 360 },
    { kind: 'audio', id: 2, codec: 'aac', sampleRate: 44100, channels: 2 },
  ]);
  t.equal(tracks[0].codecConfig[0], 1, 'avcC (configurationVersion 1)');
  const asc = tracks[1].codecConfig;
  t.same([asc[0] >> 3, ((asc[0] & 7) << 1) | (asc[1] >> 7), (asc[1] >> 3) & 15], [2, 4, 2], 'AudioSpecificConfig: AAC-LC, 44.1 kHz, stereo');

  const samples = partSamples(file.subarray(firstMoof));
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'packet=stream_index,pts,dts,size,flags', '-of', 'json', mp4]);
  const packets = (JSON.parse(stdout).packets as { stream_index: number; pts: number; dts: number; size: string; flags: string }[]);
  for (const [index, track] of tracks.entries()) {
    const mine = samples.filter((s) => s.trackId === track.id);
    const theirs = packets.filter((p) => p.stream_index === index);
    t.equal(mine.length, theirs.length, `${track.kind}: ${mine.length} samples, as ffprobe counts`);
    t.same(mine.map((s) => s.data.length), theirs.map((p) => Number(p.size)), `${track.kind}: sizes`);
    t.same(mine.map((s) => s.keyframe), theirs.map((p) => p.flags.startsWith('K')), `${track.kind}: keyframes`);
    // ffprobe shifts timestamps by the edit list; the distances between them are the file's own.
    const d0 = theirs[0].dts - mine[0].dts;
    t.same(mine.map((s) => [s.dts + d0, s.pts + d0]), theirs.map((p) => [p.dts, p.pts]), `${track.kind}: dts and pts`);
  }
  t.ok(samples.some((s) => s.pts !== s.dts), 'B-frames: composition offsets read');
  t.throws(() => partSamples(Buffer.from([0, 0, 0, 99, 0x6d, 0x6f, 0x6f, 0x66])), /runs past/, 'a truncated box is an error, not a crash');
});
