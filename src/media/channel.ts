import type { Logger } from 'pino';
import type { AccessUnit, CmafChunk, PublicationSink, TrackInfo, VideoTrackInfo, AudioTrackInfo } from './types.js';
import type { LatencyProfile } from './latency-profile.js';
import { LiveWindow } from '../store/live-window.js';
import type { ChannelArchive } from '../store/archive/channel-archive.js';
import type { ArchiveWriter } from '../store/archive/archive-writer.js';
import type { ArchiveReader } from '../store/archive/archive-reader.js';
import type { SourceRecorder } from '../store/recording/source-recorder.js';
import { aacCodecString, avcCodecString, codecStrings } from './codec-string.js';
import type { LadderListener, LadderOptions, LadderRung, RungReady, LadderProblem } from '../addon/cmaf-pipeline.js';
import { fitLadder, type LadderSpec } from './transcode/ladder.js';
import type { EventBus } from '../events.js';
import { newId } from '../db/ids.js';
import { IngestMeter, type PipelineCounters } from '../ingest/ingest-meter.js';
import type { IngestSnapshot } from '../ingest/ingest-snapshot.js';
import { InputSwitch, type SwitchHost } from './inputs/input-switch.js';
import type { FailoverSettings } from './inputs/failover-policy.js';
import type { SlateClipLike } from './inputs/slate-loop.js';
import { gridMsn } from './grid-numbering.js';
import { GapClock } from './inputs/gap-clock.js';

/** What the channel needs of the native pipeline (src/addon/cmaf-pipeline.ts implements it). */
export interface PipelineLike {
  write(au: AccessUnit): boolean;
  close(): Promise<void>;
  /** Queue depth and drops, for the ingest figures; optional for test pipelines. */
  stats?(): PipelineCounters;
}

export type PipelineFactory = (
  opts: { tracks: TrackInfo[]; segmentTargetMs: number; partTargetMs: number; partMaxMs?: number; partMinMs?: number; segmentMaxMs?: number; firstMsn: number; ladder?: LadderOptions },
  onChunk: (c: CmafChunk) => void,
  onError: (e: Error & { code?: string }) => void,
  ladder?: LadderListener,
) => PipelineLike;

/** A channel's transcode profile: the ladder and the encoder settings every rung shares. */
export interface TranscodeProfile {
  ladder: LadderSpec;
  /** libx264 preset and tune ('zerolatency' in ultra-low mode). */
  preset: string;
  tune?: string;
  encoderThreads: number;
  decoderThreads: number;
}

/**
 * idle: no session · preview: a publisher is on but the session is not public yet (plays with a
 * preview token) · live: public · reconnecting: the publisher left, the playlist waits for it ·
 * ended: the playlist carries ENDLIST until endedRetentionMs, then idle.
 */
export type ChannelState = 'idle' | 'preview' | 'live' | 'reconnecting' | 'ended';

/**
 * Watches the source access units of every publish session beside the pipeline (thumbnails).
 * Called on the event loop for every AU: must return at once and never throw.
 */
export interface SourceTap {
  /** A publish session declared its tracks (once per session, before its first write). */
  setTracks(tracks: TrackInfo[]): void;
  /** One source AU and the wall-clock time (PROGRAM-DATE-TIME, ms) of its dts. */
  write(au: AccessUnit, programDateTimeMs: number): void;
  /** The publish session ended. */
  endSession(): void;
  /** An ABR rung's init or part as the pipeline cut it, and the wall-clock time of its start (ms). */
  renditionChunk?(rendition: string, chunk: CmafChunk, programDateTimeMs: number): void;
}

export interface ChannelOptions {
  id: string;
  profile: LatencyProfile;
  reconnectWindowMs: number;
  /**
   * Whether a start lists the archive's last DVR window again (restore). Off on an origin of
   * several (cluster.originUrl): the channel may be live on another one, which a restored window
   * would hide; its publisher arriving here continues the playlist instead (adoptArchivedPlaylist).
   */
  restoreAtStart?: boolean;
  endedRetentionMs: number;
  createPipeline: PipelineFactory;
  logger: Logger;
  /** The channel's archive; without it the playlist lists only the hot live edge (no DVR). */
  archive?: ChannelArchive;
  /** DVR window of the live playlist (needs the archive). */
  dvrWindowMs?: number;
  /** Records the source of every publish session to files, when the channel asks for it. */
  recorder?: SourceRecorder;
  /** Further consumers of the source AUs (thumbnails), fed after the pipeline. */
  taps?: SourceTap[];
  /** The ABR ladder; without it the channel serves the source alone (passthrough). */
  transcode?: TranscodeProfile;
  /** Where the channel reports its lifecycle (channel.preview/live/reconnected/ended) and problems (channel.error). */
  events?: EventBus;
  /** Whether a new session is public at once (read at each session start: the API may change it). Default true. */
  autoStart?: () => boolean;
  /** Called when the channel has become idle (no session, nothing served): a pending reconfiguration may apply. */
  onIdle?: () => void;
  /** How the channel's inputs fail over (read at each decision); default: no slate, auto failback after 10 s. */
  failover?: () => FailoverSettings;
  /** Makes the slate for the source's format (src/media/slate/); without it the slate is off. */
  slate?: (tracks: readonly TrackInfo[]) => Promise<SlateClipLike>;
  now?: () => number;
}

/** The current or last publish session, as the control plane reports it. */
export interface SessionInfo {
  id: string;
  /** Public (started) rather than preview. */
  started: boolean;
  remoteAddress: string | null;
  /** When the channel entered its current state, epoch ms. */
  since: number;
}

/** One rendition's playable facts, as the packager and delivery need them. */
export interface Rendition {
  name: string;
  window: LiveWindow;
  tracks: TrackInfo[];
  codecs: string[];
  /** Where its segments are once they leave the hot edge (DVR), when the channel is archived. */
  archive?: ArchiveReader;
}

