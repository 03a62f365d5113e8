import { z } from 'zod';
import type { IngestSnapshot } from '../ingest/ingest-snapshot.js';
import { isoOrNull, isoTime } from './schemas.js';

/** Every figure of src/ingest/ingest-snapshot.ts, as the channel status shows it. */
const rates = {
  bitrate1s: z.number().describe('bits/s over the last second of arrival'),
  bitrate10s: z.number().describe('bits/s over the last 10 s of arrival'),
};

export const ingestView = z.object({
  publishing: z.boolean(),
  sessionStartedAt: isoTime.nullable().describe('when this publish connection started'),
  publisher: z.object({ address: z.string(), software: z.string().nullable().describe('RTMP flashVer, or the onMetaData encoder') }).nullable(),
  video: z.object({
    codec: z.string(), width: z.number().int(), height: z.number().int(), ...rates,
    frameRate: z.number().describe('frames/s over the last 10 s of arrival'),
    keyframeInterval: z.object({ minMs: z.number(), maxMs: z.number(), lastMs: z.number() }).nullable()
      .describe('between keyframes on the media clock, this session; null before the second keyframe'),
  }).nullable(),
  audio: z.object({ codec: z.string(), sampleRate: z.number().int(), channels: z.number().int(), ...rates }).nullable(),
  avDriftMs: z.number().nullable().describe('audio clock minus video clock, each against arrival time (median); null without both tracks'),
  lastFrameAgeMs: z.number().nullable().describe('time since the last frame arrived'),
  totals: z.object({
    bytesIn: z.number(), framesIn: z.number(), droppedFrames: z.number(), lateFrames: z.number(), reconnects: z.number(), sessions: z.number(),
  }).describe('since the origin started'),
  pipeline: z.object({
    queued: z.number().int().describe('access units waiting for the native worker'),
    dropped: z.number().int().describe('access units the native pipeline dropped this session'),
    rungs: z.array(z.object({
      name: z.string(), framesEncoded: z.number(), framesDropped: z.number(),
      realTimeFactor: z.number().nullable().describe('source frames encoded (or skipped for the frame-rate cap) per source frame arrived, last 10 s; < 1: behind real time'),
    })),
  }).nullable(),
  transport: z.object({
    protocol: z.literal('srt'),
    rttMs: z.number(), receiveRateKbps: z.number(), packetsReceived: z.number(), packetsLost: z.number(),
    packetsRetransmitted: z.number(), packetsDropped: z.number().describe('too late to play within the latency: lost for good'),
    latencyMs: z.number().describe('the latency the SRT connection settled on'),
  }).nullable().describe('the SRT connection as libsrt measures it (totals since it connected); null for RTMP'),
}).describe('What the origin measures of the publisher\'s stream');

export function ingestViewOf(s: IngestSnapshot): z.input<typeof ingestView> {
  return { ...s, sessionStartedAt: isoOrNull(s.sessionStartedAt) };
}
