/**
 * Typed facade over the native CMAF pipeline (loaded by native-module.ts). Everything else
 * sees TrackInfo/AccessUnit in and CmafChunk out, never a libav type.
 */
import { callGuarded, loadNative, WorkerClose, type NativeError } from './native-module.js';
import type { AccessUnit, CmafChunk, TrackInfo } from '../media/types.js';

/** One rung of the ABR ladder as the addon takes it (sizes already fitted to the source). */
export interface LadderRung {
  name: string;
  width: number;
  height: number;
  /** Target video bit rate, bits/s. */
  videoBitrate: number;
  /** Frames per second at most; 0 or absent keeps the source's rate. */
  maxFrameRate?: number;
  profile?: 'baseline' | 'main' | 'high';
}

export interface LadderOptions {
  rungs: LadderRung[];
  /** libx264 preset, e.g. 'veryfast'. */
  preset?: string;
  /** libx264 tune, e.g. 'zerolatency'. */
  tune?: string;
  /** x264 threads per rung (0: x264 decides). */
  encoderThreads?: number;
  decoderThreads?: number;
  /** Source AUs that may wait for the decoder before video is dropped up to a keyframe (default 300). */
  maxInputQueue?: number;
  /** Decoded frames that may wait for one rung's encoder before that rung drops frames (default 4). */
  maxFrameQueue?: number;
  /**
   * Offline use (a file, a benchmark): a full rung makes the decoder wait instead of dropping,
   * so nothing is dropped and memory stays at maxFrameQueue frames. Never for live input.
   */
  waitWhenBehind?: boolean;
}

/** A rung's encoder is open: its video track as the init segment describes it. */
export interface RungReady {
  /** 1-based index into ladder.rungs (0 is the source). */
  rendition: number;
  name: string;
  codecConfig: Buffer;
  width: number;
  height: number;
  frameRate: number;
}

/** A problem that degrades the ladder but not the source (rendition -1: the shared decoder). */
export type LadderProblem = NativeError & { rendition: number };

export interface CmafPipelineOptions {
  tracks: TrackInfo[];
  segmentTargetMs: number;
  partTargetMs: number;
  /** Upper bound of every part (PT-02), ms; 0 or absent: unbounded (modes that list no parts). */
  partMaxMs?: number;
  /** Lower bound of a part cut on the grid (PT-03), ms; the last part of a segment may be shorter. */
  partMinMs?: number;
  /** Longest segment (TD-02); a later keyframe gets a segment cut without one. 0 or absent: unbounded. */
  segmentMaxMs?: number;
  /** Media sequence number of the first segment (≥ 1). */
  firstMsn: number;
  /**
   * Access units waiting for the worker beyond which write() drops (and counts) instead of
   * queueing; default 2000. Bounds memory when the worker falls behind.
   */
  maxQueue?: number;
  /** Also transcode the video into these rungs (decode once, scale + x264 per rung, same time grid). */
  ladder?: LadderOptions;
  /** @internal Test hook: the worker fails with ERR_NATIVE_MUX after this many written AUs. */
  testFailAfterWrites?: number;
}

export interface CmafPipelineStats {
  /** Access units copied and waiting for the worker. */
  queued: number;
  /** Access units refused or discarded: queue full, malformed, bad timestamps, before the first keyframe. */
  dropped: number;
  /** Access units handed to the muxer. */
  written: number;
  /** Per rung, with a ladder: frames encoded, dropped (encoder behind), skipped for the frame-rate cap. */
  rungs?: Array<{ name: string; encoded: number; dropped: number; decimated: number }>;
  /** Video AUs the ladder's decoder skipped because it was behind (up to the next keyframe). */
  decoderDropped?: number;
  decodeErrors?: number;
}

export type { NativeError };

interface NativePipeline {
  write(trackId: number, dts: number, pts: number, keyframe: boolean, data: Buffer): boolean;
  close(): void;
  stats(): CmafPipelineStats;
}

type NativeEvent = (kind: 'chunk' | 'error' | 'done' | 'rendition' | 'problem', payload: unknown) => void;

/** What a ladder reports besides chunks; optional for a pipeline without one. */
export interface LadderListener {
  onRungReady(r: RungReady): void;
  onProblem(p: LadderProblem): void;
}

interface NativeModule {
  CmafPipeline: new (opts: CmafPipelineOptions, onEvent: NativeEvent) => NativePipeline;
}

/**
 * One channel's packager: access units in, CMAF init segment + parts out, on a native worker
 * thread. write() copies the bytes and returns at once; chunks arrive via onChunk on the event
 * loop in order (init first). A muxing failure is reported once via onError, after which
 * write() returns false. close() must be called to end the worker; an open pipeline does not
 * keep the process alive by itself.
 */
export class CmafPipeline {
  readonly #native: NativePipeline;
  readonly #close = new WorkerClose();

  /** Throws an Error with code ERR_NATIVE_CONFIG on bad options or codec configuration. */
  constructor(
    opts: CmafPipelineOptions,
    onChunk: (c: CmafChunk) => void,
    onError: (e: NativeError) => void,
    ladder?: LadderListener,
  ) {
    const { CmafPipeline: Native } = loadNative<NativeModule>();
    this.#native = new Native(opts, (kind, payload) => {
      if (kind === 'chunk') callGuarded(onChunk, payload as CmafChunk, onError, 'ERR_CHUNK_HANDLER');
      else if (kind === 'error') onError(payload as NativeError);
      else if (kind === 'rendition') ladder?.onRungReady(payload as RungReady);
      else if (kind === 'problem') ladder?.onProblem(payload as LadderProblem);
      else this.#close.done();
    });
  }

  /** Queues one access unit; false when closed, failed, malformed at the door or the queue is full. */
  write(au: AccessUnit): boolean {
    return this.#native.write(au.trackId, au.dts, au.pts, au.keyframe, au.data);
  }

  /** Flushes, emits the final part, joins the worker; resolves after the last onChunk. Idempotent. */
  close(): Promise<void> {
    return this.#close.close(() => this.#native.close());
  }

  stats(): CmafPipelineStats {
    return this.#native.stats();
  }
}
