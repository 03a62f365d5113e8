import { CodecError } from './errors.js';

/** Facts from an MPEG-4 AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1). */
export interface AacConfig {
  /** Audio object type: 2 = AAC-LC, 5 = SBR (HE-AAC), 29 = PS (HE-AACv2). */
  audioObjectType: number;
  /** Sampling rate of the core coder, Hz. */
  sampleRate: number;
  channels: number;
}

/** ISO/IEC 14496-3 Table 1.16, samplingFrequencyIndex → Hz. */
export const AAC_SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

function fail(reason: string): never {
  throw new CodecError(reason);
}

/** Parses the leading fields of an AudioSpecificConfig. Throws CodecError when malformed. */
export function parseAudioSpecificConfig(asc: Buffer): AacConfig {
  let bit = 0;
  const u = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++, bit++) {
      if (bit >> 3 >= asc.length) fail(`AudioSpecificConfig truncated (${asc.length} bytes)`);
      v = v * 2 + ((asc[bit >> 3] >> (7 - (bit & 7))) & 1);
    }
    return v;
  };
  let audioObjectType = u(5);
  if (audioObjectType === 31) audioObjectType = 32 + u(6);
  const freqIndex = u(4);
  let sampleRate: number;
  if (freqIndex === 15) sampleRate = u(24);
  else if (freqIndex < AAC_SAMPLE_RATES.length) sampleRate = AAC_SAMPLE_RATES[freqIndex];
  else return fail(`AudioSpecificConfig sampling frequency index ${freqIndex} is reserved`);
  const channelConfig = u(4);
  // channelConfiguration 7 means 7.1 (8 channels); 0 means a program config element follows,
  // which live encoders do not send: report 0 so downstream can tell.
  const channels = channelConfig === 7 ? 8 : channelConfig <= 6 ? channelConfig : 0;
  if (sampleRate === 0) fail('AudioSpecificConfig sampling rate 0');
  return { audioObjectType, sampleRate, channels };
}
