/**
 * Typed facade over the native slate encoder (loaded by native-module.ts): a short loop of
 * encoded media — H.264 of one still picture, AAC-LC silence — that the origin repeats in place
 * of a publisher whose input is gone (issue 18). Encoding runs on the libuv thread pool, never
 * on the event loop (a few hundred ms for 720p, once per channel and source format).
 *
 * Repeating the loop: repetition r is the clip's units with r × durationMs added to dts and
 * pts. The clip starts with an IDR and holds only closed GOPs without B-frames (dts == pts), so
 * every repetition decodes on its own. With both tracks, durationMs is a length at which whole
 * video frames and whole AAC frames (1024 samples) end together within 0.5 ms, so both tracks
 * stay evenly spaced across the boundary (≤ 1 ms jitter, as millisecond rounding gives inside
 * the loop); it is the nearest such length to the request, which it may miss by a little (for
 * requests of 1–10 s: 30 fps with 48 kHz ≤ 267 ms, 2000 → 2133; 25 fps/48 kHz 2000 → 1920;
 * 29.97 fps with 44.1 kHz up to 1.5 s). See native/README.md, "Slate".
 */
import { loadNative, type NativeError } from './native-module.js';
import type { AccessUnit, TrackInfo } from '../media/types.js';

export interface SlateRequest {
  /** Omit for audio-only channels. */
  video?: {
    /** Even, 16..4096. */
    width: number;
    height: number;
    /** 1..240, e.g. 30, 29.97, 25; the loop's frame timestamps are ms (timescale 1000), rounded. */
    frameRate: number;
    /**
     * The picture: a raw I420 buffer of width*height*3/2 bytes (limited range, BT.601), or a
     * PNG or JPEG file decoded and scaled (aspect kept, black bars) to width x height. Exactly one.
     */
    picture?: Buffer;
    imagePath?: string;
    /** An IDR every this many frames (the loop starts with one); the loop's last GOP may be shorter. 1..10000. */
    gopFrames: number;
    /** VBV cap of the H.264 (kbit/s, 50..50000; default 300). A still picture averages far less. */
    bitrateKbps?: number;
  };
  /** AAC-LC silence. sampleRate: an AAC rate (8000..96000); channels 1..6 or 8. */
  audio?: { sampleRate: number; channels: number };
  /** Wanted loop length, ms (100..30000); the clip's durationMs is the length made (see above). */
  durationMs: number;
}

export interface SlateClip {
  /**
   * Video id 0 (codec 'h264', timescale 1000, codecConfig = avcC, width, height, frameRate), audio
   * id 1 (codec 'aac', timescale 1000, codecConfig = AudioSpecificConfig, sampleRate, channels).
   */
  tracks: TrackInfo[];
  /**
   * Every AU of the loop in dts order (video first on equal times), ms from 0; video in AVCC form
   * (4-byte length-prefixed NALs, main profile, SPS/PPS only in the avcC), audio raw AAC frames
   * without ADTS: as RTMP ingest produces them.
   */
  units: AccessUnit[];
  /** The loop's length, ms: video frames cover [0, durationMs) and so do the AAC frames. */
  durationMs: number;
}

/** A rejected encodeSlate(): code ERR_SLATE_CONFIG (bad request), ERR_SLATE_IMAGE (unreadable, not PNG/JPEG, undecodable) or ERR_SLATE_ENCODE. */
export type SlateError = NativeError;

interface NativeModule {
  encodeSlate(req: SlateRequest): Promise<SlateClip>;
}

/** Encodes the slate loop off the event loop. Never throws: every failure is a rejection with a `code`. */
export async function encodeSlate(req: SlateRequest): Promise<SlateClip> {
  return loadNative<NativeModule>().encodeSlate(req);
}
