/** The API's answers as the console reads them (the OpenAPI document at /v1/openapi.json has them whole). */

export type Scope = 'read' | 'write' | 'admin';
export type ChannelState = 'idle' | 'preview' | 'live' | 'reconnecting' | 'ended';
export type LatencyMode = 'normal' | 'low' | 'ultra-low';

export interface Page<T> { items: T[]; nextCursor: string | null }

export interface TokenInfo { id: string; name: string; scopes: Scope[]; source: 'api' | 'config'; createdAt: string; lastUsedAt: string | null; revokedAt: string | null }

export interface Ingest {
  publishing: boolean;
  sessionStartedAt: string | null;
  publisher: { address: string; software: string | null } | null;
  video: { codec: string; width: number; height: number; bitrate1s: number; bitrate10s: number; frameRate: number;
    keyframeInterval: { minMs: number; maxMs: number; lastMs: number } | null } | null;
  audio: { codec: string; sampleRate: number; channels: number; bitrate1s: number; bitrate10s: number } | null;
  avDriftMs: number | null;
  lastFrameAgeMs: number | null;
  pipeline: { queued: number; dropped: number; rungs: { name: string; framesEncoded: number; framesDropped: number; realTimeFactor: number | null }[] } | null;
  transport: { protocol: 'srt'; rttMs: number; packetsLost: number; latencyMs: number } | null;
}

export interface InputView {
  name: string; active: boolean; healthy: boolean; problem: 'stalled' | 'low-bitrate' | 'no-keyframe' | 'disconnected' | null;
  remoteAddress: string; software: string | null; connectedAt: string; lastFrameAgeMs: number | null; bitrateKbps: number;
}

export interface ChannelStatus {
  state: ChannelState;
  sessionId: string | null;
  since: string | null;
  publisher: { remoteAddress: string } | null;
  renditions: string[];
  ingest: Ingest;
  inputs: { active: string | null; failovers: number; slateMs: number; inputs: InputView[] };
  liveOn: { originId: string; originUrl: string } | null;
}

export interface Channel {
  id: string;
  name: string;
  source: 'api' | 'config';
  latencyMode: LatencyMode;
  transcode: unknown;
  dvrWindowSec: number | null;
  record: boolean;
  retentionHours: number | null;
  autoStart: boolean;
  ipAllowList: string[];
  playbackTokenPolicy: 'none' | 'required';
  srtEncrypted: boolean;
  createdAt: string | null;
  status: ChannelStatus | null;
  urls: { publishServer: string; playback: string; player: string; whip: string };
}

export interface StreamKey { id: string; channelId: string; name: string | null; input: string; hint: string; createdAt: string; lastUsedAt: string | null; revokedAt: string | null }
export interface IssuedKey extends StreamKey { secret: string; publishUrl: string }

export interface OriginEvent { id: string; type: string; channelId: string | null; occurredAt: string; payload: Record<string, unknown> }

export interface Alert {
  id: string; rule: string; channelId: string | null; state: 'active' | 'cleared'; raisedAt: string; clearedAt: string | null;
  value: number | null; threshold: number; unit: string; message: string; clearMessage: string | null;
}

export interface Session { startedAt: string; endedAt: string | null; slates: { startedAt: string; endedAt: string }[] }
export interface Recording { name: string; bytes: number; durationMs: number; startedAt: string; endedAt: string; complete: boolean }

export interface AnalyticsFigures {
  ccuMax: number; ccuAvg: number; sessions: number; views: number; newUniqueViewers: number;
  watchTimeSec: { total: number; live: number; dvr: number; catchup: number }; rebufferRatio: number | null;
}
export interface AnalyticsReport { channelId: string; from: string; to: string; interval: '1m' | '1h' | '1d'; totals: AnalyticsFigures; points: (AnalyticsFigures & { start: string })[] }
export interface Realtime { at: string; channels: { channelId: string; ccu: number; origins: number; sampledAt: string }[] }

export interface Readiness { status: 'ready' | 'not ready'; checks: Record<string, { ok: boolean; error?: string }> }
export interface Webhook { id: string; url: string; eventTypes: string[]; enabled: boolean; createdAt: string; updatedAt: string }
export interface Delivery {
  id: number; eventId: string; state: 'pending' | 'delivered' | 'failed'; attempts: number; nextAttemptAt: string;
  lastStatus: number | null; lastError: string | null; createdAt: string; deliveredAt: string | null;
}
