import type { TransportStats } from '../ingest/ingest-snapshot.js';

/**
 * The seam between ingest and everything downstream. Ingest turns protocol messages into
 * these plain records; nothing here knows about RTMP, HTTP or libav.
 */

/** Codecs the live path carries today. Anything else is refused at ingest with a reason. */
export type VideoCodec = 'h264';
export type AudioCodec = 'aac';

export interface VideoTrackInfo {
  kind: 'video';
  /** Track id as used in AccessUnit.trackId (0 = video, 1 = audio by convention of ingest). */
  id: number;
  codec: VideoCodec;
  /** Timestamp units per second of dts/pts in this track's AccessUnits (RTMP: 1000). */
  timescale: number;
  /** AVCDecoderConfigurationRecord (the avcC box payload), as RTMP's AVC sequence header carries it. */
  codecConfig: Buffer;
  width: number;
  height: number;
  /** Frames per second announced by the publisher (onMetaData framerate), 0 when unknown. */
  frameRate: number;
}

export interface AudioTrackInfo {
  kind: 'audio';
  id: number;
  codec: AudioCodec;
  timescale: number;
  /** MPEG-4 AudioSpecificConfig, as RTMP's AAC sequence header carries it. */
  codecConfig: Buffer;
  sampleRate: number;
  channels: number;
}

export type TrackInfo = VideoTrackInfo | AudioTrackInfo;

/**
 * One coded frame. Video data is a sequence of 4-byte length-prefixed NAL units (AVCC form,
 * exactly as FLV carries it); audio data is one raw AAC frame without ADTS header.
 * dts and pts are integers in the track's timescale.
 */
export interface AccessUnit {
  trackId: number;
  dts: number;
  pts: number;
  keyframe: boolean;
  data: Buffer;
}

/**
 * What ingest writes into. One Publication is one publish session of one channel.
 * setTracks is called once before the first write.
 */
export interface PublicationSink {
  setTracks(tracks: TrackInfo[]): void;
  write(au: AccessUnit): void;
  /** The publisher's software as it names itself (RTMP connect flashVer, onMetaData encoder). */
  describePublisher?(software: string): void;
  /** Ingest refused a frame of this publication (no sequence header yet, a track not declared). */
  dropped?(): void;
  /** The publisher left (unpublish, socket closed, timeout, error). Idempotent. */
  close(reason: string): void;
  /** The transport's own figures of this publisher (SRT sets it): RTT, loss, retransmits. */
  transport?: (() => TransportStats | undefined) | undefined;
}

/** One CMAF chunk produced by the native pipeline. */
export interface CmafInit {
  kind: 'init';
  /** 0: the source (remux); 1..n: the ABR ladder's rungs, in ladder order. */
  rendition?: number;
  data: Buffer;
}

export interface CmafPart {
  kind: 'part';
  /** 0: the source (remux); 1..n: the ABR ladder's rungs, in ladder order. */
  rendition?: number;
  /** Media sequence number of the parent segment. */
  msn: number;
  /** Index of this part within its parent segment, from 0. */
  partIndex: number;
  /** True when the part starts with a keyframe (EXT-X-PART INDEPENDENT=YES). */
  independent: boolean;
  /** True for part 0 of a segment (the segment starts at a keyframe). */
  segmentStart: boolean;
  /**
   * True when this part closes its segment: the next part is index 0 of msn + 1. The cutter
   * knows it when it cuts (the next frame is in hand), so the segment is listed at once and the
   * preload hint names the right part.
   */
  segmentEnd: boolean;
  /** Start of the part on the media clock, milliseconds (primary track's dts). */
  startMs: number;
  /** Exact duration of the part, milliseconds (next part's start − this start). */
  durationMs: number;
  /** moof+mdat bytes. Owned by JS once delivered; never mutated afterwards. */
  data: Buffer;
}

export type CmafChunk = CmafInit | CmafPart;
