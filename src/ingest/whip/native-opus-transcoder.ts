import type { Logger } from 'pino';
import { OpusToAac } from '../../addon/audio-transcoder.js';
import type { OpusTranscoderFactory } from './opus-transcoder.js';

/**
 * The addon's Opus-to-AAC transcoder behind the session's interface: frames go out with the
 * AudioSpecificConfig the encoder announced first; refused packets are logged by the addon's
 * own rate limit (the first, then one per 10 s).
 */
export function nativeOpusTranscoder(o: { bitrate: number }): OpusTranscoderFactory {
  return (log: Logger, onFrame) => {
    let asc: Buffer | undefined;
    return new OpusToAac({ inputChannels: 2, outputChannels: 2, bitrate: o.bitrate }, (ev) => {
      if (ev.kind === 'config') asc = ev.asc;
      else if (ev.kind === 'frame' && asc) onFrame(ev.data, asc, ev.pts);
      else if (ev.kind === 'error') log.warn({ code: ev.error.code, reason: ev.error.message }, 'WHIP audio packet not transcoded');
    });
  };
}
