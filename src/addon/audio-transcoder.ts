/**
 * Typed facade over the native AudioTranscoder (loaded by native-module.ts): Opus packets from a
 * WebRTC (WHIP) publisher in, AAC-LC frames for the channel pipeline out, decoded, resampled and
 * encoded on a native worker thread, never on the event loop.
 */
import { callGuarded, loadNative, WorkerClose, type NativeError } from './native-module.js';

export interface OpusToAacOptions {
  /** Channels the Opus decoder renders, 1 or 2 (any Opus packet decodes to either); default 2. */
  inputChannels?: number;
  /** Channels of the AAC track, 1 or 2 (mono input is upmixed at unity gain); default 2. */
  outputChannels?: number;
  /** AAC bit rate, 16000..320000 b/s; default 128000. */
  bitrate?: number;
  /** Packets waiting for the worker beyond which push() refuses (and counts); 1..10000, default 250 (5 s of 20-ms packets). */
  maxQueue?: number;
}

/**
 * A packet the transcoder could not use: ERR_AUDIO_DECODE (the Opus decoder refused it; its span
 * becomes silence), ERR_AUDIO_ENCODE, ERR_AUDIO_NOMEM, or ERR_AUDIO_HANDLER (the event handler
 * threw). `pts` is the packet's. Rate-limited natively: the first, then at most one per 10 s
 * (stats().decodeErrors counts them all).
 */
export type AudioTranscodeError = NativeError & { pts?: number };

export type OpusToAacEvent =
  /** Once, before the first frame: the AAC track's AudioSpecificConfig (AAC-LC, 48 kHz). */
  | { kind: 'config'; asc: Buffer; sampleRate: number; channels: number }
  /** One raw AAC frame (no ADTS), 1024 samples; pts of its first sample, 48 kHz units. */
  | { kind: 'frame'; data: Buffer; pts: number }
  | { kind: 'error'; error: AudioTranscodeError }
  /** After close(): the last frame has been delivered. */
  | { kind: 'done' };

export interface OpusToAacStats {
  /** Packets waiting for the worker. */
  queued: number;
  /** Packets the worker has taken (decoded or not). */
  packetsIn: number;
  /** AAC frames delivered or on their way. */
  framesOut: number;
  /** Packets the Opus decoder refused. */
  decodeErrors: number;
  /** Refused by push(): queue full, closed, not a non-empty Buffer ≤ 64 KiB, pts not an integer ≥ 0. */
  dropped: number;
  /** Samples of silence put in for gaps in the input (loss, DTX), 48 kHz. */
  silenceSamples: number;
}

type NativeEvent = { kind: 'config'; payload: { asc: Buffer; sampleRate: number; channels: number } }
  | { kind: 'frame'; payload: { data: Buffer; pts: number } }
  | { kind: 'error'; payload: AudioTranscodeError }
  | { kind: 'done'; payload: undefined };

interface NativeAudioTranscoder {
  push(data: Buffer, pts: number): boolean;
  close(): void;
  stats(): OpusToAacStats;
}

interface NativeModule {
  AudioTranscoder: new (opts: OpusToAacOptions, onEvent: (kind: NativeEvent['kind'], payload: NativeEvent['payload']) => void) => NativeAudioTranscoder;
}

/**
 * One publisher's audio. push() copies a packet and returns at once; events arrive on the event
 * loop in order. The output is one continuous timeline in 48 kHz samples: each frame's pts is
 * the previous one's + 1024, except where the input jumped by 2 s or more, or back by more than
 * 100 ms (the timeline restarts at the new pts). close() must be called to end the worker (an
 * open transcoder does not keep the process alive; one dropped without close() is collected).
 */
export class OpusToAac {
  readonly #native: NativeAudioTranscoder;
  readonly #close = new WorkerClose();

  /** Throws an Error with code ERR_NATIVE_CONFIG on bad options. */
  constructor(opts: OpusToAacOptions, onEvent: (ev: OpusToAacEvent) => void) {
    const { AudioTranscoder: Native } = loadNative<NativeModule>();
    const emitError = (error: AudioTranscodeError) => onEvent({ kind: 'error', error });
    this.#native = new Native(opts, (kind, payload) => {
      if (kind === 'error') emitError(payload as AudioTranscodeError);
      else if (kind === 'done') {
        this.#close.done();
        callGuarded(onEvent, { kind }, emitError, 'ERR_AUDIO_HANDLER');
      } else {
        // A throwing handler must not take the process down (it would, from the native callback).
        callGuarded(onEvent, { kind, ...(payload as object) } as OpusToAacEvent, emitError, 'ERR_AUDIO_HANDLER');
      }
    });
  }

  /**
   * Queues one Opus packet; `pts` is its first sample's time in 48 kHz units (the RTP timestamp,
   * unwrapped). False when closed, malformed, or when the worker is `maxQueue` packets behind.
   */
  push(data: Buffer, pts: number): boolean {
    return this.#native.push(data, pts);
  }

  /** Transcodes the queued packets, flushes the encoder and joins the worker; resolves after the last event. Idempotent. */
  close(): Promise<void> {
    return this.#close.close(() => this.#native.close());
  }

  stats(): OpusToAacStats {
    return this.#native.stats();
  }
}