/**
 * A channel: its config, its live window and the publish session feeding it.
 * Publish sessions come and go; the window, the MSN counter and the init ids carry on so a
 * reconnect continues the same playlist with a discontinuity.
 */
export class Channel {
  readonly id: string;
  readonly profile: LatencyProfile;
  private currentState: ChannelState = 'idle';
  private session: SessionInfo | undefined;
  /** Set while stop() ends the session: the publisher's leaving must not open a reconnect window. */
  private stopping = false;
  private closing = false;
  private leftAt = 0;
  private disconnectPublisher: ((reason: string) => void) | undefined;
  private window: LiveWindow | undefined;
  private tracks: TrackInfo[] = [];
  private source: Rendition | undefined;
  /** The ladder's renditions in ladder order (top first); they outlive sessions like the source window. */
  private readonly rungs = new Map<string, RungState>();
  private publication: Publication | undefined;
  private lastMsn = 0;
  private lastInitId = 0;
  private endTimer: NodeJS.Timeout | undefined;
  /** An adoption of the archived playlist in progress (adoptArchivedPlaylist). */
  private adopting: Promise<boolean> | undefined;
  private dropTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly log: Logger;
  /** What arrives from the publishers, session after session (API status, metrics, alerts). */
  readonly meter: IngestMeter;
  /** The primary and backup inputs, and which one is on air (ingest connects publishers here). */
  readonly inputs: InputSwitch;

  constructor(private readonly opts: ChannelOptions) {
    this.id = opts.id;
    this.profile = opts.profile;
    this.now = opts.now ?? Date.now;
    this.meter = new IngestMeter(this.now);
    this.log = opts.logger.child({ component: 'channel', channel: opts.id });
    const channel = this;
    const host: SwitchHost = {
      id: opts.id,
      begin: (remoteAddress, disconnectAll) => this.startPublication(remoteAddress, disconnectAll),
      get sourceTracks() { return channel.tracks; },
      endSession: (reason) => void this.stop(reason),
    };
    const defaults = defaultFailover(opts.profile);
    this.inputs = new InputSwitch({
      host, settings: opts.failover ?? (() => defaults), slate: opts.slate, reconnectWindowMs: opts.reconnectWindowMs,
      onSlate: (startMs, endMs) => opts.archive?.sessions.slate(startMs, endMs).catch((err) => this.log.error({ err }, 'cannot log the slate time')),
      events: opts.events, logger: opts.logger, now: this.now,
    });
  }

  get state(): ChannelState {
    return this.currentState;
  }

  private setState(state: ChannelState): void {
    this.currentState = state;
    if (this.session) this.session.since = this.now();
  }

  /** The current session (or the last one, while ended); undefined when idle. */
  get sessionInfo(): Readonly<SessionInfo> | undefined {
    return this.currentState === 'idle' ? undefined : this.session;
  }

  /** Only preview tokens play: a publisher is on (or expected back) but nobody started the session. */
  get inPreview(): boolean {
    return this.session !== undefined && !this.session.started && (this.currentState === 'preview' || this.currentState === 'reconnecting');
  }

  /** The archive behind this channel's DVR window and catchup, when archiving is on. */
  get archive(): ChannelArchive | undefined {
    return this.opts.archive;
  }

  /**
   * At start: lists again what the archive holds of the last DVR window (after a restart or a
   * crash) and waits for the publisher to come back, as after a disconnect: a reconnect within
   * the reconnect window continues the playlist with a discontinuity, else it ends.
   */
  async restore(): Promise<void> {
    if (this.opts.restoreAtStart === false) return;
    const dvrMs = this.opts.dvrWindowMs ?? 0;
    try {
      await this.restoreFromArchive(dvrMs, dvrMs, 'the publisher did not come back after the restart', true);
    } catch (err) {
      // The archive is unreadable (an object store away): the channel starts without its DVR window.
      this.log.error({ err }, 'cannot read the archive to restore the DVR window; the channel starts without it');
    }
  }

  /**
   * Before a publisher is accepted while the channel is idle here: when the archive holds a
   * playlist that was live less than the reconnect window ago, that playlist is listed again, so
   * the publisher continues it as a reconnect does: MSNs go on, one discontinuity, the DVR window
   * whole. That is the channel coming from another origin that went away (an archive shared
   * through object storage), or back to this one after a restart that restored nothing (several
   * origins: restoreAtStart off). Calls while one runs share it.
   */
  adoptArchivedPlaylist(): Promise<boolean> {
    if (this.currentState !== 'idle' || !this.opts.archive) return Promise.resolve(false);
    const spanMs = Math.max(this.opts.dvrWindowMs ?? 0, this.profile.playlistWindowSec * 1000);
    this.adopting ??= this.adoptIfLeftOpen(spanMs).finally(() => { this.adopting = undefined; });
    return this.adopting;
  }

  /**
   * Only a session left open (its origin died, or this one before a restart) is continued: one
   * that ended (a publisher that left for longer than the reconnect window, an operator's stop)
   * had its playlist ended with ENDLIST, and a new publisher starts a new one.
   */
  private async adoptIfLeftOpen(spanMs: number): Promise<boolean> {
    const sessions = await this.opts.archive!.sessions.list();
    if (sessions.length === 0 || sessions[sessions.length - 1].endMs !== undefined) return false;
    return this.restoreFromArchive(this.opts.reconnectWindowMs, spanMs, 'the publisher did not arrive after the channel moved here', false);
  }

