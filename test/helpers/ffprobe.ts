import { spawn } from 'node:child_process';
import { once } from 'node:events';

/** A media file's real data rate per stream, in bits per second: what its packets hold, not what the encoder was asked for. */
export interface FileBitrates {
  video: number;
  audio: number;
  total: number;
}

/** Sums every packet's size per stream (ffprobe) over the stream's span of presentation time. */
export async function fileBitrates(file: string): Promise<FileBitrates> {
  const p = spawn('ffprobe', ['-v', 'error', '-show_entries', 'stream=index,codec_type:packet=stream_index,size,pts_time,duration_time',
    '-of', 'json', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  p.stdout!.on('data', (d) => { out += d; });
  p.stderr!.on('data', (d) => { err += d; });
  const [code] = await once(p, 'exit');
  if (code !== 0) throw new Error(`ffprobe exited ${code}: ${err}`);
  const probe = JSON.parse(out) as {
    streams: { index: number; codec_type: string }[];
    packets: { stream_index: number; size: string; pts_time: string; duration_time: string }[];
  };
  const rate = (kind: string) => {
    const index = probe.streams.find((s) => s.codec_type === kind)?.index;
    const packets = probe.packets.filter((k) => k.stream_index === index);
    if (packets.length === 0) return 0;
    const bytes = packets.reduce((s, k) => s + Number(k.size), 0);
    const start = Math.min(...packets.map((k) => Number(k.pts_time)));
    const end = Math.max(...packets.map((k) => Number(k.pts_time) + Number(k.duration_time)));
    return (bytes * 8) / (end - start);
  };
  const video = rate('video'), audio = rate('audio');
  return { video, audio, total: video + audio };
}
