/**
 * Multivariant playlist rendering (pure). One EXT-X-STREAM-INF per rendition. Audio is muxed
 * with video in each rendition (docs/adr/001-muxed-av-cmaf.md); with several variants (an ABR
 * ladder) the audio is declared once as a rendition group without URI, which says "the same
 * audio, carried in every variant" (RFC 8216bis §4.4.6.1), so players keep the audio track
 * across a rung switch.
 */

import { imageStreamInfLine, type ImageStreamInfo } from './image-playlist.js';

const AUDIO_GROUP = 'audio';

export interface VariantInfo {
  /** Media playlist URI relative to the multivariant playlist, without query. */
  uri: string;
  /** Peak segment bit rate, bits/s (MV-06). */
  bandwidth: number;
  averageBandwidth: number;
  /** RFC 6381 codec list, e.g. ["avc1.64001f", "mp4a.40.2"] (MV-05). */
  codecs: string[];
  width?: number;
  height?: number;
  frameRate?: number;
  /** The rendition carries the (one) audio track. */
  hasAudio?: boolean;
}

/**
 * `images`: image playlists of scrubbing previews (EXT-X-IMAGE-STREAM-INF, after the variants:
 * hls.js and AVFoundation ignore the tag, as RFC 8216 §6.3.1 asks of unknown tags; Shaka reads it).
 */
export function renderMultivariantPlaylist(variants: readonly VariantInfo[], querySuffix: string, images: readonly ImageStreamInfo[] = [],
  /** The query of the media playlist URIs when it differs (the viewer analytics' sid). */
  variantQuery = querySuffix): string {
  // No EXT-X-INDEPENDENT-SEGMENTS: a publisher whose keyframes come later than TARGETDURATION
  // allows gets segments cut between keyframes (ADR 002), so the claim would not hold for every
  // segment; INDEPENDENT=YES on parts says where players can start.
  const out = ['#EXTM3U', '#EXT-X-VERSION:6'];
  // Highest bandwidth first is conventional; hls.js sorts anyway and starts by its own estimate.
  const sorted = [...variants].sort((a, b) => b.bandwidth - a.bandwidth);
  const audioGroup = sorted.length > 1 && sorted.every((v) => v.hasAudio);
  if (audioGroup) out.push(`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="${AUDIO_GROUP}",NAME="main",DEFAULT=YES,AUTOSELECT=YES`);
  for (const v of sorted) {
    const attrs = [`BANDWIDTH=${Math.max(1, Math.round(v.bandwidth))}`,
      `AVERAGE-BANDWIDTH=${Math.max(1, Math.round(v.averageBandwidth))}`,
      `CODECS="${v.codecs.join(',')}"`];
    if (v.width && v.height) attrs.push(`RESOLUTION=${v.width}x${v.height}`);
    if (v.frameRate) attrs.push(`FRAME-RATE=${v.frameRate.toFixed(3)}`);
    if (audioGroup) attrs.push(`AUDIO="${AUDIO_GROUP}"`);
    // No CEA-608/708 captions are announced (the origin does not inspect SEI). Saying so spares
    // players from probing segments for them: Shaka 5 probes and, on a live playlist with fewer
    // than three complete segments, picks the open parent segment, which has no URI, and fails.
    attrs.push('CLOSED-CAPTIONS=NONE');
    out.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, `${v.uri}${variantQuery}`);
  }
  for (const img of images) out.push(imageStreamInfLine(img, querySuffix));
  return out.join('\n') + '\n';
}