  /**
   * Lists the archive's newest playlist again when its end is at most maxAgeMs old; the channel
   * then waits for its publisher. Adopted from another origin (not atStart), the time since the
   * last archived segment is listed as EXT-X-GAP segments (appendGaps): that origin may have
   * listed, hinted and had players fetch MSNs beyond what reached the archive, and none of them
   * may stand for other media here.
   */
  private async restoreFromArchive(maxAgeMs: number, dvrMs: number, endReason: string, atStart = false): Promise<boolean> {
    const archive = this.opts.archive;
    if (!archive) return false;
    const restored = await archive.recover('source', dvrMs);
    if (!restored) return false;
    const last = restored.segments[restored.segments.length - 1];
    if (last.programDateTimeMs + last.durationMs < this.now() - maxAgeMs) return false; // too old to continue
    // A shared archive's newest playlist may be another origin's, live there now: at start only
    // this origin's own playlist comes back (a publisher arriving here later adopts the other).
    if (atStart && archive.shared && !(await archive.heldLocally('source', last))) return false;
    if (this.currentState !== 'idle' && this.window) return false; // a publisher came meanwhile
    this.window = this.newWindow();
    for (const [id, data] of restored.inits) this.window.addInit(id, data);
    this.window.restore(restored.segments, restored.discontinuitySequence);
    this.tracks = restored.tracks;
    this.lastMsn = last.msn;
    this.lastInitId = Math.max(...restored.inits.keys());
    const gapMs = this.profile.segmentTargetMs;
    if (!atStart) {
      // The other origin ran for up to `elapsed` after its last archived segment, cutting a
      // segment per target duration, plus the one it had open and the one its preload hint named.
      const elapsed = Math.max(0, this.now() - (last.programDateTimeMs + last.durationMs));
      this.lastMsn = last.msn + Math.ceil(elapsed / gapMs) + 2;
      this.window.appendGaps(this.lastMsn, gapMs);
    }
    for (const r of this.opts.transcode?.ladder.rungs ?? []) {
      const rung = await archive.recover(r.name, dvrMs);
      if (!rung || rung.segments.length === 0) continue;
      const window = this.newWindow();
      for (const [id, data] of rung.inits) window.addInit(id, data);
      window.restore(rung.segments, rung.discontinuitySequence);
      if (!atStart) window.appendGaps(this.lastMsn, gapMs); // every rendition goes on at the same MSN
      this.rungs.set(r.name, { name: r.name, window, tracks: rung.tracks, maxFrameRate: r.maxFrameRate ?? 0 });
    }
    // A restart loses whether the session had been started; the channel's autoStart decides again.
    this.session = { id: newSessionId(this.now()), started: this.opts.autoStart?.() ?? true, remoteAddress: null, since: this.now() };
    this.leftAt = this.now();
    this.setState('reconnecting');
    this.log.info({ segments: restored.segments.length, lastMsn: last.msn, rungs: [...this.rungs.keys()] }, 'DVR window restored from the archive');
    this.endTimer = setTimeout(() => this.endPlaylist(endReason), this.opts.reconnectWindowMs);
    return true;
  }

  private newWindow(): LiveWindow {
    const hotMs = this.profile.playlistWindowSec * 1000;
    const archived = this.opts.archive !== undefined;
    return new LiveWindow({
      windowMs: archived ? Math.max(hotMs, this.opts.dvrWindowMs ?? 0) : hotMs,
      hotMs,
      archived,
      minSegments: this.profile.minSegments,
      // Removed segments stay downloadable for a segment plus a playlist duration (§6.2.2).
      retainAfterRemovalMs: (this.profile.playlistWindowSec + 2 * this.profile.segmentTargetSec) * 1000,
      now: this.now,
    });
  }

  get isPublishing(): boolean {
    return this.publication !== undefined && !this.publication.closed;
  }

  /** A rendition by name ('source' or a rung), once a publish session has produced its init segment. */
  rendition(name = 'source'): Rendition | undefined {
    if (name !== 'source') {
      const rung = this.rungs.get(name);
      if (!rung || rung.tracks.length === 0) return undefined;
      if (rung.view?.window !== rung.window || rung.view.tracks !== rung.tracks) {
        rung.view = { name, window: rung.window, tracks: rung.tracks, codecs: codecStrings(rung.tracks), archive: this.opts.archive?.reader(name) };
      }
      return rung.view;
    }
    if (!this.window || this.tracks.length === 0 || this.sourceHidden) return undefined;
    // Built once per (window, tracks): every playlist request asks for it.
    if (this.source?.window !== this.window || this.source.tracks !== this.tracks) {
      this.source = { name: 'source', window: this.window, tracks: this.tracks, codecs: codecStrings(this.tracks),
        archive: this.opts.archive?.reader('source') };
    }
    return this.source;
  }

  /** Every playable rendition: the source (unless the ladder replaces it), then the rungs, top first. */
  renditions(): Rendition[] {
    const out: Rendition[] = [];
    const source = this.rendition();
    if (source) out.push(source);
    for (const name of this.rungs.keys()) {
      const r = this.rendition(name);
      if (r) out.push(r);
    }
    return out;
  }

  /** A ladder with keepSource false lists only its rungs (the source is still packaged, for recording). */
  private get sourceHidden(): boolean {
    return this.opts.transcode?.ladder.keepSource === false && this.rungs.size > 0;
  }

  /** The ladder a new session of this source gets, with the encoder settings; undefined for passthrough. */
  ladderFor(video: VideoTrackInfo | undefined): LadderOptions | undefined {
    const t = this.opts.transcode;
    if (!t || !video) return undefined;
    const rungs = fitLadder(t.ladder, video);
    if (rungs.length === 0) return undefined;
    return { rungs, preset: t.preset, tune: t.tune, encoderThreads: t.encoderThreads, decoderThreads: t.decoderThreads };
  }

