/**
 * Issue 16: what the ingest figures cost per channel (src/ingest/ingest-meter.ts).
 *
 *   node dist/bench/ingest-meter.js [--seconds 600] [--channels 100]
 *
 * In one process, no sockets: a 30 fps video + 48 kHz AAC stream (77 frames a second) is fed
 * through IngestMeter.frame on a simulated clock, `seconds` of it per channel for `channels`
 * channels, and a snapshot is read every second per channel (what /metrics at 1 s and the alert
 * rules ask for). Reported: ns per frame, µs per snapshot, CPU per channel-second of media
 * (as a share of one core) and the heap each meter keeps.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { flags, machine, median, report, round } from './common.js';
import { IngestMeter } from '../src/ingest/ingest-meter.js';
import { TRACKS } from '../test/helpers/fake-channel.js';

const opts = flags({ seconds: 600, channels: 100 });
const ROUNDS = 5;

/** One second of media as it arrives: 30 video frames (one keyframe a second) and 47 audio frames, by arrival time. */
function secondOfFrames(sec: number) {
  const out: { at: number; trackId: number; dts: number; keyframe: boolean; data: Buffer }[] = [];
  const video = Buffer.alloc(4000), audio = Buffer.alloc(300);
  for (let i = 0; i < 30; i++) out.push({ at: sec * 1000 + (i * 1000) / 30, trackId: 0, dts: sec * 1000 + Math.round((i * 1000) / 30), keyframe: i === 0, data: video });
  for (let i = 0; i < 47; i++) out.push({ at: sec * 1000 + (i * 1024 * 1000) / 48000, trackId: 1, dts: sec * 1000 + Math.round((i * 1024 * 1000) / 48000), keyframe: true, data: audio });
  return out.sort((a, b) => a.at - b.at);
}

function round1() {
  let now = 0;
  const clock = () => now;
  const meters = Array.from({ length: opts.channels }, () => new IngestMeter(clock));
  for (const m of meters) { m.startSession('127.0.0.1', false); m.setTracks(TRACKS); }
  const seconds = Array.from({ length: 10 }, (_, s) => secondOfFrames(s));
  let frameNs = 0, frames = 0, snapNs = 0, snaps = 0;
  for (let s = 0; s < opts.seconds; s++) {
    const batch = seconds[s % 10];
    for (const m of meters) {
      const t0 = process.hrtime.bigint();
      for (const f of batch) {
        now = s * 1000 + (f.at % 1000);
        m.frame({ trackId: f.trackId, dts: s * 1000 + (f.dts % 1000), pts: s * 1000 + (f.dts % 1000), keyframe: f.keyframe, data: f.data });
      }
      frameNs += Number(process.hrtime.bigint() - t0);
      frames += batch.length;
    }
    now = (s + 1) * 1000;
    const t1 = process.hrtime.bigint();
    for (const m of meters) m.snapshot({ queued: 0, dropped: 0 });
    snapNs += Number(process.hrtime.bigint() - t1);
    snaps += meters.length;
  }
  return { nsPerFrame: frameNs / frames, usPerSnapshot: snapNs / snaps / 1000, framesPerSecond: seconds[0].length };
}

/** A full collection, so the heap figures count what is kept, not garbage (works without --expose-gc). */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapPerMeter(): number {
  const n = 10_000;
  gc();
  const before = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const meters = Array.from({ length: n }, () => new IngestMeter());
  for (const m of meters) { m.startSession('127.0.0.1', false); m.setTracks(TRACKS); }
  let now = Date.now();
  for (const m of meters) for (let i = 0; i < 200; i++) m.frame({ trackId: i % 2, dts: now + i * 10, pts: now + i * 10, keyframe: i % 60 === 0, data: Buffer.alloc(1) });
  gc();
  const after = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  now = meters.length; // keep them alive until measured
  return Math.round((after - before) / n);
}

const rounds = Array.from({ length: ROUNDS }, round1);
const nsPerFrame = round(median(rounds.map((r) => r.nsPerFrame)), 1);
const usPerSnapshot = round(median(rounds.map((r) => r.usPerSnapshot)), 2);
const fps = rounds[0].framesPerSecond;
// Per channel-second: 77 frames and one snapshot.
const cpuUsPerChannelSecond = round((nsPerFrame * fps) / 1000 + usPerSnapshot, 2);
const result = {
  machine: machine(), channels: opts.channels, seconds: opts.seconds, rounds: ROUNDS,
  nsPerFrame, usPerSnapshot, framesPerSecond: fps, cpuUsPerChannelSecond,
  coreSharePerChannel: round(cpuUsPerChannelSecond / 1e6, 8), heapBytesPerMeter: heapPerMeter(),
};
process.stdout.write(`ingest meter: ${nsPerFrame} ns per frame, ${usPerSnapshot} µs per snapshot; ` +
  `${cpuUsPerChannelSecond} µs of CPU per channel-second (${fps} frames + 1 snapshot) = ${round(cpuUsPerChannelSecond / 1e4, 4)} % of a core; ` +
  `${result.heapBytesPerMeter} bytes per meter\n`);
report('ingest-meter', result);
