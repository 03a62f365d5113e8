import { Channel } from '../../src/media/channel.js';
import { latencyProfile, type LatencyMode } from '../../src/media/latency-profile.js';
import type { TrackInfo } from '../../src/media/types.js';
import { silentLogger } from '../../src/log.js';
import type { OriginRequest } from '../../src/delivery/types.js';
import { manualPipeline } from './manual-pipeline.js';
import type { ChannelArchive } from '../../src/store/archive/channel-archive.js';

/** avcC for High profile level 3.1 and an AAC-LC stereo 48 kHz AudioSpecificConfig. */
export const TRACKS: TrackInfo[] = [
  { kind: 'video', id: 0, codec: 'h264', timescale: 1000, codecConfig: Buffer.from([1, 0x64, 0x00, 0x1f, 0xff, 0xe0]), width: 1280, height: 720, frameRate: 30 },
  { kind: 'audio', id: 1, codec: 'aac', timescale: 1000, codecConfig: Buffer.from([0x11, 0x90]), sampleRate: 48000, channels: 2 },
];

/**
 * A real Channel and Publication whose native pipeline is replaced by a hand the test drives:
 * the packager and delivery are exercised exactly as in production, minus libav.
 */
export function fakeChannel(mode: LatencyMode = 'ultra-low',
  settings: { segmentTargetSec?: number; partTargetSec?: number | null; archive?: ChannelArchive; dvrWindowMs?: number } = {}) {
  const defaults = { normal: [6, null], low: [2, null], 'ultra-low': [2, 0.2] } as const;
  const profile = latencyProfile(mode, {
    segmentTargetSec: settings.segmentTargetSec ?? defaults[mode][0],
    partTargetSec: settings.partTargetSec !== undefined ? settings.partTargetSec : defaults[mode][1],
    playlistWindowSec: 20, minSegments: 6,
  });
  const partMs = (profile.partTargetSec ?? profile.segmentTargetSec) * 1000;
  const pipe = manualPipeline({ partMs, perSegment: Math.round(profile.segmentTargetSec * 1000 / partMs) });
  const channel = new Channel({ id: 'test', profile, reconnectWindowMs: 50, endedRetentionMs: 100,
    createPipeline: pipe.factory, logger: silentLogger(), archive: settings.archive, dvrWindowMs: settings.dvrWindowMs });
  const pub = channel.startPublication('127.0.0.1');
  pub.setTracks(TRACKS);
  pipe.init(Buffer.from('INIT'));
  return {
    channel, pub, profile,
    firstMsn: pipe.firstMsn,
    /** Emits the next part (a new segment every perSegment parts); returns its (msn, index). */
    part: (bytes = 100) => pipe.part(bytes),
    /** Emits an init segment (after a restart of the pipeline: a codec change, an input switch). */
    init: (data: Buffer) => pipe.init(data),
    parts(n: number) { const out = []; for (let i = 0; i < n; i++) out.push(pipe.part()); return out; },
  };
}

/** A request as an adapter would build it. */
export function request(path: string, o: { method?: string; headers?: Record<string, string>; signal?: AbortSignal;
  remoteAddress?: string; protocol?: 'h1' | 'h2' } = {}): OriginRequest {
  const q = path.indexOf('?');
  const headers = Object.fromEntries(Object.entries(o.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return { method: o.method ?? 'GET', path: q >= 0 ? path.slice(0, q) : path, query: q >= 0 ? path.slice(q + 1) : '',
    header: (n) => headers[n], signal: o.signal ?? new AbortController().signal, remoteAddress: o.remoteAddress, protocol: o.protocol };
}

export async function bodyText(body: unknown): Promise<string> {
  if (body === undefined) return '';
  if (Buffer.isBuffer(body)) return body.toString();
  if (Array.isArray(body)) return Buffer.concat(body).toString();
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString();
}