  /**
   * The rung windows of a session: existing ones continue (a reconnect), new rungs get a new
   * window, rungs this session does not have end (their playlists get ENDLIST and leave).
   */
  rungWindows(rungs: readonly LadderRung[]): Map<string, LiveWindow> {
    const wanted = new Set(rungs.map((r) => r.name));
    for (const [name, state] of this.rungs) {
      if (!wanted.has(name)) {
        state.window.endSegment(true);
        state.window.close();
        this.rungs.delete(name);
      }
    }
    const out = new Map<string, LiveWindow>();
    for (const r of rungs) {
      let state = this.rungs.get(r.name);
      if (!state || state.window.ended) {
        state?.window.close();
        state = { name: r.name, window: this.newWindow(), tracks: [], maxFrameRate: r.maxFrameRate ?? 0 };
      }
      this.rungs.delete(r.name);  // re-inserted below so the map keeps this session's ladder order
      this.rungs.set(r.name, state);
      out.set(r.name, state.window);
    }
    return out;
  }

  /** A rung's encoder opened: its video track (from the encoder's avcC) with the source's audio. */
  setRungTracks(r: RungReady): void {
    const state = this.rungs.get(r.name);
    if (!state) return;
    const source = this.tracks.find((t): t is VideoTrackInfo => t.kind === 'video');
    const video: VideoTrackInfo = {
      kind: 'video', id: source?.id ?? 0, codec: 'h264', timescale: source?.timescale ?? 1000,
      codecConfig: r.codecConfig, width: r.width, height: r.height, frameRate: rungFrameRate(source?.frameRate ?? 0, state.maxFrameRate),
    };
    state.tracks = [video, ...this.tracks.filter((t) => t.kind === 'audio')];
  }

  rungTracks(name: string): readonly TrackInfo[] {
    return this.rungs.get(name)?.tracks ?? [];
  }

  /** A ladder problem (encoder behind, undecodable frames): logged and told, the channel goes on. */
  ladderProblem(p: LadderProblem): void {
    this.reportError(p.code, p.message, { rendition: p.rendition });
  }

  /**
   * Starts a publication. The caller (ingest) has checked the key and that nobody else publishes;
   * `disconnect` lets stop() end the publisher's connection. Within the reconnect window it
   * continues the session (channel.reconnected); otherwise a new session begins
   * (channel.preview, then channel.live at once when the channel auto-starts).
   */
  startPublication(remoteAddress: string, disconnect?: (reason: string) => void): Publication {
    clearTimeout(this.endTimer);
    clearTimeout(this.dropTimer);
    const reconnecting = this.currentState === 'reconnecting' && this.session !== undefined;
    if (this.window?.ended || !this.window) {
      this.window?.close();
      this.window = this.newWindow();
    }
    const continuing = this.window.segments.length > 0;
    // A playlist's MSNs go up by exactly one per segment, so a continuing window goes on from the
    // last one. A new window starts no lower than the wall clock's segment count, so MSNs (and the
    // URIs CDNs cache) never repeat, even across restarts: segments are never shorter than the
    // target on average, so this stays ahead of any earlier run.
    const firstMsn = continuing ? this.lastMsn + 1
      : Math.max(this.lastMsn + 1, Math.floor(this.now() / this.profile.segmentTargetMs));
    const initId = this.newInitId();
    this.meter.startSession(remoteAddress, reconnecting);
    this.opts.recorder?.startSession();
    const pub = new Publication(this, this.window, firstMsn, initId, continuing, this.log.child({ remoteAddress }),
      this.opts.archive?.writer('source', this.window), this.opts.recorder, this.opts.taps ?? []);
    this.publication = pub;
    this.disconnectPublisher = disconnect;
    this.opts.archive?.sessions.started(this.now()).catch((err) => this.log.error({ err }, 'cannot log the session start'));
    const events = this.opts.events;
    if (reconnecting) {
      const s = this.session!;
      s.remoteAddress = remoteAddress;
      this.setState(s.started ? 'live' : 'preview');
      this.log.info({ firstMsn, continuing, sessionId: s.id }, 'publisher reconnected');
      events?.emit('channel.reconnected', { channel: this.id, sessionId: s.id, remoteAddress, gapMs: this.now() - this.leftAt });
      return pub;
    }
    const s: SessionInfo = { id: newSessionId(this.now()), started: false, remoteAddress, since: this.now() };
    this.session = s;
    this.setState('preview');
    this.log.info({ firstMsn, continuing, sessionId: s.id }, 'publish started');
    events?.emit('channel.preview', { channel: this.id, sessionId: s.id, remoteAddress });
    if (this.opts.autoStart?.() ?? true) this.start('auto');
    return pub;
  }

  /** Makes the session public (preview ▶ live); true when it changed anything. */
  start(by: 'auto' | 'api' = 'api'): boolean {
    const s = this.session;
    if (!s || s.started || (this.currentState !== 'preview' && this.currentState !== 'reconnecting')) return false;
    s.started = true;
    if (this.currentState === 'preview') this.setState('live');
    this.log.info({ sessionId: s.id, by }, 'session started');
    this.opts.events?.emit('channel.live', { channel: this.id, sessionId: s.id, startedBy: by });
    return true;
  }

  /**
   * Ends the session now (an operator's stop): the publisher is disconnected and the playlist
   * ends with ENDLIST at once, without a reconnect window. False when there is no session to stop.
   */
  async stop(reason = 'stopped by an operator'): Promise<boolean> {
    if (this.currentState === 'idle' || this.currentState === 'ended') return false;
    this.stopping = true;
    try {
      const pub = this.publication;
      this.disconnectPublisher?.(reason);
      this.inputs.reset();
      await pub?.finish(reason);
    } finally {
      this.stopping = false;
    }
    clearTimeout(this.endTimer);
    this.endPlaylist(reason);
    return true;
  }

