import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A track's bit rate in a file, read from its packets (not from the encoder's setting). */
export interface TrackBitrate {
  /** Bits/s over the whole file. */
  average: number;
  /** The lowest and highest bits/s over any `windowSec` of the file: what a meter of that window may read. */
  windowMin: number;
  windowMax: number;
}

/**
 * The video and audio bit rates of a media file by ffprobe, over the file and over every
 * `windowSec` window (sliding by 0.1 s, across the loop point): a publisher looping the file
 * sends exactly these.
 */
export async function fileBitrates(file: string, windowSec = 10): Promise<{ video?: TrackBitrate; audio?: TrackBitrate }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'packet=codec_type,dts_time,size', '-of', 'csv=p=0', file],
    { maxBuffer: 64 * 1024 * 1024 });
  const packets = { video: [] as { t: number; bytes: number }[], audio: [] as { t: number; bytes: number }[] };
  for (const line of stdout.split('\n')) {
    const [type, t, size] = line.split(',');
    if ((type === 'video' || type === 'audio') && t !== 'N/A') packets[type].push({ t: Number(t), bytes: Number(size) });
  }
  const out: { video?: TrackBitrate; audio?: TrackBitrate } = {};
  for (const kind of ['video', 'audio'] as const) {
    const p = packets[kind].sort((a, b) => a.t - b.t);
    if (p.length < 2) continue;
    const span = p[p.length - 1].t - p[0].t;
    const total = p.reduce((s, x) => s + x.bytes, 0);
    // A looped file is periodic: windows across the loop point see its end and its start again.
    const period = span + (p[p.length - 1].t - p[p.length - 2].t);
    const looped = [...p, ...p.map((x) => ({ t: x.t + period, bytes: x.bytes }))];
    let windowMin = Infinity, windowMax = 0;
    for (let start = p[0].t; start < p[0].t + period; start += 0.1) {
      const bytes = looped.filter((x) => x.t >= start && x.t < start + windowSec).reduce((s, x) => s + x.bytes, 0);
      windowMin = Math.min(windowMin, (bytes * 8) / windowSec);
      windowMax = Math.max(windowMax, (bytes * 8) / windowSec);
    }
    out[kind] = { average: (total * 8) / span, windowMin, windowMax };
  }
  return out;
}
