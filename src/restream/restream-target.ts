import type { Logger } from 'pino';
import type { EventBus, RestreamEvent } from '../events.js';
import { MSG } from '../ingest/rtmp/rtmp-session.js';
import type { AccessUnit, TrackInfo } from '../media/types.js';
import { audioConfigBody, audioFrameBody, metadataBody, videoConfigBody, videoFrameBody } from './flv-payloads.js';
import { RtmpPushConnection } from './rtmp-push-connection.js';
import { maskedTargetUrl, parseTargetUrl, type TargetUrl } from './target-url.js';

/** A restream target as configured or stored: where to push which rendition. */
export interface RestreamTargetSpec {
  id: string;
  name: string;
  /** rtmp:// or rtmps:// with the stream key: a secret, never listed whole nor logged. */
  url: string;
  /** 'source', or the name of an ABR rung. */
  rendition: string;
  /** Started with the channel; false: only on an operator's start. */
  enabled: boolean;
  /** Where it comes from: the config file (read-only through the API) or the API (stored). */
  origin: 'config' | 'api';
}

export type RestreamState = 'idle' | 'connecting' | 'connected' | 'retrying' | 'stopped';

export interface RestreamTargetStatus {
  id: string;
  name: string;
  url: string;
  rendition: string;
  enabled: boolean;
  from: 'config' | 'api';
  state: RestreamState;
  connectedSince: string | null;
  /** Failed attempts and drops since the channel's session started. */
  retries: number;
  lastError: string | null;
  lastErrorAt: string | null;
  /** Sent over the last 5 s. */
  bitrateKbps: number;
  bytesSent: number;
  /** Frames not sent because the target fell behind (dropped to the next keyframe). */
  framesDropped: number;
  /** Bytes written and not yet taken by the network. */
  queuedBytes: number;
}

export interface RestreamTargetOptions {
  channelId: string;
  logger: Logger;
  events?: EventBus;
  /** How many bytes may wait for a slow target before frames are dropped to the next keyframe. */
  maxQueueBytes: number;
  /** A target that takes no byte for this long is dropped and tried again. */
  stallTimeoutMs: number;
  /** open()'s time limit: TCP, TLS, handshake, connect and publish. */
  connectTimeoutMs: number;
  now?: () => number;
  /** Opens the connection; RtmpPushConnection.open unless a test stands in for the network. */
  open?: (url: TargetUrl, timeoutMs: number) => Promise<PushConnection>;
}

/** What a target needs of its connection (RtmpPushConnection). */
export type PushConnection = Pick<RtmpPushConnection, 'bufferedBytes' | 'send' | 'close' | 'whenClosed'>;

/** Waits between attempts: 1, 2, 4, 8, 16, then every 30 s. */
export function retryDelayMs(failures: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, failures - 1));
}

/**
 * One restream target: connects when the channel's stream starts, pushes the rendition's frames
 * with their own timestamps rebased to the connection's start, and keeps trying with backoff
 * while the channel is live. Writes never wait: the socket buffers, and once `maxQueueBytes` wait
 * unsent every frame is dropped until the next video keyframe with the queue half empty, so a
 * slow target loses pictures, not sync, and never holds the channel or the other targets back.
 */
export class RestreamTarget {
  private readonly url: TargetUrl | undefined;
  private readonly urlError: string | undefined;
  private readonly log: Logger;
  private readonly now: () => number;
  private conn: PushConnection | undefined;
  private state: RestreamState = 'idle';
  /** The channel's stream is on (between start and stop): attempts continue while it is. */
  private wanted = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failuresInRow = 0;
  private attempts = 0;
  private retries = 0;
  private lastError: { message: string; at: number } | undefined;
  private connectedAt: number | undefined;
  private tracks: TrackInfo[] = [];
  /** Set after (re)connecting and after falling behind: nothing is sent until a video keyframe. */
  private needKeyframe = true;
  /** The wait for a keyframe is because the target fell behind (its frames count as dropped). */
  private behind = false;
  private baseMs: number | undefined;
  private readonly lastTs = new Map<number, number>();
  private bytesSent = 0;
  private framesDropped = 0;
  private readonly sent: { at: number; bytes: number }[] = [];
  private queuedSince: { bytes: number; at: number } | undefined;