  /** The ingest figures now: rates, frame rate, keyframe interval, drift, drops, the pipeline's queue. */
  ingest(): IngestSnapshot {
    return { ...this.meter.snapshot(this.publication?.pipelineStats()), transport: this.inputs.activeTransport() ?? null };
  }

  /** Another input of the channel is on air: the status names its publisher. */
  publisherSwitched(address: string, software: string | undefined): void {
    if (this.session) this.session.remoteAddress = address;
    this.meter.switchPublisher(address, software);
  }

  /** Called by the publication when its pipeline produced a part. */
  noteMsn(msn: number): void {
    this.lastMsn = Math.max(this.lastMsn, msn);
  }

  /** The MSN a pipeline started now begins at: the next after every segment so far. */
  get nextMsn(): number {
    return this.lastMsn + 1;
  }

  /** An id for a new init segment: above every earlier one, even across restarts (a clock in seconds). */
  newInitId(): number {
    return this.lastInitId = Math.max(this.lastInitId + 1, Math.floor(this.now() / 1000));
  }

  /** Something went wrong that the channel survives: logged and told as channel.error. */
  reportError(code: string, message: string, extra: Record<string, unknown> = {}): void {
    this.log.warn({ code, ...extra }, message);
    this.opts.events?.emit('channel.error', { channel: this.id, code, message });
  }

  setTracks(tracks: TrackInfo[]): void {
    this.tracks = tracks;
  }

  /** The source rendition's tracks (what the archive stores beside each init). */
  get sourceTracks(): readonly TrackInfo[] {
    return this.tracks;
  }

  /** FRAME-RATE measured at ingest, for publishers whose metadata did not announce it. */
  setMeasuredFrameRate(fps: number): void {
    this.tracks = this.tracks.map((t) => (t.kind === 'video' && !t.frameRate ? { ...t, frameRate: fps } : t));
    for (const r of this.rungs.values()) {
      r.tracks = r.tracks.map((t) => (t.kind === 'video' ? { ...t, frameRate: rungFrameRate(fps, r.maxFrameRate) } : t));
    }
  }

  createPipeline(...args: Parameters<PipelineFactory>): PipelineLike {
    return this.opts.createPipeline(...args);
  }

  /** The publish session ended: keep the playlist for a reconnect, then end it with ENDLIST. */
  publicationEnded(pub: Publication, reason: string): void {
    if (this.publication !== pub) return;
    this.inputs.reset();
    this.ingest(); // the pipeline's last drops reach the totals
    this.meter.endSession();
    this.publication = undefined;
    this.disconnectPublisher = undefined;
    this.log.info({ reason }, 'publish ended');
    this.opts.archive?.sessions.ended(this.now()).catch((err) => this.log.error({ err }, 'cannot log the session end'));
    // stop() ends the playlist itself; a closing server keeps the session for after its restart.
    if (this.stopping || this.closing) return;
    this.leftAt = this.now();
    this.setState('reconnecting');
    this.endTimer = setTimeout(() => this.endPlaylist(`the publisher did not come back within ${this.opts.reconnectWindowMs / 1000} s`),
      this.opts.reconnectWindowMs);
  }

  private endPlaylist(reason: string): void {
    if (this.isPublishing) return;
    this.window?.endSegment(true);
    for (const r of this.rungs.values()) r.window.endSegment(true);
    this.setState('ended');
    this.log.info({ reason, sessionId: this.session?.id }, 'playlist ended');
    if (this.session) this.opts.events?.emit('channel.ended', { channel: this.id, sessionId: this.session.id, reason });
    this.dropTimer = setTimeout(() => {
      if (this.isPublishing) return;
      this.window?.close();
      this.window = undefined;
      this.tracks = [];
      this.closeRungs();
      this.currentState = 'idle';
      this.session = undefined;
      this.opts.onIdle?.();
    }, this.opts.endedRetentionMs);
  }

  private closeRungs(): void {
    for (const r of this.rungs.values()) r.window.close();
    this.rungs.clear();
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.endTimer);
    clearTimeout(this.dropTimer);
    this.inputs.reset();
    await this.publication?.finish('server closing');
    await this.opts.recorder?.close();
    // The session's end line is written after the publication ends: wait for it, so nothing
    // writes under dataDir once close() resolves.
    await this.opts.archive?.sessions.idle();
    this.window?.close();
    this.closeRungs();
  }
}

interface RungState {
  name: string;
  window: LiveWindow;
  /** Empty until the rung's encoder opened in some session. */
  tracks: TrackInfo[];
  maxFrameRate: number;
  view?: Rendition;
}

/** Failover without config: a stall is 0.9 of a part (ultra-low) or one segment, no slate, failback after 10 s. */
export function defaultFailover(profile: LatencyProfile, o: { stallMs?: number; slate?: FailoverSettings['slate'] } = {}): FailoverSettings {
  return {
    stallMs: o.stallMs ?? (profile.partTargetSec !== null ? Math.round(profile.cutPartTargetMs * 0.9) : profile.segmentTargetMs),
    minBitrateKbps: 0, failback: 'auto', failbackAfterMs: 10_000, slate: o.slate ?? 'off',
  };
}

/** Session ids sort by start time, like the database's ids. */
function newSessionId(now: number): string {
  return newId('ses', now);
}

/** A rung's frame rate: the source's, capped (0 = unknown). */
function rungFrameRate(sourceFps: number, cap: number): number {
  if (!sourceFps) return 0;
  return cap > 0 ? Math.min(sourceFps, cap) : sourceFps;
}


/** AUs (about 10 s at 30 fps with audio) held while a codec change restarts the pipeline. */
const MAX_HELD_DURING_RESTART = 800;

