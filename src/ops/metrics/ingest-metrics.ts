import type { Registry } from 'prom-client';
import type { IngestSnapshot } from '../../ingest/ingest-snapshot.js';
import { oncePerScrape, PREFIX } from './registry.js';
import { scrapeTimeCounter, scrapeTimeGauge, type Sample } from './scrape-time.js';

/** A channel's id and what its ingest measured (undefined: the channel measures nothing yet). */
export type IngestReading = { channel: string; ingest: IngestSnapshot };

type Emit = Sample<'channel' | 'track' | 'rung'>;

interface Spec {
  name: string;
  help: string;
  kind: 'gauge' | 'counter';
  labels: ('channel' | 'track' | 'rung')[];
  /** The samples of one channel; a figure that is unknown (null) gives no sample. */
  of: (s: IngestSnapshot, channel: string, emit: Emit) => void;
}

const msToSeconds = (ms: number) => ms / 1000;

/** Per channel, from its IngestSnapshot: the publisher's stream and what the native pipeline made of it. */
const SPECS: Spec[] = [
  { name: 'ingest_publishing', kind: 'gauge', labels: ['channel'], help: '1 while a publisher is connected and sending, else 0',
    of: (s, channel, emit) => emit({ channel }, s.publishing ? 1 : 0) },
  // Bytes, not bits: Prometheus's base unit (promtool refuses "bits"); × 8 gives the bit rate.
  { name: 'ingest_bytes_per_second', kind: 'gauge', labels: ['channel', 'track'],
    help: 'Data rate the publisher sends, per track (video, audio), over the last 10 s of arrival (x 8 = bit rate)',
    of: (s, channel, emit) => {
      if (s.video) emit({ channel, track: 'video' }, s.video.bitrate10s / 8);
      if (s.audio) emit({ channel, track: 'audio' }, s.audio.bitrate10s / 8);
    } },
  { name: 'ingest_video_frames_per_second', kind: 'gauge', labels: ['channel'], help: 'Video frames per second arriving, over the last 10 s',
    of: (s, channel, emit) => { if (s.video) emit({ channel }, s.video.frameRate); } },
  { name: 'ingest_keyframe_interval_seconds', kind: 'gauge', labels: ['channel'], help: 'The last interval between two video keyframes, on the media clock',
    of: (s, channel, emit) => { if (s.video?.keyframeInterval) emit({ channel }, msToSeconds(s.video.keyframeInterval.lastMs)); } },
  { name: 'ingest_av_drift_seconds', kind: 'gauge', labels: ['channel'], help: 'Audio clock minus video clock, each against arrival time (median over 10 s)',
    of: (s, channel, emit) => { if (s.avDriftMs !== null) emit({ channel }, msToSeconds(s.avDriftMs)); } },
  { name: 'ingest_last_frame_age_seconds', kind: 'gauge', labels: ['channel'], help: 'Time since the publisher\'s last frame arrived',
    of: (s, channel, emit) => { if (s.lastFrameAgeMs !== null) emit({ channel }, msToSeconds(s.lastFrameAgeMs)); } },
  { name: 'ingest_received_bytes_total', kind: 'counter', labels: ['channel'], help: 'Bytes of audio and video frames received from publishers',
    of: (s, channel, emit) => emit({ channel }, s.totals.bytesIn) },
  { name: 'ingest_frames_total', kind: 'counter', labels: ['channel'], help: 'Audio and video frames received',
    of: (s, channel, emit) => emit({ channel }, s.totals.framesIn) },
  { name: 'ingest_dropped_frames_total', kind: 'counter', labels: ['channel'], help: 'Frames refused by ingest or the pipeline (no sequence header, queue full, malformed)',
    of: (s, channel, emit) => emit({ channel }, s.totals.droppedFrames) },
  { name: 'ingest_late_frames_total', kind: 'counter', labels: ['channel'], help: 'Frames whose timestamp went backwards or repeated on their track',
    of: (s, channel, emit) => emit({ channel }, s.totals.lateFrames) },
  { name: 'ingest_sessions_total', kind: 'counter', labels: ['channel'], help: 'Publish sessions started',
    of: (s, channel, emit) => emit({ channel }, s.totals.sessions) },
  { name: 'ingest_reconnects_total', kind: 'counter', labels: ['channel'], help: 'Publishers that came back within the reconnect window',
    of: (s, channel, emit) => emit({ channel }, s.totals.reconnects) },
  { name: 'ingest_srt_rtt_seconds', kind: 'gauge', labels: ['channel'], help: 'Round-trip time of the SRT publisher\'s connection (libsrt)',
    of: (s, channel, emit) => { if (s.transport) emit({ channel }, msToSeconds(s.transport.rttMs)); } },
  { name: 'ingest_srt_lost_packets_total', kind: 'counter', labels: ['channel'], help: 'Packets the SRT connection found missing (most come again as retransmits)',
    of: (s, channel, emit) => { if (s.transport) emit({ channel }, s.transport.packetsLost); } },
  { name: 'ingest_srt_retransmitted_packets_total', kind: 'counter', labels: ['channel'], help: 'Retransmitted packets the SRT connection received',
    of: (s, channel, emit) => { if (s.transport) emit({ channel }, s.transport.packetsRetransmitted); } },
  { name: 'ingest_srt_dropped_packets_total', kind: 'counter', labels: ['channel'], help: 'Packets the SRT connection gave up on (too late to play within its latency)',
    of: (s, channel, emit) => { if (s.transport) emit({ channel }, s.transport.packetsDropped); } },
  { name: 'pipeline_queued_frames', kind: 'gauge', labels: ['channel'], help: 'Frames copied into the native pipeline and waiting for its worker thread',
    of: (s, channel, emit) => { if (s.pipeline) emit({ channel }, s.pipeline.queued); } },
  { name: 'pipeline_dropped_frames_total', kind: 'counter', labels: ['channel'],
    help: 'Frames the native pipeline refused or discarded in the current publish session (restarts at 0 with each session)',
    of: (s, channel, emit) => { if (s.pipeline) emit({ channel }, s.pipeline.dropped); } },
  { name: 'transcode_real_time_factor', kind: 'gauge', labels: ['channel', 'rung'],
    help: 'Source frames a ladder rung encoded (or skipped for its frame-rate cap) per source frame arrived, last 10 s; below 1 it falls behind real time',
    of: (s, channel, emit) => { for (const r of s.pipeline?.rungs ?? []) if (r.realTimeFactor !== null) emit({ channel, rung: r.name }, r.realTimeFactor); } },
  { name: 'transcode_encoded_frames_total', kind: 'counter', labels: ['channel', 'rung'], help: 'Video frames a ladder rung encoded this session',
    of: (s, channel, emit) => { for (const r of s.pipeline?.rungs ?? []) emit({ channel, rung: r.name }, r.framesEncoded); } },
  { name: 'transcode_dropped_frames_total', kind: 'counter', labels: ['channel', 'rung'], help: 'Video frames a ladder rung dropped this session because its encoder was behind',
    of: (s, channel, emit) => { for (const r of s.pipeline?.rungs ?? []) emit({ channel, rung: r.name }, r.framesDropped); } },
];

/** Registers the ingest metrics over `readings`, called once per scrape and shared by all of them. */
export function registerIngestMetrics(registry: Registry, readings: () => readonly IngestReading[]): void {
  const once = oncePerScrape(readings);
  for (const spec of SPECS) {
    const make = spec.kind === 'gauge' ? scrapeTimeGauge : scrapeTimeCounter;
    make({
      registry, name: `${PREFIX}${spec.name}`, help: spec.help, labelNames: spec.labels,
      sample: (emit) => { for (const r of once()) spec.of(r.ingest, r.channel, emit); },
    });
  }
}
