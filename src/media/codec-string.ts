import type { TrackInfo } from './types.js';
/**
 * RFC 6381 codec strings for the CODECS attribute, read from the codec configuration the
 * publisher sent, so they are exact rather than guessed.
 */

/** "avc1.PPCCLL" from an AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1). */
export function avcCodecString(avcC: Buffer): string {
  if (avcC.length < 4 || avcC[0] !== 1) throw new Error('not an AVCDecoderConfigurationRecord');
  const hex = (b: number) => b.toString(16).padStart(2, '0');
  return `avc1.${hex(avcC[1])}${hex(avcC[2])}${hex(avcC[3])}`;
}

/** "mp4a.40.N" from an MPEG-4 AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1). */
export function aacCodecString(asc: Buffer): string {
  if (asc.length < 2) throw new Error('AudioSpecificConfig too short');
  let aot = asc[0] >> 3;
  if (aot === 31) aot = 32 + (((asc[0] & 0x07) << 3) | (asc[1] >> 5));
  return `mp4a.40.${aot}`;
}

/** The RFC 6381 CODECS entries of a rendition's tracks, in track order. */
export function codecStrings(tracks: readonly TrackInfo[]): string[] {
  return tracks.map((t) => (t.kind === 'video' ? avcCodecString(t.codecConfig) : aacCodecString(t.codecConfig)));
}