/** Where one rendition's chunks go during a session. */
interface Output {
  name: string;
  window: LiveWindow;
  archive?: ArchiveWriter;
  /** The first segment of this session follows earlier media in the same playlist. */
  pendingDiscontinuity: boolean;
  /** The first segment of this session opens the playlist (nothing earlier is listed). */
  pendingPlaylistStart: boolean;
  /** The tracks stored beside each init in the archive. */
  tracks: () => readonly TrackInfo[];
}

/** A gap part's bytes: none (GAP=YES parts are listed, never served). */
const NO_MEDIA = Buffer.alloc(0);

/** One publish session: AccessUnits in, CMAF parts into the live windows of the source and its rungs. */
export class Publication implements PublicationSink {
  closed = false;
  private pipeline: PipelineLike | undefined;
  private wallOffsetMs: number | undefined;
  private errorCount = 0;
  private finished: Promise<void> | undefined;
  /** Counts video frames to measure the frame rate when the publisher did not announce one. */
  private frameProbe: { trackId: number; firstDts: number; frames: number } | undefined;
  /** Index 0 is the source; 1..n the ladder's rungs in the order the pipeline numbers them. */
  private readonly outputs: Output[];
  /** A codec change is restarting the pipeline; AUs are held until it runs again. */
  private restarting: Promise<void> | undefined;
  /** What the restart moves to: another source's tracks, or a gap (no input on air, failover.slate 'gap'). */
  private nextTracks: TrackInfo[] | 'gap' | undefined;
  private held: AccessUnit[] = [];
  /** EXT-X-GAP parts stand in for media: no input is on air and the channel asked for a gap, not a slate. */
  private gap: { clock: GapClock; epochMs: number; firstMsn: number; indexShift: number[] } | undefined;
  /**
   * Added to the pipeline's MSNs: a new playlist's first segment is numbered on the shared grid
   * (gridMsn), known at its first part. Continuing a playlist, and after a pipeline restart, the
   * numbers just go on.
   */
  private msnShift = 0;
  private numberOnGrid: boolean;

  constructor(
    private readonly channel: Channel,
    window: LiveWindow,
    private readonly firstMsn: number,
    private initId: number,
    continuing: boolean,
    private readonly log: Logger,
    archive?: ArchiveWriter,
    private readonly recorder?: SourceRecorder,
    private readonly taps: readonly SourceTap[] = [],
  ) {
    this.outputs = [{ name: 'source', window, archive, pendingDiscontinuity: continuing, pendingPlaylistStart: !continuing, tracks: () => channel.sourceTracks }];
    this.numberOnGrid = !continuing;
  }

  /**
   * The publisher declared its tracks: the pipeline starts. Declared again with a different
   * configuration (OBS changing resolution, a new encoder), the pipeline is restarted on the new
   * one: the open segment ends, a new init segment follows a discontinuity, MSNs go on.
   */
  setTracks(tracks: TrackInfo[]): void {
    if (this.closed) return;
    this.channel.meter.setTracks(tracks);
    if (this.pipeline || this.restarting) {
      const describe = (ts: readonly TrackInfo[]) => ts.map((t) => (t.kind === 'video' ? `${t.width}x${t.height} ${avcCodecString(t.codecConfig)}` : aacCodecString(t.codecConfig))).join(' + ');
      this.channel.reportError('CODEC_CHANGED', `the publisher changed its codec configuration mid-stream (${describe(this.channel.sourceTracks)} ▶ ${describe(tracks)}); a new init segment follows a discontinuity`);
      this.restart(tracks);
    } else {
      this.start(tracks, this.firstMsn);
    }
  }

  /**
   * Another input (a backup, the slate) goes on air: the open segment ends and the next starts
   * after a discontinuity with its own init segment, the MSNs going on. Its frames follow at
   * once and wait (bounded) while the pipeline restarts.
   */
  switchSource(tracks: TrackInfo[], note: string, publisher?: { address: string; software?: string }): void {
    if (this.closed) return;
    this.log.info({ note, publisher: publisher?.address ?? null }, 'source switched');
    if (publisher) this.channel.publisherSwitched(publisher.address, publisher.software);
    this.channel.meter.setTracks(tracks);
    if (this.pipeline || this.restarting || this.gap) this.restart(tracks);
    else this.start(tracks, this.firstMsn);
  }

  /**
   * No input is on air and the channel asked for EXT-X-GAP rather than a slate: the pipeline
   * ends (its last parts reach the playlist), then every rendition's playlist goes on with gap
   * parts at real time (advanceGap), numbered on from the last segment, until a source returns
   * through switchSource, after a discontinuity.
   */
  startGap(note: string): void {
    if (this.closed || this.gap || this.nextTracks === 'gap') return;
    this.log.info({ note }, 'gap on air');
    this.restart('gap');
  }

  /** Releases the gap parts due by `now` into every rendition; returns where the gap has reached on the media clock. */
  advanceGap(now: number): number | undefined {
    const gap = this.gap;
    if (!gap) return undefined;
    // With parts listed, a gap segment is closed by the next gap part (LiveWindow.addPart), not by
    // its own last one: closed at once, it would end the playlist with its bare URI line (no
    // preload hint after a gap segment, none to name), which hls.js 1.7.4 also takes as its
    // fragment hint, the same segment twice; a delta update that skips a discontinuity then has
    // hls.js renumber that segment twice: 'discontinuity sequence mismatch', a fatal
    // levelParsingError. The segment the source left open (no gap segment: a hint follows it)
    // closes at once as before, and so does every segment without parts: waiting for the next
    // would list it a segment late.
    const partsListed = this.channel.profile.advertisedPartTargetSec !== undefined;
    for (const p of gap.clock.due(now)) {
      this.channel.noteMsn(p.msn);
      this.outputs.forEach((out, i) => {
        const initId = out.window.segments[out.window.segments.length - 1]?.initId ?? this.initId;
        // A rung's open segment may hold another number of parts than the source's.
        const index = p.msn === gap.firstMsn ? p.index + gap.indexShift[i] : p.index;
        out.window.addPart({ msn: p.msn, index, durationMs: p.durationMs, independent: true, data: NO_MEDIA, gap: true },
          { initId, discontinuity: false, programDateTimeMs: gap.epochMs + p.startMs, startMs: p.startMs, gap: true });
        if (p.segmentEnd && !(partsListed && out.window.openSegment?.gap)) out.window.endSegment(false);
      });
    }
    return gap.clock.endMs;
  }

