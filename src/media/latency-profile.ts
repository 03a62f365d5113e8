/**
 * What a latency mode means in numbers. The defaults live in the config schema; this module
 * derives the playlist constants from them once, so they never change between reloads
 * (SC-08, TD-03).
 */

export type LatencyMode = 'normal' | 'low' | 'ultra-low';

export interface LatencyModeSettings {
  /** Segment target on the media clock; segments start at the first keyframe after each multiple. */
  segmentTargetSec: number;
  /** Part target for LL-HLS; null for modes that list no parts. */
  partTargetSec: number | null;
  /** How much media a live playlist lists. */
  playlistWindowSec: number;
  /** Minimum segments listed (Apple AAS 8.11: at least 6). */
  minSegments: number;
}

export interface LatencyProfile extends LatencyModeSettings {
  mode: LatencyMode;
  /** The cutter's part size in ms; for modes without parts, one fragment per segment target. */
  cutPartTargetMs: number;
  segmentTargetMs: number;
  /**
   * Longest segment the cutter makes: TARGETDURATION (the segment target rounded, at least 1 s)
   * plus 499 ms, so every EXTINF rounds to at most TARGETDURATION (TD-02) and AAS 7.7's 0.5 s
   * holds, also when a publisher's keyframes come later than the target.
   */
  segmentMaxMs: number;
  /** Advertised PART-TARGET: the cut target plus room for ±1 ms timestamp rounding (PT-02). */
  advertisedPartTargetSec?: number;
  partHoldBackSec?: number;
  /**
   * Bounds the cutter keeps every part within (modes with parts): at most PART-TARGET less the
   * 1 ms of RTMP timestamp rounding (PT-02), at least 0.85 × PART-TARGET except a segment's last
   * part (PT-03). The cutter picks whole frames inside them on any frame grid.
   */
  partMaxMs?: number;
  partMinMs?: number;
}

/** Slack added to the advertised PART-TARGET so parts cut on a frame-snapped grid never exceed it. */
export const PART_TARGET_SLACK = 1.05;

export function latencyProfile(mode: LatencyMode, s: LatencyModeSettings): LatencyProfile {
  const segmentTargetMs = Math.round(s.segmentTargetSec * 1000);
  const segmentMaxMs = Math.max(1, Math.round(s.segmentTargetSec)) * 1000 + 499;
  if (s.partTargetSec === null) {
    return { ...s, mode, segmentTargetMs, segmentMaxMs, cutPartTargetMs: segmentTargetMs };
  }
  // Rounded up to whole milliseconds; the epsilon keeps 0.2 × 1.05 from becoming 0.211.
  const advertised = Math.ceil(s.partTargetSec * PART_TARGET_SLACK * 1000 - 1e-6) / 1000;
  return {
    ...s, mode, segmentTargetMs, segmentMaxMs,
    cutPartTargetMs: Math.round(s.partTargetSec * 1000),
    advertisedPartTargetSec: advertised,
    // Apple requires ≥ 3 × PART-TARGET (AAS 14.3); more only adds latency.
    partHoldBackSec: Math.ceil(3 * advertised * 1000 - 1e-6) / 1000,
    partMaxMs: Math.round(advertised * 1000) - 1,
    partMinMs: Math.ceil(0.85 * advertised * 1000 - 1e-6),
  };
}
