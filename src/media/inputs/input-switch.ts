import type { Logger } from 'pino';
import type { TransportStats } from '../../ingest/ingest-snapshot.js';
import type { AccessUnit, TrackInfo } from '../types.js';
import type { EventBus } from '../../events.js';
import { InputFeed, type FeedListener } from './input-feed.js';
import { choose, unfit, type FailoverSettings, type OnAir, type SwitchReason } from './failover-policy.js';
import { SlateLoop, type SlateClipLike } from './slate-loop.js';

/** What the switch drives: the channel's publication (src/media/channel.ts Publication). */
export interface SwitchedPublication {
  readonly closed: boolean;
  /** Epoch ms minus media ms of the channel's timeline, once its first frame set it. */
  readonly wallOffset: number | undefined;
  setTracks(tracks: TrackInfo[]): void;
  write(au: AccessUnit): void;
  /** Another input goes on air: the open segment ends, a discontinuity and (new) init follow; `publisher` is absent for the slate. */
  switchSource(tracks: TrackInfo[], note: string, publisher?: { address: string; software?: string }): void;
  /** No input on air, the channel chose EXT-X-GAP: the playlists go on with gap parts until switchSource. */
  startGap(note: string): void;
  /** Releases the gap parts due by `now`; returns where the gap has reached on the media clock. */
  advanceGap(now: number): number | undefined;
  describePublisher(software: string): void;
  dropped(): void;
  close(reason: string): void;
}

/** What the switch needs of its channel. */
export interface SwitchHost {
  readonly id: string;
  /** Opens the channel's publication (a new session, or a reconnect within the window). */
  begin(remoteAddress: string, disconnectAll: (reason: string) => void): SwitchedPublication;
  /** The source's tracks as last on air: the slate is made to match them. */
  readonly sourceTracks: readonly TrackInfo[];
  /** Ends the session with ENDLIST: the slate covered the reconnect window and no input came back. */
  endSession(reason: string): void;
}

export interface InputSwitchOptions {
  host: SwitchHost;
  settings: () => FailoverSettings;
  /** Makes the slate's clip for the source's format; undefined: no slate can be made. */
  slate?: (tracks: readonly TrackInfo[]) => Promise<SlateClipLike>;
  reconnectWindowMs: number;
  /** A time on the slate ended (the archive marks it). */
  onSlate?: (startMs: number, endMs: number) => void;
  events?: EventBus;
  logger: Logger;
  now: () => number;
}

/** The inputs a channel accepts: its primary and backups (config backupStreamKeys). */
export function inputName(priority: number): string {
  return priority === 0 ? 'primary' : `backup${priority}`;
}