  /**
   * The gap starts where the source's media ended, on the channel's media clock. The segment the
   * source left open (carried over) goes on with gap parts up to its target length, so the part
   * its playlist hinted is published under that name, as a gap.
   */
  private beginGap(): void {
    const epochMs = this.wallOffsetMs ?? Date.now();
    const source = this.outputs[0].window;
    const open = source.openSegment;
    const last = source.segments[source.segments.length - 1];
    const openMs = open ? open.parts.reduce((n, q) => n + q.durationMs, 0) : 0;
    const startMs = open ? open.startMs + openMs : last ? last.startMs + last.durationMs : Date.now() - epochMs;
    const firstMsn = open?.msn ?? this.channel.nextMsn;
    const firstIndex = open?.parts.length ?? 0;
    for (const out of this.outputs) out.window.stopCarrying();
    const indexShift = this.outputs.map((out) => {
      const o = out.window.openSegment;
      return o?.msn === firstMsn ? o.parts.length - firstIndex : 0;
    });
    const p = this.channel.profile;
    this.gap = {
      epochMs, firstMsn, indexShift,
      clock: new GapClock({ firstMsn, continuedMs: openMs, startMs, epochMs, partMs: p.cutPartTargetMs, segmentMs: p.segmentTargetMs, segmentMaxMs: p.segmentMaxMs }, firstIndex),
    };
  }

  /** A source is back: the open gap segment closes (shorter), and the source's first segment follows with its discontinuity. */
  private endGap(): void {
    if (!this.gap) return;
    this.gap = undefined;
    for (const out of this.outputs) out.window.endSegment(false, true);
  }

  /** Epoch ms minus media ms of this session's timeline (PROGRAM-DATE-TIME), once the first frame set it. */
  get wallOffset(): number | undefined {
    return this.wallOffsetMs;
  }

  private start(tracks: TrackInfo[], firstMsn: number): void {
    if (this.pipeline || this.restarting) this.numberOnGrid = false; // a restart goes on from channel.nextMsn
    this.msnShift = 0;
    const video = tracks.find((t): t is VideoTrackInfo => t.kind === 'video');
    const audio = tracks.find((t): t is AudioTrackInfo => t.kind === 'audio');
    this.log.info({ video: video && { codec: avcCodecString(video.codecConfig), width: video.width, height: video.height, frameRate: video.frameRate },
      audio: audio && { codec: aacCodecString(audio.codecConfig), sampleRate: audio.sampleRate, channels: audio.channels } }, 'tracks');
    this.channel.setTracks(tracks);
    for (const tap of this.taps) tap.setTracks(tracks);
    if (video && !video.frameRate) this.frameProbe = { trackId: video.id, firstDts: NaN, frames: 0 };
    const ladder = this.channel.ladderFor(video);
    this.outputs.length = 1; // the rungs of this pipeline follow
    if (ladder) {
      for (const [name, window] of this.channel.rungWindows(ladder.rungs)) {
        this.outputs.push({ name, window, archive: this.channel.archive?.writer(name, window),
          pendingDiscontinuity: window.segments.length > 0, pendingPlaylistStart: window.segments.length === 0,
          tracks: () => this.channel.rungTracks(name) });
      }
      this.log.info({ rungs: ladder.rungs.map((r) => `${r.name} ${r.width}x${r.height} ${r.videoBitrate / 1000}k`), preset: ladder.preset, tune: ladder.tune }, 'transcoding');
    } else {
      this.channel.rungWindows([]);
    }
    const p = this.channel.profile;
    this.pipeline = this.channel.createPipeline(
      { tracks, segmentTargetMs: p.segmentTargetMs, partTargetMs: p.cutPartTargetMs, partMaxMs: p.partMaxMs, partMinMs: p.partMinMs, segmentMaxMs: p.segmentMaxMs, firstMsn, ladder },
      (chunk) => this.onChunk(chunk),
      (err) => {
        this.log.error({ err, code: err.code }, 'pipeline failed; closing the publish session');
        this.close(`pipeline error: ${err.message}`);
      },
      ladder && {
        onRungReady: (r) => this.channel.setRungTracks(r),
        onProblem: (problem) => this.channel.ladderProblem(problem),
      },
    );
  }

  /** Closes the running pipeline, then starts one on the latest tracks; AUs wait meanwhile (bounded). */
  private restart(tracks: TrackInfo[] | 'gap'): void {
    this.nextTracks = tracks;
    if (this.restarting) return;
    this.restarting = (async () => {
      // A publisher that leaves during the restart still gets what it sent before leaving packaged.
      while (this.nextTracks && (!this.closed || this.held.length > 0)) {
        const next = this.nextTracks;
        this.nextTracks = undefined;
        const old = this.pipeline;
        this.pipeline = undefined;
        // The playlist keeps the open segment until the new pipeline's first part closes it
        // (LiveWindow.carryOver); a gap's open segment closes at once (nothing hints past it).
        if (this.gap) this.endGap();
        else for (const out of this.outputs) out.window.carryOver();
        try {
          await old?.close();
        } catch (err) {
          this.log.error({ err }, 'pipeline close failed');
        }
        for (const out of this.outputs) {
          out.archive?.endSegment();
          out.pendingDiscontinuity = true;
        }
        await Promise.all(this.outputs.slice(1).map((o) => o.archive?.close()));
        if (this.closed && this.held.length === 0) break;
        if (next === 'gap') {
          this.beginGap();
          continue;
        }
        this.initId = this.channel.newInitId();
        this.start(next, this.channel.nextMsn);
      }
    })().finally(() => {
      this.restarting = undefined;
      const held = this.held;
      this.held = [];
      for (const au of held) this.feed(au);
    });
  }

