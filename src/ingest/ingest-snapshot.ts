/**
 * What the origin measured of one channel's ingest, as the API status, /metrics and the alert
 * rules read it. Measured in the origin from the access units as they arrive (not by probing the
 * stream), so it costs a few additions per frame. Rates are bits per second; times are ms.
 */
export interface IngestSnapshot {
  /** A publisher is connected and sending. */
  publishing: boolean;
  /** When this publish connection started, epoch ms; null when nobody publishes. */
  sessionStartedAt: number | null;
  /** Who publishes: address and software (RTMP connect flashVer / onMetaData encoder). */
  publisher: { address: string; software: string | null } | null;
  video: VideoIngest | null;
  audio: AudioIngest | null;
  /**
   * Newest audio timestamp minus newest video timestamp, each taken against its arrival time
   * (median over the last 10 s): how far the two tracks' clocks have drifted apart. Null
   * without both tracks.
   */
  avDriftMs: number | null;
  /** Time since the last access unit arrived; null when nobody publishes. */
  lastFrameAgeMs: number | null;
  /** Totals over the channel's lifetime (monotonic: Prometheus counters). */
  totals: IngestTotals;
  /** The native pipeline's queue and drops for the current session; null without a pipeline. */
  pipeline: PipelineSnapshot | null;
  /** What the transport measures of the input on air (SRT: RTT, loss, retransmits); null for RTMP. */
  transport: TransportStats | null;
}

/** An SRT publisher's connection as libsrt measures it (totals since it connected). */
export interface TransportStats {
  protocol: 'srt';
  rttMs: number;
  receiveRateKbps: number;
  packetsReceived: number;
  packetsLost: number;
  packetsRetransmitted: number;
  /** Too late to play within the latency: lost for good. */
  packetsDropped: number;
  latencyMs: number;
}

export interface TrackRates {
  /** Bits per second over the last 1 s and 10 s of arrival time. */
  bitrate1s: number;
  bitrate10s: number;
}

export interface VideoIngest extends TrackRates {
  codec: string;
  width: number;
  height: number;
  /** Frames per second over the last 10 s of arrival. */
  frameRate: number;
  /** Between keyframes on the media clock this session; null before the second keyframe. */
  keyframeInterval: { minMs: number; maxMs: number; lastMs: number } | null;
}

export interface AudioIngest extends TrackRates {
  codec: string;
  sampleRate: number;
  channels: number;
}

export interface IngestTotals {
  bytesIn: number;
  framesIn: number;
  /** Frames refused: ingest dropped them (no sequence header, undeclared track) or the pipeline did (queue full, malformed). */
  droppedFrames: number;
  /** Frames whose dts went backwards or repeated on their track. */
  lateFrames: number;
  /** Publishers that came back within the reconnect window. */
  reconnects: number;
  /** Publish sessions started. */
  sessions: number;
}

export interface PipelineSnapshot {
  /** Access units copied and waiting for the native worker. */
  queued: number;
  /** Access units the native pipeline refused or discarded this session. */
  dropped: number;
  /** Per rung of the ABR ladder (empty for passthrough). */
  rungs: RungSnapshot[];
}

export interface RungSnapshot {
  name: string;
  framesEncoded: number;
  framesDropped: number;
  /**
   * Media seconds encoded per wall second over the last 10 s; below 1 the rung falls behind
   * real time. Null until 10 s of session.
   */
  realTimeFactor: number | null;
}
