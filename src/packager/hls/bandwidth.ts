/**
 * BANDWIDTH and AVERAGE-BANDWIDTH of a rendition from its segments (RFC 8216bis §4.4.6.2):
 * the peak is the largest rate of any run of consecutive segments lasting at least 0.5 × TD
 * (a lone short segment would otherwise overstate it), the average is bytes over time.
 */
export interface MeasuredSegment {
  bytes: number;
  durationMs: number;
}

export function measureBitRates(segs: readonly MeasuredSegment[], targetDurationSec: number): { peak: number; average: number } {
  const tdMs = targetDurationSec * 1000;
  let totalBytes = 0, totalMs = 0, peak = 0;
  for (let i = 0; i < segs.length; i++) {
    totalBytes += segs[i].bytes;
    totalMs += segs[i].durationMs;
    let bytes = 0, ms = 0;
    for (let j = i; j < segs.length && ms < 1.5 * tdMs; j++) {
      bytes += segs[j].bytes;
      ms += segs[j].durationMs;
      if (ms >= 0.5 * tdMs) peak = Math.max(peak, (bytes * 8000) / ms);
    }
  }
  const average = totalMs > 0 ? (totalBytes * 8000) / totalMs : 0;
  return { peak: Math.max(peak, average), average };
}