  write(au: AccessUnit): void {
    if (this.closed) return;
    this.channel.meter.frame(au);
    this.feed(au);
  }

  describePublisher(software: string): void {
    this.channel.meter.setSoftware(software);
  }

  dropped(): void {
    this.channel.meter.dropped();
  }

  /** The running pipeline's queue and drops (none while a codec change restarts it). */
  pipelineStats(): PipelineCounters | undefined {
    return this.pipeline?.stats?.();
  }

  private feed(au: AccessUnit): void {
    if (this.restarting) {
      // A restart takes milliseconds; past this bound the publisher's frames are dropped, not stored.
      if (this.held.length < MAX_HELD_DURING_RESTART) this.held.push(au);
      else this.channel.meter.dropped();
      return;
    }
    if (!this.pipeline) return;
    if (this.wallOffsetMs === undefined) {
      // PROGRAM-DATE-TIME is stamped at ingest: the wall clock when the first frame arrived.
      this.wallOffsetMs = Date.now() - au.dts;
    }
    if (this.frameProbe?.trackId === au.trackId) this.probeFrameRate(au);
    if (!this.pipeline.write(au)) {
      this.errorCount++;
      if (this.errorCount === 1 || this.errorCount % 1000 === 0) this.log.warn({ dropped: this.errorCount }, 'access units dropped');
    }
    for (const tap of this.taps) tap.write(au, this.wallOffsetMs + au.dts);
  }

  /** Frames per second over the first 120 frames: exact enough for 29.97 with millisecond timestamps. */
  private probeFrameRate(au: AccessUnit): void {
    const p = this.frameProbe!;
    if (p.frames === 0) p.firstDts = au.dts;
    if (++p.frames < 121) return;
    const spanMs = au.dts - p.firstDts;
    if (spanMs > 0) this.channel.setMeasuredFrameRate(Math.round((120 * 1000 * 1000) / spanMs) / 1000);
    this.frameProbe = undefined;
  }

  private onChunk(chunk: CmafChunk): void {
    const out = this.outputs[chunk.rendition ?? 0];
    if (!out) return;
    const source = out === this.outputs[0];
    if (chunk.kind === 'init') {
      out.window.addInit(this.initId, chunk.data);
      out.archive?.addInit(this.initId, chunk.data, out.tracks());
      if (source) this.recorder?.addInit(chunk.data);
      else for (const tap of this.taps) tap.renditionChunk?.(out.name, chunk, this.wallOffsetMs ?? Date.now());
      return;
    }
    // The grid needs the publisher's clock against the wall clock, known from its first frame
    // (a pipeline fed otherwise, as in unit tests, keeps the channel's own numbers).
    if (this.numberOnGrid) {
      this.numberOnGrid = false;
      const onGrid = this.wallOffsetMs === undefined ? 0 : gridMsn(this.wallOffsetMs, chunk.startMs, this.channel.profile.segmentTargetMs);
      this.msnShift = Math.max(0, onGrid - chunk.msn); // never below the MSNs the channel already gave
    }
    const msn = chunk.msn + this.msnShift;
    // Every rendition cuts on the same grid with the same first MSN, so the source's numbers stand for all.
    if (source) this.channel.noteMsn(msn);
    const part = { msn, index: chunk.partIndex, durationMs: chunk.durationMs, independent: chunk.independent, data: chunk.data };
    const facts = {
      initId: this.initId,
      discontinuity: chunk.partIndex === 0 && out.pendingDiscontinuity,
      opensPlaylist: chunk.partIndex === 0 && out.pendingPlaylistStart,
      programDateTimeMs: (this.wallOffsetMs ?? Date.now()) + chunk.startMs,
      startMs: chunk.startMs,
    };
    out.window.addPart(part, facts);
    out.archive?.addPart(part, facts);
    if (chunk.segmentEnd) {
      // The cutter has the next segment's first frame in hand: the segment is whole now, so it is
      // listed (and archived) at once instead of when the next segment's first part completes.
      out.window.endSegment(false);
      out.archive?.endSegment();
    }
    if (source) {
      this.recorder?.addPart({ msn, index: chunk.partIndex, durationMs: chunk.durationMs, segmentStart: chunk.segmentStart, data: chunk.data });
    } else {
      for (const tap of this.taps) tap.renditionChunk?.(out.name, chunk, facts.programDateTimeMs);
    }
    if (chunk.partIndex === 0) out.pendingDiscontinuity = out.pendingPlaylistStart = false;
  }

  close(reason: string): void {
    void this.finish(reason);
  }

  /** Flushes the pipeline (the final parts reach the windows), then tells the channel. */
  finish(reason: string): Promise<void> {
    if (this.finished) return this.finished;
    this.closed = true;
    this.finished = (async () => {
      await this.restarting;
      try {
        await this.pipeline?.close();
      } catch (err) {
        this.log.error({ err }, 'pipeline close failed');
      }
      this.gap = undefined;
      for (const out of this.outputs) {
        out.window.endSegment(false, true);
        out.archive?.endSegment();
      }
      for (const tap of this.taps) tap.endSession();
      // The recording is finalized per session (unpublish); the archive just closes its segment.
      await Promise.all([...this.outputs.map((o) => o.archive?.close()),
        this.recorder?.endSession().catch((err) => this.log.error({ err }, 'recording finalize failed'))]);
      this.channel.publicationEnded(this, reason);
    })();
    return this.finished;
  }
}
