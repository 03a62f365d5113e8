import type { Logger } from 'pino';

/** What a WHIP session needs of its audio transcoder: Opus packets in (48 kHz ticks), AAC frames out through the callback. */
export interface OpusTranscoder {
  /** false: refused (queue full or closed); the packet is dropped and counted by the caller. */
  push(opus: Buffer, pts48k: number): boolean;
  close(): Promise<void>;
}

export type OpusTranscoderFactory = (log: Logger, onFrame: (aac: Buffer, asc: Buffer, pts48k: number) => void) => OpusTranscoder;
