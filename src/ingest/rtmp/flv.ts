import type { AccessUnit } from '../../media/types.js';
import { parseAudioSpecificConfig, type AacConfig } from '../codecs/aac.js';
import { parseAvcConfig, parseSps, type AvcConfig, type SpsInfo } from '../codecs/sps.js';
import { AUDIO_TRACK_ID, VIDEO_TRACK_ID } from '../codecs/track-ids.js';
import { CodecError } from '../codecs/errors.js';
import { RtmpProtocolError } from './errors.js';

export { AUDIO_TRACK_ID, VIDEO_TRACK_ID };

/** A configuration the codec parsers refuse is an RTMP protocol error ('codec'): the connection closes. */
function asProtocolError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof CodecError) throw new RtmpProtocolError('codec', err.reason);
    throw err;
  }
}

const ACCEPTS = 'this origin accepts H.264 + AAC';

/** FLV VIDEODATA CodecID (FLV spec E.4.3.1; 12 and 13 are the pre-"enhanced RTMP" community ids). */
const VIDEO_CODECS: Record<number, string> = {
  1: 'JPEG', 2: 'Sorenson H.263', 3: 'Screen video', 4: 'On2 VP6', 5: 'On2 VP6 with alpha',
  6: 'Screen video v2', 7: 'AVC', 12: 'HEVC', 13: 'AV1',
};
/** FLV AUDIODATA SoundFormat (FLV spec E.4.2.1). */
const AUDIO_FORMATS: Record<number, string> = {
  0: 'linear PCM, platform endian', 1: 'ADPCM', 2: 'MP3', 3: 'linear PCM, little endian',
  4: 'Nellymoser 16 kHz', 5: 'Nellymoser 8 kHz', 6: 'Nellymoser', 7: 'G.711 A-law',
  8: 'G.711 mu-law', 10: 'AAC', 11: 'Speex', 13: 'Opus (legacy id)', 14: 'MP3 8 kHz', 15: 'device-specific sound',
};
/** Enhanced RTMP FourCCs (veovera enhanced-rtmp v1/v2). */
const FOURCC_NAMES: Record<string, string> = {
  hvc1: 'HEVC', av01: 'AV1', vp09: 'VP9', avc1: 'H.264 over enhanced RTMP',
  Opus: 'Opus', fLaC: 'FLAC', 'ac-3': 'AC-3', 'ec-3': 'E-AC-3', '.mp3': 'MP3', mp4a: 'AAC over enhanced RTMP',
};

function fourCC(payload: Buffer): string {
  return payload.length >= 5 ? payload.toString('latin1', 1, 5) : '?';
}

export type VideoTagResult =
  /** AVC sequence header: the avcC record and what its first SPS says. */
  | { kind: 'config'; codecConfig: Buffer; avc: AvcConfig; sps: SpsInfo }
  | { kind: 'frame'; au: AccessUnit }
  /** AVC end of sequence, video info/command frames, empty tags: nothing to forward. */
  | { kind: 'skip'; what: string }
  | { kind: 'unsupported'; reason: string };

export type AudioTagResult =
  | { kind: 'config'; codecConfig: Buffer; aac: AacConfig }
  | { kind: 'frame'; au: AccessUnit }
  | { kind: 'skip'; what: string }
  | { kind: 'unsupported'; reason: string };

/**
 * Turns an RTMP video message (an FLV VIDEODATA tag body) into an AccessUnit or a sequence
 * header. `dts` is the message timestamp (ms). Throws RtmpProtocolError on a malformed AVC
 * tag; returns `unsupported` for codecs this origin does not carry.
 */
export function parseVideoTag(payload: Buffer, dts: number): VideoTagResult {
  if (payload.length === 0) return { kind: 'skip', what: 'empty video tag' };
  const b0 = payload[0];
  if (b0 & 0x80) {
    // Enhanced RTMP: IsExHeader bit, then a FourCC names the codec.
    const cc = fourCC(payload);
    return { kind: 'unsupported', reason: `unsupported video codec FourCC '${cc}' (${FOURCC_NAMES[cc] ?? 'enhanced RTMP'}); ${ACCEPTS}` };
  }
  const frameType = b0 >> 4;
  const codecId = b0 & 0x0f;
  if (codecId !== 7) {
    return { kind: 'unsupported', reason: `unsupported video codec id ${codecId} (${VIDEO_CODECS[codecId] ?? 'unknown'}); ${ACCEPTS}` };
  }
  // Frame type 5 is a "video info/command frame" (seek markers), not media.
  if (frameType === 5) return { kind: 'skip', what: 'video info/command frame' };
  if (payload.length < 5) return { kind: 'skip', what: 'AVC tag shorter than its 5-byte header' };
  const packetType = payload[1];
  if (packetType === 0) {
    const codecConfig = payload.subarray(5);
    const avc = asProtocolError(() => parseAvcConfig(codecConfig));
    if (avc.sps.length === 0) return { kind: 'unsupported', reason: 'AVC sequence header without an SPS' };
    return { kind: 'config', codecConfig, avc, sps: asProtocolError(() => parseSps(avc.sps[0])) };
  }
  if (packetType === 2) return { kind: 'skip', what: 'AVC end of sequence' };
  if (packetType !== 1) return { kind: 'skip', what: `AVC packet type ${packetType}` };
  // CompositionTime: SI24, in ms (FLV spec E.4.3.2).
  const cto = payload.readIntBE(2, 3);
  const data = payload.subarray(5);
  if (data.length === 0) return { kind: 'skip', what: 'empty AVC frame' };
  return { kind: 'frame', au: { trackId: VIDEO_TRACK_ID, dts, pts: dts + cto, keyframe: frameType === 1, data } };
}

/**
 * Turns an RTMP audio message (an FLV AUDIODATA tag body) into an AccessUnit or the AAC
 * AudioSpecificConfig. Every AAC frame is a sync sample, hence keyframe = true.
 */
export function parseAudioTag(payload: Buffer, dts: number): AudioTagResult {
  if (payload.length === 0) return { kind: 'skip', what: 'empty audio tag' };
  const format = payload[0] >> 4;
  if (format === 9) {
    const cc = fourCC(payload);
    return { kind: 'unsupported', reason: `unsupported audio codec FourCC '${cc}' (${FOURCC_NAMES[cc] ?? 'enhanced RTMP'}); ${ACCEPTS}` };
  }
  if (format !== 10) {
    return { kind: 'unsupported', reason: `unsupported audio format ${format} (${AUDIO_FORMATS[format] ?? 'unknown'}); ${ACCEPTS}` };
  }
  if (payload.length < 2) return { kind: 'skip', what: 'AAC tag shorter than its 2-byte header' };
  if (payload[1] === 0) {
    const codecConfig = payload.subarray(2);
    return { kind: 'config', codecConfig, aac: asProtocolError(() => parseAudioSpecificConfig(codecConfig)) };
  }
  const data = payload.subarray(2);
  if (data.length === 0) return { kind: 'skip', what: 'empty AAC frame' };
  return { kind: 'frame', au: { trackId: AUDIO_TRACK_ID, dts, pts: dts, keyframe: true, data } };
}
