import type { AccessUnit, PublicationSink, TrackInfo } from '../types.js';
import type { TransportStats } from '../../ingest/ingest-snapshot.js';
import { WallClockOffset } from './wall-clock-offset.js';

/** What a feed tells the switch that owns it. */
export interface FeedListener {
  tracks(feed: InputFeed): void;
  frame(feed: InputFeed, au: AccessUnit): void;
  closed(feed: InputFeed, reason: string): void;
  describePublisher(feed: InputFeed, software: string): void;
  dropped(feed: InputFeed): void;
}

/** Frames a standby input keeps since its last switch point: a GOP of a few seconds. */
const MAX_BUFFERED_UNITS = 900;
const MAX_BUFFERED_BYTES = 8 << 20;

/**
 * One connected input of a channel (its primary or a backup encoder): what ingest writes into.
 * It keeps what the switch needs to judge and to take it: its tracks, when its last frame came,
 * its bitrate, where its clock sits on the wall clock, and (while it stands by) its frames since
 * the last keyframe, so a switch can start at once from a keyframe already received.
 */
export class InputFeed implements PublicationSink {
  tracks: TrackInfo[] = [];
  closed = false;
  readonly clock = new WallClockOffset();
  readonly connectedAt: number;
  /** Arrival (epoch ms) of the last frame; 0 before the first. */
  lastFrameAt = 0;
  /** The input has sent a frame a switch can start on (a video keyframe; any audio frame on an audio-only input). */
  hasSwitchPoint = false;
  /** Since when the switch has judged it healthy without a break (epoch ms); undefined while unhealthy. */
  healthySince: number | undefined;
  software: string | undefined;
  /** The transport's own figures of this input (set by SRT ingest); undefined for RTMP. */
  transport: (() => TransportStats | undefined) | undefined;
  /** Frames since the last switch point (copies: the socket's buffers are not kept), while standing by. */
  buffered: AccessUnit[] = [];
  private bufferedBytes = 0;
  /** Keeps `buffered` filled: true while the input stands by, false while it is on air. */
  buffering = true;
  private videoTrackId: number | undefined;
  private second = 0;
  private bytesThisSecond = 0;
  private bytesLastSecond = 0;

  constructor(
    readonly name: string,
    /** 0 for the primary, 1.. for backups in order: lower wins. */
    readonly priority: number,
    readonly remoteAddress: string,
    private readonly disconnectFn: ((reason: string) => void) | undefined,
    private readonly listener: FeedListener,
    private readonly now: () => number,
  ) {
    this.connectedAt = now();
  }

  setTracks(tracks: TrackInfo[]): void {
    if (this.closed) return;
    this.tracks = tracks;
    this.videoTrackId = tracks.find((t) => t.kind === 'video')?.id;
    this.dropBuffer(); // frames of the old configuration cannot start the new one
    this.listener.tracks(this);
  }

  /** Whether a switch can start on this frame. */
  isSwitchPoint(au: AccessUnit): boolean {
    return this.videoTrackId === undefined ? true : au.trackId === this.videoTrackId && au.keyframe;
  }

  isVideo(au: AccessUnit): boolean {
    return au.trackId === this.videoTrackId;
  }

  write(au: AccessUnit): void {
    if (this.closed) return;
    const at = this.now();
    this.lastFrameAt = at;
    this.clock.note(au.dts, at);
    this.countBytes(au.data.length, at);
    if (this.isSwitchPoint(au)) this.hasSwitchPoint = true;
    this.listener.frame(this, au);
  }

  /** Keeps a frame for a later switch (called by the switch while this input stands by). */
  buffer(au: AccessUnit): void {
    if (!this.buffering) return;
    if (this.isSwitchPoint(au)) this.dropBuffer();
    else if (this.buffered.length === 0) return; // nothing to start from before the first keyframe
    if (this.buffered.length >= MAX_BUFFERED_UNITS || this.bufferedBytes + au.data.length > MAX_BUFFERED_BYTES) {
      this.dropBuffer(); // a GOP this long cannot be switched to from its start anyway
      return;
    }
    this.buffered.push({ ...au, data: Buffer.from(au.data) });
    this.bufferedBytes += au.data.length;
  }

  /** Hands the buffered frames over (for a switch) and stops buffering. */
  takeBuffer(): AccessUnit[] {
    const out = this.buffered;
    this.buffered = [];
    this.bufferedBytes = 0;
    return out;
  }

  dropBuffer(): void {
    this.buffered = [];
    this.bufferedBytes = 0;
  }

  private countBytes(n: number, at: number): void {
    const second = Math.floor(at / 1000);
    if (second !== this.second) {
      this.bytesLastSecond = second === this.second + 1 ? this.bytesThisSecond : 0;
      this.bytesThisSecond = 0;
      this.second = second;
    }
    this.bytesThisSecond += n;
  }

  /** Bits per second over the last whole second (0 when nothing came in it). */
  bitrate(at: number): number {
    const second = Math.floor(at / 1000);
    if (second === this.second) return this.bytesLastSecond * 8;
    if (second === this.second + 1) return this.bytesThisSecond * 8;
    return 0;
  }

  describePublisher(software: string): void {
    this.software = software;
    this.listener.describePublisher(this, software);
  }

  dropped(): void {
    this.listener.dropped(this);
  }

  /** Ingest says the publisher left. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.dropBuffer();
    this.listener.closed(this, reason);
  }

  /** Ends the publisher's connection (operator stop, channel deleted). */
  disconnect(reason: string): void {
    this.disconnectFn?.(reason);
  }
}
