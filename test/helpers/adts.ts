/**
 * Raw AAC frames plus their AudioSpecificConfig as an ADTS stream (ISO/IEC 13818-7 §6.2), the
 * form ffmpeg and ffprobe read without a container.
 */

export interface AscInfo { objectType: number; freqIndex: number; sampleRate: number; channelConfig: number }

const RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000];

/** The first fields of an AudioSpecificConfig (no escape codes: object types < 31, indexed rates). */
export function parseAsc(asc: Buffer): AscInfo {
  const objectType = asc[0] >> 3;
  const freqIndex = ((asc[0] & 7) << 1) | (asc[1] >> 7);
  return { objectType, freqIndex, sampleRate: RATES[freqIndex] ?? 0, channelConfig: (asc[1] >> 3) & 0xf };
}

export function toAdts(asc: Buffer, frames: Buffer[]): Buffer {
  const { objectType, freqIndex, channelConfig } = parseAsc(asc);
  return Buffer.concat(frames.flatMap((f) => {
    const len = f.length + 7;
    const h = Buffer.from([
      0xff, 0xf1, // sync, MPEG-4, layer 0, no CRC
      ((objectType - 1) << 6) | (freqIndex << 2) | (channelConfig >> 2),
      ((channelConfig & 3) << 6) | (len >> 11),
      (len >> 3) & 0xff,
      ((len & 7) << 5) | 0x1f, // buffer fullness 0x7ff (VBR)
      0xfc, // ... and one raw data block
    ]);
    return [h, f];
  }));
}
