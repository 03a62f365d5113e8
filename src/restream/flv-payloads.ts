import { Amf0EcmaArray, encodeAmf0 } from '../ingest/rtmp/amf0.js';
import type { AudioTrackInfo, TrackInfo, VideoTrackInfo } from '../media/types.js';

/**
 * RTMP audio (8), video (9) and data (18) message bodies: FLV tag bodies, the form a publisher
 * sends (the inverse of ingest/rtmp/flv.ts). AVCC NAL units and raw AAC frames go in as the
 * AccessUnits carry them; only the FLV tag's own header bytes are added.
 */

/** FLV VideoTagHeader for H.264: frame type (1 key, 2 inter) and codec id 7. */
const AVC_KEY = 0x17, AVC_INTER = 0x27;
/** FLV AudioTagHeader for AAC: format 10, and the fixed 44 kHz / 16 bit / stereo flags AAC requires. */
const AAC = 0xaf;

export function videoConfigBody(v: VideoTrackInfo): Buffer {
  return Buffer.concat([Buffer.from([AVC_KEY, 0, 0, 0, 0]), v.codecConfig]);
}

/** One H.264 access unit; ctsMs is pts − dts in milliseconds (a signed 24-bit field). */
export function videoFrameBody(data: Buffer, keyframe: boolean, ctsMs: number): Buffer {
  const head = Buffer.allocUnsafe(5);
  head[0] = keyframe ? AVC_KEY : AVC_INTER;
  head[1] = 1;
  head.writeIntBE(Math.max(-0x800000, Math.min(0x7fffff, Math.round(ctsMs))), 2, 3);
  return Buffer.concat([head, data]);
}

export function audioConfigBody(a: AudioTrackInfo): Buffer {
  return Buffer.concat([Buffer.from([AAC, 0]), a.codecConfig]);
}

export function audioFrameBody(data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([AAC, 1]), data]);
}

/** `@setDataFrame onMetaData`, which services such as YouTube read the stream's shape from. */
export function metadataBody(tracks: readonly TrackInfo[]): Buffer {
  const meta: Record<string, number | string | boolean> = { encoder: 'Sigma Live restream' };
  for (const t of tracks) {
    if (t.kind === 'video') Object.assign(meta, { width: t.width, height: t.height, videocodecid: 7, ...(t.frameRate > 0 ? { framerate: t.frameRate } : {}) });
    else Object.assign(meta, { audiocodecid: 10, audiosamplerate: t.sampleRate, audiochannels: t.channels, stereo: t.channels > 1 });
  }
  return encodeAmf0('@setDataFrame', 'onMetaData', new Amf0EcmaArray(meta));
}
