/**
 * The MSN of a new playlist's first segment, from the publisher's timestamps and the wall clock
 * alone, so that two origins receiving the same encoder (redundant origins, issue 19) number the
 * same segments the same without talking to each other.
 *
 * The cutter starts a segment at the first keyframe past each multiple of the segment target on
 * the publisher's clock (native/cmaf_muxer.cc), so a segment starting at `segmentStartMs` fills
 * grid cell floor(segmentStartMs / target), on both origins. What the cell is called needs a
 * shared epoch: the offset between the wall clock and the publisher's clock (the same encoder
 * seen from two origins on one network differs by milliseconds), rounded UP to a quantum of about
 * 10 s that is a whole number of targets. Rounded up, the MSN is never below the wall clock's
 * segment count, which is what keeps MSNs unique across restarts (Channel.startPublication).
 *
 * Two origins disagree only when their offsets straddle a quantum boundary (milliseconds of
 * difference in 10 s: about 0.01–0.2 % of session starts), and the numbers then stay one cell
 * apart. Each later segment adds one, which matches the cells as long as every cell gets a
 * keyframe (keyframes at least every target: what LL-HLS asks of a publisher anyway).
 */
export function gridMsn(wallOffsetMs: number, segmentStartMs: number, segmentTargetMs: number): number {
  const quantum = segmentTargetMs * Math.ceil(10_000 / segmentTargetMs);
  const epochMs = Math.ceil(wallOffsetMs / quantum) * quantum;
  return epochMs / segmentTargetMs + Math.floor(segmentStartMs / segmentTargetMs);
}
