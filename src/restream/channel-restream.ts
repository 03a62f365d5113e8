import type { Logger } from 'pino';
import type { EventBus } from '../events.js';
import type { SourceTap } from '../media/channel.js';
import type { AccessUnit, CmafChunk, TrackInfo } from '../media/types.js';
import { initTracks, partSamples } from './cmaf-samples.js';
import { RestreamTarget, type RestreamTargetOptions, type RestreamTargetSpec, type RestreamTargetStatus } from './restream-target.js';

export interface ChannelRestreamOptions {
  channelId: string;
  logger: Logger;
  events?: EventBus;
  /** The publisher may come back this long after leaving: targets stay connected meanwhile. */
  reconnectWindowMs: number;
  target: Pick<RestreamTargetOptions, 'maxQueueBytes' | 'stallTimeoutMs' | 'connectTimeoutMs' | 'open'>;
}

/**
 * A channel's restream targets, fed with the channel's source frames as a tap of its publish
 * sessions: enabled targets start when a session starts and stop when the channel's stream ends
 * (the publisher gone past the reconnect window), so a publisher's brief reconnect does not end
 * the stream on YouTube or Twitch. Operators start and stop targets on demand in between.
 */
export class ChannelRestream implements SourceTap {
  private readonly targets = new Map<string, RestreamTarget>();
  private tracks: TrackInfo[] = [];
  /** Each ABR rung's tracks, from its init segment. */
  private readonly rungTracks = new Map<string, TrackInfo[]>();
  /** Targets an operator stopped during this stream: not restarted by it. */
  private readonly heldByOperator = new Set<string>();
  private live = false;
  private endTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(private readonly o: ChannelRestreamOptions) {
    this.log = o.logger.child({ channel: o.channelId, component: 'restream' });
  }

  get size(): number {
    return this.targets.size;
  }

  /** Whether the channel's stream is on (a session started and not yet ended). */
  get streaming(): boolean {
    return this.live;
  }

  /** Takes the channel's list of targets: removed ones stop, new ones start when the stream is on, changed ones restart. */
  setTargets(specs: readonly RestreamTargetSpec[]): void {
    const wanted = new Map(specs.map((s) => [s.id, s]));
    for (const [id, t] of this.targets) {
      const next = wanted.get(id);
      if (next && sameSpec(next, t.spec)) continue;
      t.stop(next ? 'the target changed' : 'the target was removed');
      this.targets.delete(id);
    }
    for (const spec of specs) {
      if (this.targets.has(spec.id)) continue;
      const t = new RestreamTarget(spec, { ...this.o.target, channelId: this.o.channelId, logger: this.log, events: this.o.events });
      this.targets.set(spec.id, t);
      t.setTracks(spec.rendition === 'source' ? this.tracks : this.rungTracks.get(spec.rendition) ?? []);
      if (this.live && spec.enabled) t.start();
    }
  }

  setTracks(tracks: TrackInfo[]): void {
    clearTimeout(this.endTimer);
    this.endTimer = undefined;
    this.tracks = tracks;
    const starting = !this.live;
    this.live = true;
    if (starting) this.heldByOperator.clear();
    for (const t of this.targets.values()) {
      if (t.spec.rendition !== 'source') continue;
      t.setTracks(tracks);
      if (starting && t.spec.enabled) t.start();
    }
  }

  write(au: AccessUnit, programDateTimeMs: number): void {
    for (const t of this.targets.values()) if (t.spec.rendition === 'source') t.write(au, programDateTimeMs);
  }

  /**
   * An ABR rung's CMAF, read back into frames for the targets that push that rung: its init gives
   * the tracks (and starts the rung's targets with the stream), each part its samples, whose wall
   * clock is the part's PROGRAM-DATE-TIME moved by the sample's distance from the part's start.
   */
  renditionChunk(rendition: string, chunk: CmafChunk, programDateTimeMs: number): void {
    if (this.targets.size === 0) return; // every rung's every chunk comes here: no array for a channel without targets
    const targets = [...this.targets.values()].filter((t) => t.spec.rendition === rendition);
    if (targets.length === 0) return;
    try {
      if (chunk.kind === 'init') {
        const tracks = initTracks(chunk.data);
        this.rungTracks.set(rendition, tracks);
        for (const t of targets) {
          t.setTracks(tracks);
          if (this.live && t.spec.enabled && !t.isRunning && !this.heldByOperator.has(t.spec.id)) t.start();
        }
        return;
      }
      const tracks = this.rungTracks.get(rendition);
      if (!tracks) return;
      const wallOfMediaZero = programDateTimeMs - chunk.startMs;
      for (const au of partSamples(chunk.data)) {
        const track = tracks.find((x) => x.id === au.trackId);
        if (!track) continue;
        const wallMs = wallOfMediaZero + (au.dts * 1000) / track.timescale;
        for (const t of targets) t.write(au, wallMs);
      }
    } catch (err) {
      this.log.warn({ rendition, reason: (err as Error).message }, 'cannot read the rung\'s CMAF for restream');
    }
  }

  endSession(): void {
    clearTimeout(this.endTimer);
    this.endTimer = setTimeout(() => this.end('the channel\'s stream ended'), this.o.reconnectWindowMs);
    this.endTimer.unref();
  }

  /** An operator's start: false when the channel is not streaming or there is no such target. */
  start(id: string): 'started' | 'not-live' | 'unknown' {
    const t = this.targets.get(id);
    if (!t) return 'unknown';
    if (!this.live) return 'not-live';
    this.heldByOperator.delete(id);
    t.start();
    return 'started';
  }

  /** An operator's stop, for the rest of this stream (the next stream starts enabled targets again). */
  stop(id: string): boolean {
    const t = this.targets.get(id);
    if (!t) return false;
    this.heldByOperator.add(id);
    t.stop('stopped by an operator');
    return true;
  }

  status(): RestreamTargetStatus[] {
    return [...this.targets.values()].map((t) => t.status());
  }

  /** The channel is removed or the origin closes. */
  close(reason: string): void {
    this.end(reason);
    this.targets.clear();
  }

  private end(reason: string): void {
    clearTimeout(this.endTimer);
    this.endTimer = undefined;
    this.live = false;
    for (const t of this.targets.values()) t.stop(reason);
  }
}

function sameSpec(a: RestreamTargetSpec, b: RestreamTargetSpec): boolean {
  return a.url === b.url && a.rendition === b.rendition && a.enabled === b.enabled && a.name === b.name;
}