  constructor(readonly spec: RestreamTargetSpec, private readonly o: RestreamTargetOptions) {
    this.now = o.now ?? Date.now;
    this.log = o.logger.child({ restream: spec.id, target: maskedTargetUrl(spec.url) });
    try {
      this.url = parseTargetUrl(spec.url);
    } catch (err) {
      this.urlError = `invalid URL: ${(err as Error).message}`;
    }
  }

  get isRunning(): boolean {
    return this.wanted;
  }

  /** Starts pushing (the channel's stream is on, or an operator asked). */
  start(): void {
    if (this.wanted) return;
    this.wanted = true;
    this.failuresInRow = 0;
    this.connect();
  }

  /** Stops pushing and trying; `restream.stopped` when it had been started. */
  stop(reason: string): void {
    if (!this.wanted) return;
    this.wanted = false;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const conn = this.conn;
    this.conn = undefined;
    conn?.close(reason);
    this.state = 'stopped';
    this.connectedAt = undefined;
    this.log.info({ reason }, 'restream stopped');
    this.o.events?.emit('restream.stopped', { ...this.about(), reason });
  }

  setTracks(tracks: TrackInfo[]): void {
    this.tracks = tracks;
    if (this.conn) this.sendHeaders(this.conn);
  }

  /** One frame of the rendition and the wall-clock time of its dts (ms). */
  write(au: AccessUnit, wallMs: number): void {
    const conn = this.conn;
    if (!conn) return;
    const track = this.tracks.find((t) => t.id === au.trackId);
    if (!track) return;
    const queued = conn.bufferedBytes;
    if (this.stalled(queued)) {
      this.dropped(`the target took no data for ${this.o.stallTimeoutMs / 1000} s`);
      return;
    }
    if (queued > this.o.maxQueueBytes && !this.needKeyframe) {
      this.needKeyframe = this.behind = true;
      this.log.warn({ queuedBytes: queued }, 'restream target is behind: dropping frames to the next keyframe');
    }
    if (this.needKeyframe) {
      if (track.kind !== 'video' || !au.keyframe || queued > this.o.maxQueueBytes / 2) {
        if (this.behind) this.framesDropped++;
        return;
      }
      this.needKeyframe = this.behind = false;
    }
    this.baseMs ??= wallMs;
    // Each track's timestamps go up, as RTMP servers require (a source switch may step back a little).
    const ts = Math.max(Math.round(wallMs - this.baseMs), this.lastTs.get(au.trackId) ?? 0);
    this.lastTs.set(au.trackId, ts);
    const body = track.kind === 'video'
      ? videoFrameBody(au.data, au.keyframe, ((au.pts - au.dts) * 1000) / track.timescale)
      : audioFrameBody(au.data);
    conn.send(track.kind === 'video' ? MSG.video : MSG.audio, ts, body);
    this.count(body.length + 12);
  }

  status(): RestreamTargetStatus {
    const now = this.now();
    while (this.sent.length > 0 && this.sent[0].at < now - 5000) this.sent.shift();
    const recent = this.sent.reduce((s, x) => s + x.bytes, 0);
    return {
      id: this.spec.id, name: this.spec.name, url: maskedTargetUrl(this.spec.url), rendition: this.spec.rendition,
      enabled: this.spec.enabled, from: this.spec.origin, state: this.state,
      connectedSince: this.connectedAt !== undefined ? new Date(this.connectedAt).toISOString() : null,
      retries: this.retries, lastError: this.lastError?.message ?? null,
      lastErrorAt: this.lastError ? new Date(this.lastError.at).toISOString() : null,
      bitrateKbps: Math.round((recent * 8) / 5 / 1000), bytesSent: this.bytesSent, framesDropped: this.framesDropped,
      queuedBytes: this.conn?.bufferedBytes ?? 0,
    };
  }