export function inputPriority(name: string): number | undefined {
  if (name === 'primary') return 0;
  const m = /^backup([1-9])$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** What the API and metrics show of one input. */
export interface InputStatus {
  name: string;
  active: boolean;
  healthy: boolean;
  /** Why it is not fit to be on air. */
  problem: string | null;
  remoteAddress: string;
  software: string | null;
  connectedAt: string;
  lastFrameAgeMs: number | null;
  bitrateKbps: number;
}

export interface InputsStatus {
  /** The input on air, 'slate', 'gap' (EXT-X-GAP instead of a slate), or null (nothing connected). */
  active: string | null;
  inputs: InputStatus[];
  failovers: number;
  /** How long the slate has been on air in this process, ms. */
  slateMs: number;
}

/**
 * Routes a channel's inputs into its one publication. Every input is ingested as it arrives
 * (hot standby), one is on air. A health tick moves the air to the best fit input when the
 * active one disconnects, stalls or drops below the bitrate floor, back to a higher-priority one
 * (auto failback), or to the slate when none is fit. A switch starts on a keyframe of the new
 * input: one it already sent (kept while standing by) when that lies after the last frame on
 * air, else its next. Each input's clock is mapped onto the channel's timeline through the wall
 * clock, so PROGRAM-DATE-TIME stays true and the timeline never goes back.
 */
export class InputSwitch implements FeedListener {
  private readonly feeds = new Map<string, InputFeed>();
  private publication: SwitchedPublication | undefined;
  private active: OnAir;
  /** Added to the active input's timestamps to put them on the channel's timeline. */
  private shift = 0;
  private lastVideoOut = -Infinity;
  private lastAudioOut = -Infinity;
  private pending: { target: InputFeed; reason: SwitchReason } | undefined;
  /** An operator chose the active input: no auto failback until it fails. */
  private pinned = false;
  /** What stands in while no input is fit: a slate loop (once made), or EXT-X-GAP parts. */
  private slate: { kind: 'picture' | 'gap'; loop: SlateLoop | undefined; since: number; making: boolean } | undefined;
  private slateMsTotal = 0;
  private failovers = 0;
  /** All inputs gone while the slate plays: the session ends at this time. */
  private slateDeadline: number | undefined;
  private ticker: NodeJS.Timeout | undefined;
  /** A backup input connected in this session (the 'auto' slate plays only then). */
  private sawBackup = false;
  private readonly log: Logger;

  constructor(private readonly o: InputSwitchOptions) {
    this.log = o.logger.child({ component: 'inputs', channel: o.host.id });
  }

  /** The settings now, the 'auto' slate resolved. */
  private settings(): FailoverSettings {
    const s = this.o.settings();
    if (s.slate !== 'auto') return s;
    return { ...s, slate: this.sawBackup && this.o.slate ? 'card' : 'off' };
  }

  /** Whether this input may connect now (each input has one publisher at a time). */
  busy(name: string): boolean {
    return this.feeds.has(name);
  }

  /** A publisher was accepted on this input: what ingest writes into. */
  connect(name: string, remoteAddress: string, disconnect?: (reason: string) => void): InputFeed {
    const priority = inputPriority(name);
    if (priority === undefined) throw new Error(`unknown input ${name}`);
    if (this.feeds.has(name)) throw new Error(`input ${name} of channel ${this.o.host.id} already has a publisher`);
    const feed = new InputFeed(name, priority, remoteAddress, disconnect, this, this.o.now);
    this.feeds.set(name, feed);
    this.log.info({ input: name, remoteAddress }, 'input connected');
    // Someone is back: the session no longer ends when the reconnect window runs out.
    this.slateDeadline = undefined;
    if (priority > 0 && !this.sawBackup) {
      this.sawBackup = true;
      this.prepareSlate(this.o.host.sourceTracks);
    }
    if (!this.publication || this.publication.closed) {
      // The first input opens the session and goes on air at once, as a single publisher always did.
      this.publication = this.o.host.begin(remoteAddress, (reason) => this.disconnectAll(reason));
      this.goOnAir(feed);
      this.shift = 0;
      this.lastVideoOut = this.lastAudioOut = -Infinity;
      this.slateDeadline = undefined;
    }
    this.startTicker();
    return feed;
  }

  private goOnAir(target: OnAir): void {
    const previous = this.active;
    if (previous instanceof InputFeed) previous.buffering = true;
    if (target instanceof InputFeed) {
      target.buffering = false;
      target.dropBuffer();
    }
    if (previous === 'slate' && target !== 'slate') this.stopSlate();
    this.active = target;
  }

  // ---- FeedListener: what the inputs send ----

  tracks(feed: InputFeed): void {
    if (feed !== this.active) return;
    this.publication?.setTracks(feed.tracks);
    this.prepareSlate(feed.tracks);
  }

  /** Makes the slate for this source format now, so it is ready the moment it is needed (the clip is kept per format). */
  private prepareSlate(tracks: readonly TrackInfo[]): void {
    const kind = this.settings().slate;
    if (this.o.slate && tracks.length > 0 && kind !== 'off' && kind !== 'gap') this.o.slate(tracks).catch(() => { /* reported when needed */ });
  }

  frame(feed: InputFeed, au: AccessUnit): void {
    if (feed === this.active) {
      this.forward(au, this.shift, feed.isVideo(au));
      return;
    }
    // A keyframe arriving now is at the wall clock's edge: switchTo() keeps it after the last frame on air.
    if (this.pending?.target === feed && feed.isSwitchPoint(au)) {
      this.switchTo(feed, this.pending.reason, [au]);
      return;
    }
    feed.buffer(au);
  }

  closed(feed: InputFeed, reason: string): void {
    this.feeds.delete(feed.name);
    this.log.info({ input: feed.name, reason }, 'input disconnected');
    if (this.pending?.target === feed) this.pending = undefined;
    // Judged at once, whichever input left: the one on air, or the one it was about to switch to.
    this.evaluate();
    if (this.feeds.size === 0) this.allGone(reason);
  }

  describePublisher(feed: InputFeed, software: string): void {
    if (feed === this.active) this.publication?.describePublisher(software);
  }

  dropped(feed: InputFeed): void {
    if (feed === this.active) this.publication?.dropped();
  }

  // ---- switching ----

  private forward(au: AccessUnit, shift: number, video: boolean): void {
    const out = shift === 0 ? au : { ...au, dts: au.dts + shift, pts: au.pts + shift };
    if (video) this.lastVideoOut = out.dts;
    else this.lastAudioOut = out.dts;
    this.publication?.write(out);
  }

  /** The last frame on air, on the channel's timeline. */
  private get lastOut(): number {
    return Math.max(this.lastVideoOut, this.lastAudioOut);
  }

  /** The shift that puts this input on the channel's timeline through the wall clock. */
  private wallShift(feed: InputFeed): number {
    const epoch = this.publication?.wallOffset, offset = feed.clock.offsetMs;
    return epoch === undefined || offset === undefined ? 0 : offset - epoch;
  }

  /** A keyframe of this input (one it sent earlier) lies after the last frame on air, mapped through the wall clock. */
  private startsAfterAir(feed: InputFeed, au: AccessUnit): boolean {
    return au.dts + this.wallShift(feed) > this.lastOut;
  }

  /** Puts `target` on air starting with `units` (a keyframe first, then what followed it). */
  private switchTo(target: InputFeed, reason: SwitchReason, units: AccessUnit[]): void {
    const from = this.active;
    const key = units[0];
    let shift = this.wallShift(target);
    // Never back in time: a clock mapped short of the last frame on air starts just after it.
    if (key.dts + shift <= this.lastOut) shift = this.lastOut + 1 - key.dts;
    this.pending = undefined;
    this.goOnAir(target);
    this.shift = shift;
    this.publication?.switchSource(target.tracks, `input ${target.name} on air (${reason})`, { address: target.remoteAddress, software: target.software });
    const startAudio = key.dts;
    for (const au of units) {
      const video = target.isVideo(au);
      // Audio older than the keyframe would reach back before the switch.
      if (!video && (au.dts < startAudio || au.dts + shift <= this.lastAudioOut)) continue;
      this.forward(au, shift, video);
    }
    this.announce(from, target, reason);
  }

  /** What the API, metrics and events call the stand-in on air: 'slate', or 'gap'. */
  private get standInName(): 'slate' | 'gap' {
    return this.slate?.kind === 'gap' ? 'gap' : 'slate';
  }

  private announce(from: OnAir, to: OnAir, reason: SwitchReason): void {
    const name = (x: OnAir) => (x === undefined ? null : x === 'slate' ? this.standInName : x.name);
    const toName = name(to)!;
    this.log.info({ from: name(from), to: toName, reason }, 'input switched');
    if (to instanceof InputFeed && to.priority === 0) {
      this.o.events?.emit('input.restored', { channel: this.o.host.id, input: toName, from: name(from), reason });
    } else {
      this.failovers++;
      this.o.events?.emit('input.failover', { channel: this.o.host.id, from: name(from), to: toName, reason });
    }
  }

  /** Asks for `target` on air: at once from its buffered keyframe when that is recent enough, else at its next keyframe. */
  private request(target: InputFeed, reason: SwitchReason): void {
    if (this.pending?.target === target) return;
    this.pending = { target, reason };
    const buffered = target.buffered;
    if (buffered.length > 0 && this.startsAfterAir(target, buffered[0])) this.switchTo(target, reason, target.takeBuffer());
  }

  /** Operator switch (API): the input must be fit; it stays on air (no auto failback) until it fails. */
  activate(name: string): { ok: true; pending: boolean } | { ok: false; reason: string } {
    const feed = this.feeds.get(name);
    if (!feed) return { ok: false, reason: `input ${name} is not connected` };
    const why = unfit(feed, this.settings(), this.o.now());
    if (why) return { ok: false, reason: `input ${name} is not fit to be on air (${why})` };
    this.pinned = true;
    if (feed === this.active) return { ok: true, pending: false };
    this.request(feed, 'manual');
    return { ok: true, pending: this.active !== feed };
  }

  /** The health tick: judges every input, then moves the air if the policy says so. */
  private evaluate(): void {
    const now = this.o.now(), s = this.settings();
    for (const f of this.feeds.values()) {
      if (unfit(f, s, now)) f.healthySince = undefined;
      else f.healthySince ??= now;
    }
    if (!this.publication || this.publication.closed) return;
    const choice = choose({ feeds: [...this.feeds.values()], active: this.active, settings: s, now, pinned: this.pinned });
    if (choice.target === this.active) {
      // The active input is fine again (a short stall): no switch is due any more.
      if (this.pending && this.pending.reason !== 'manual') this.pending = undefined;
    } else if (choice.target === 'slate') {
      this.pinned = false;
      this.startSlate(choice.reason ?? 'stalled');
    } else if (choice.target) {
      if (choice.reason !== 'failback') this.pinned = false;
      this.request(choice.target, choice.reason ?? 'input-returned');
    }
    this.playSlate(now);
    if (this.slateDeadline !== undefined && now >= this.slateDeadline) {
      this.slateDeadline = undefined;
      this.stopTicker();
      this.o.host.endSession(`no input came back within ${this.o.reconnectWindowMs / 1000} s`);
    }
  }

  // ---- the slate ----

  private startSlate(reason: SwitchReason): void {
    if (this.slate) return;
    if (this.settings().slate === 'gap') {
      this.startGap(reason);
      return;
    }
    if (!this.o.slate) return;
    const from = this.active;
    const slate: NonNullable<InputSwitch['slate']> = { kind: 'picture', loop: undefined, since: this.o.now(), making: true };
    this.slate = slate;
    this.goOnAir('slate');
    this.announce(from, 'slate', reason);
    this.o.slate(this.o.host.sourceTracks).then((clip) => {
      if (this.slate !== slate || !this.publication || this.publication.closed) return;
      const epoch = this.publication.wallOffset ?? this.o.now();
      // The slate starts where the wall clock is now, never before the last frame on air.
      const start = Math.max(this.lastOut + 1, this.o.now() - epoch);
      slate.loop = new SlateLoop(clip, start, epoch);
      this.shift = 0;
      this.publication.switchSource(clip.tracks, `slate on air (${reason})`);
    }, (err: Error) => {
      this.log.error({ err }, 'cannot make the slate; players wait for an input instead');
    }).finally(() => { slate.making = false; });
  }

  /** EXT-X-GAP instead of a picture: the playlists go on at real time with no media. */
  private startGap(reason: SwitchReason): void {
    const from = this.active;
    this.slate = { kind: 'gap', loop: undefined, since: this.o.now(), making: false };
    this.goOnAir('slate');
    this.announce(from, 'slate', reason);
    this.publication?.startGap(`gap on air (${reason})`);
  }

  private playSlate(now: number): void {
    if (this.slate?.kind === 'gap' && this.active === 'slate') {
      // A returning input starts after the gap already listed, never inside it.
      const end = this.publication?.advanceGap(now);
      if (end !== undefined && end > this.lastOut) this.lastVideoOut = this.lastAudioOut = end;
      return;
    }
    const loop = this.slate?.loop;
    if (!loop || this.active !== 'slate') return;
    for (const au of loop.due(now)) this.forward(au, 0, au.trackId === loop.tracks.find((t) => t.kind === 'video')?.id);
  }

  private stopSlate(): void {
    if (!this.slate) return;
    const now = this.o.now();
    this.slateMsTotal += now - this.slate.since;
    this.o.onSlate?.(this.slate.since, now);
    this.slate = undefined;
  }

  /** Every input has left: the slate covers the reconnect window, else the session waits as before. */
  private allGone(reason: string): void {
    if (this.active === 'slate' || this.slate) {
      this.slateDeadline = this.o.now() + this.o.reconnectWindowMs;
      return;
    }
    this.stopTicker();
    const pub = this.publication;
    this.publication = undefined;
    this.goOnAir(undefined);
    pub?.close(reason);
  }

  /** Ends every input's connection (operator stop, channel deleted, shutdown). */
  disconnectAll(reason: string): void {
    for (const f of [...this.feeds.values()]) f.disconnect(reason);
  }

  /** The session is over (stop, end, close): forget the publication and the slate. */
  reset(): void {
    this.stopTicker();
    this.stopSlate();
    this.publication = undefined;
    this.active = undefined;
    this.pending = undefined;
    this.pinned = false;
    this.slateDeadline = undefined;
    this.sawBackup = [...this.feeds.values()].some((f) => f.priority > 0);
  }

  /** Only a channel with a choice to make is watched: two inputs or more, or a slate. */
  private startTicker(): void {
    const s = this.settings();
    if (this.ticker || (this.feeds.size < 2 && s.slate === 'off')) return;
    // A quarter of the stall time: a stall is seen within 1.25 × stallMs; the slate's frames go out at least this often.
    const every = Math.min(40, Math.max(10, Math.round(s.stallMs / 4)));
    this.ticker = setInterval(() => this.evaluate(), every);
    this.ticker.unref();
  }

  private stopTicker(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /** The transport figures of the input on air (SRT), if it has any. */
  activeTransport(): TransportStats | undefined {
    return this.active === 'slate' ? undefined : this.active?.transport?.();
  }

  status(): InputsStatus {
    const now = this.o.now(), s = this.settings();
    const active = this.active === undefined ? null : this.active === 'slate' ? this.standInName : this.active.name;
    const inputs = [...this.feeds.values()].sort((a, b) => a.priority - b.priority).map((f): InputStatus => {
      const problem = unfit(f, s, now) ?? null;
      return {
        name: f.name, active: f === this.active, healthy: problem === null, problem, remoteAddress: f.remoteAddress,
        software: f.software ?? null, connectedAt: new Date(f.connectedAt).toISOString(),
        lastFrameAgeMs: f.lastFrameAt ? now - f.lastFrameAt : null, bitrateKbps: Math.round(f.bitrate(now) / 1000),
      };
    });
    return { active, inputs, failovers: this.failovers, slateMs: this.slateMsTotal + (this.slate ? now - this.slate.since : 0) };
  }
}
