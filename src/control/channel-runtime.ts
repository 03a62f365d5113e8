import type { RestreamTargetStatus } from '../restream/restream-target.js';
import type { FailoverConfig } from '../config/schema.js';
import type { IngestSnapshot } from '../ingest/ingest-snapshot.js';
import type { InputsStatus } from '../media/inputs/input-switch.js';
import type { Channel as ChannelRecord } from '../db/types.js';

/**
 * What the REST API asks of the running origin, beyond the database: the live state of each
 * channel, the start/stop actions, what is on disk (sessions, recordings, catchup ranges), and
 * the URLs and tokens handed to broadcasters and players. The origin implements it
 * (src/control/origin-runtime.ts); the API only calls it.
 */

/** A recording read from the object store. */
export interface RemoteRecording {
  size: number;
  /** The bytes [start, end) or all of them; undefined when it went away meanwhile. */
  open(range?: { start: number; end: number }): Promise<{ body: NodeJS.ReadableStream; size: number } | undefined>;
}

/** idle: nobody publishes · preview: a publisher is on, playback needs a preview token until `start` ·
 * live: public · reconnecting: the publisher left, the playlist waits for it within the reconnect window ·
 * ended: the playlist carries ENDLIST (kept for endedRetentionSec, then idle). */
export type ChannelLiveState = 'idle' | 'preview' | 'live' | 'reconnecting' | 'ended';

export interface ChannelStatus {
  state: ChannelLiveState;
  /** The current (or last, while ended) publish session; null when idle. */
  sessionId: string | null;
  /** When the channel entered this state, epoch ms. */
  since: number | null;
  /** The connected publisher's address; null unless preview or live. */
  publisher: { remoteAddress: string } | null;
  /** Renditions being served (e.g. ['source'] or ['source', '720p', '360p']). */
  renditions: string[];
  /** What the origin measures of the publisher's stream. */
  ingest: IngestSnapshot;
  /** The primary and backup inputs connected, and which one is on air. */
  inputs: InputsStatus;
  /** The origin holding the channel's placement (several origins, cluster.originUrl set); null when none. */
  liveOn: { originId: string; originUrl: string } | null;
}

/** A channel defined in the config file: served, shown by the API, never changed through it. */
export interface StaticChannel {
  id: string;
  latencyMode: ChannelRecord['latencyMode'];
  record: boolean;
  dvrWindowSec: number | null;
  retentionHours: number | null;
  /** The config's `transcode` value as written (see transcodeValue in src/config/schema.ts). */
  transcode: unknown;
  autoStart: boolean;
  /** The config's `playbackTokens`. */
  playbackTokenPolicy: ChannelRecord['playbackTokenPolicy'];
  ipAllowList: string[];
  /** The config's `failover` as written (defaults filled in). */
  failover: FailoverConfig;
  /** The channel has an srtPassphrase. */
  srtEncrypted: boolean;
}

export interface PublishSession {
  /** Epoch ms. */
  startedAt: number;
  /** null while the session is on. */
  endedAt: number | null;
  /** When the slate stood in for the publisher, epoch ms. */
  slates: { startMs: number; endMs: number }[];
}

export interface RecordingSummary {
  /** File name, unique within the channel (what download and delete take). */
  name: string;
  bytes: number;
  durationMs: number;
  startedAt: number;
  /** Now, while it is still being recorded. */
  endedAt: number;
  /** false while it is still being recorded (it cannot be deleted then). */
  complete: boolean;
}

export interface ChannelUrls {
  /** rtmp://host:1935/live — OBS "Server". */
  publishServer: string;
  /** The multivariant playlist. */
  playback: string;
  /** The origin's hls.js player page. */
  player: string;
  /** WHIP: where a browser or a WHIP client (OBS 30+) publishes (bearer: the stream key or a publish token). */
  whip: string;
}

export interface ChannelRuntime {
  /** Serves a database channel with these settings (create, or update: applied from the next session). */
  apply(channel: ChannelRecord): Promise<void>;
  /** Stops serving a database channel: its publisher is disconnected and its playlists answer 404. */
  remove(channelId: string): Promise<void>;
  /** Config-file channels (read-only in the API). */
  staticChannels(): StaticChannel[];
  /** undefined when the origin does not serve this channel. */
  status(channelId: string): ChannelStatus | undefined;
  /** preview → live (emits channel.live); live stays live. Throws ControlError 409 when nobody publishes. */
  start(channelId: string): Promise<ChannelStatus>;
  /** Ends the session now: the publisher is disconnected, the playlist ends (emits channel.ended). 409 when idle. */
  stop(channelId: string): Promise<ChannelStatus>;
  /** Puts a connected, healthy input on air at its next keyframe and holds it there (no auto failback) until it fails. 409 otherwise. */
  activateInput(channelId: string, input: string): Promise<ChannelStatus>;
  /** Publish sessions of the channel recorded in its archive, oldest first. */
  sessions(channelId: string): Promise<PublishSession[]>;
  recordings(channelId: string): Promise<RecordingSummary[]>;
  /** The file to send for a download; undefined when there is no such recording. */
  recordingPath(channelId: string, name: string): Promise<string | undefined>;
  /** A recording only the object store holds (another origin's, or this disk lost it): its size and bytes. */
  remoteRecording?(channelId: string, name: string): Promise<RemoteRecording | undefined>;
  /** false when there is no such recording. */
  deleteRecording(channelId: string, name: string): Promise<boolean>;
  /** The catchup playlist URL for a time range (epoch ms), relative to the playback URL's host. */
  catchupUrl(channelId: string, fromMs: number, toMs: number): string;
  urls(channelId: string): ChannelUrls;
  /** Restream targets on this origin (issue 20); absent: the API lists stored targets without their state. */
  restream?: RestreamControl;
  /** A signed playback token for the channel (preview: also plays before `start`). */
  playbackToken(channelId: string, opts: { expiresInSec: number; preview?: boolean }): Promise<{ token: string; expiresAt: number }>;
}

/** The restream targets of the channels this origin serves (src/restream/restream-service.ts). */
export interface RestreamControl {
  /** Every target of the channel (config and stored) with its state here; undefined when the origin does not serve it. */
  status(channelId: string): RestreamTargetStatus[] | undefined;
  /** The channel's stored targets changed: read them again. */
  load(channelId: string): Promise<void>;
  control(channelId: string, targetId: string, action: 'start' | 'stop'): 'started' | 'stopped' | 'not-live' | 'unknown';
}

/** A refusal the API turns into a JSON error with this HTTP status. */
export class ControlError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'ControlError';
  }
}