  private count(bytes: number): void {
    this.bytesSent += bytes;
    const now = this.now();
    const last = this.sent[this.sent.length - 1];
    // One sample per 100 ms keeps the rate window small at any frame rate.
    if (last && now - last.at < 100) last.bytes += bytes;
    else this.sent.push({ at: now, bytes });
  }

  /** True when bytes have waited unsent, without the queue going down, for the stall timeout. */
  private stalled(queued: number): boolean {
    const now = this.now();
    if (queued === 0 || !this.queuedSince || queued < this.queuedSince.bytes) {
      this.queuedSince = queued === 0 ? undefined : { bytes: queued, at: now };
      return false;
    }
    return now - this.queuedSince.at >= this.o.stallTimeoutMs;
  }

  private connect(): void {
    if (!this.wanted) return;
    if (!this.url) {
      this.failed(this.urlError!, false);
      return;
    }
    this.state = 'connecting';
    this.attempts++;
    const attempt = this.attempts;
    (this.o.open ?? RtmpPushConnection.open)(this.url, this.o.connectTimeoutMs).then((conn) => {
      if (!this.wanted || attempt !== this.attempts) {
        conn.close('stopped while connecting');
        return;
      }
      this.conn = conn;
      this.state = 'connected';
      this.connectedAt = this.now();
      this.failuresInRow = 0;
      this.needKeyframe = true;
      this.behind = false;
      this.baseMs = undefined;
      this.lastTs.clear();
      this.queuedSince = undefined;
      this.sendHeaders(conn);
      this.log.info({ attempt }, 'restream connected');
      this.o.events?.emit('restream.started', { ...this.about(), attempt });
      conn.whenClosed((reason) => {
        if (this.conn !== conn) return;
        this.conn = undefined;
        this.connectedAt = undefined;
        this.failed(`connection lost: ${reason}`, true);
      });
    }, (err: Error) => {
      if (!this.wanted || attempt !== this.attempts) return;
      this.failed(err.message, true);
    });
  }

  /** A drop decided here (stall): the connection goes and the target tries again. */
  private dropped(reason: string): void {
    const conn = this.conn;
    this.conn = undefined;
    this.connectedAt = undefined;
    conn?.close(reason);
    this.failed(reason, true);
  }

  private failed(message: string, retry: boolean): void {
    this.lastError = { message, at: this.now() };
    this.failuresInRow++;
    this.retries++;
    const delay = retry && this.wanted ? retryDelayMs(this.failuresInRow) : undefined;
    this.state = delay !== undefined ? 'retrying' : 'stopped';
    if (delay === undefined) this.wanted = false;
    // One log line and one event per failure: at most one every 30 s once the backoff is full.
    this.log.warn({ error: message, retryInSec: delay !== undefined ? delay / 1000 : null, attempt: this.attempts }, 'restream failed');
    this.o.events?.emit('restream.failed', { ...this.about(), error: message, retryInSec: delay !== undefined ? delay / 1000 : null, attempt: this.attempts });
    if (delay !== undefined) this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** Metadata and sequence headers: at the start, and again when the source's tracks change (a new session, another input). */
  private sendHeaders(conn: PushConnection): void {
    if (this.tracks.length === 0) return;
    const ts = Math.max(0, ...this.lastTs.values());
    conn.send(MSG.dataAmf0, ts, metadataBody(this.tracks));
    for (const t of this.tracks) {
      if (t.kind === 'video') conn.send(MSG.video, ts, videoConfigBody(t));
      else conn.send(MSG.audio, ts, audioConfigBody(t));
    }
    this.needKeyframe = true;
  }

  /** Which target an event is about: never the stream key. */
  private about(): RestreamEvent {
    return { channel: this.o.channelId, target: this.spec.id, name: this.spec.name, url: maskedTargetUrl(this.spec.url), rendition: this.spec.rendition };
  }
}
