/**
 * Our side of bench/transcode.ts, in a process of its own so that its CPU (and, under
 * callgrind, its instruction count) holds the ladder's work and nothing of the bench's:
 *
 *   node dist/bench/transcode-ours.js --file SRC --channels N --ladder 720p/480p/360p --preset veryfast [--dry]
 *
 * Demuxes SRC with mp4box, then writes it at once into N CmafPipelines with the ladder (N
 * channels transcoding side by side, as N ffmpeg processes do on the other side) and waits for
 * all of them to finish. Prints one `RESULT {...}` line: wall and CPU (user + sys) of the work
 * alone (the demux before the clock), frames encoded per rung, dropped counts.
 * --dry stops after the demux: what node's start and the demux cost, which the instruction
 * count of a real run has on top of the ladder's work.
 */
import { flags } from './common.js';
import { loadMp4 } from '../test/unit/addon/fixtures.js';
import { CmafPipeline, type LadderOptions } from '../src/addon/cmaf-pipeline.js';
import { fitLadder, resolveLadder } from '../src/media/transcode/ladder.js';
import type { VideoTrackInfo } from '../src/media/types.js';

const opts = flags({ file: '', channels: 1, ladder: '720p/480p/360p', preset: 'veryfast', partTargetMs: 200, dry: false });

export interface OursResult { wallMs: number; cpuMs: number; encodedPerRung: number[]; dropped: number; outBytes: number }

async function main(): Promise<void> {
  if (!opts.file) throw new Error('--file is required');
  const fx = loadMp4(opts.file);
  if (opts.dry) {
    process.stdout.write(`RESULT ${JSON.stringify({ dry: true, aus: fx.aus.length })}\n`);
    return;
  }
  const source = fx.tracks.find((t): t is VideoTrackInfo => t.kind === 'video')!;
  const ladder: LadderOptions = {
    rungs: fitLadder(resolveLadder(opts.ladder)!, { ...source, frameRate: 30 }), preset: opts.preset, encoderThreads: 1, decoderThreads: 1,
  };
  let outBytes = 0;
  const cpu0 = process.cpuUsage(), t0 = performance.now();
  const stats = await Promise.all(Array.from({ length: opts.channels }, async () => {
    // The file goes in at once: the input queues hold it all and the decoder waits for the
    // encoders (offline mode, 4 frames ahead at most, as ffmpeg's lockstep). Nothing may be
    // dropped, or the run would do less work than ffmpeg's (checked below). (With unbounded
    // frame queues instead, the decoder ran ahead and its frame pool grew by a zeroed 3 MB
    // buffer per frame: 75 % of the process's page faults, ~4 % of its CPU.)
    const p = new CmafPipeline({ tracks: fx.tracks, segmentTargetMs: 2000, partTargetMs: opts.partTargetMs, firstMsn: 1, maxQueue: 1e6,
      ladder: { ...ladder, maxInputQueue: 1e6, waitWhenBehind: true } }, (c) => { outBytes += c.data.length; }, (e) => { throw e; });
    for (const au of fx.aus) p.write(au);
    await p.close();
    return p.stats();
  }));
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  let dropped = 0;
  for (const st of stats) {
    dropped += st.dropped + (st.decoderDropped ?? 0) + (st.rungs ?? []).reduce((a, r) => a + r.dropped, 0);
    if (st.written !== fx.aus.length) dropped += fx.aus.length - st.written;
  }
  if (dropped > 0) throw new Error(`the run lost work (${dropped} AUs or frames): ${JSON.stringify(stats)}`);
  const result: OursResult = { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, encodedPerRung: (stats[0].rungs ?? []).map((r) => r.encoded), dropped, outBytes };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

main().catch((e) => { console.error(e); process.exit(1); });
