import type { Logger } from 'pino';
import type { AccessUnit, CmafChunk, PublicationSink, TrackInfo, VideoTrackInfo, AudioTrackInfo } from './types.js';
import type { LatencyProfile } from './latency-profile.js';
import { LiveWindow } from '../store/live-window.js';
import type { ChannelArchive } from '../store/archive/channel-archive.js';
import type { ArchiveWriter } from '../store/archive/archive-writer.js';
import type { ArchiveReader } from '../store/archive/archive-reader.js';
import type { SourceRecorder } from '../store/recording/source-recorder.js';
import { aacCodecString, avcCodecString } from './codec-string.js';

/** What the channel needs of the native pipeline (src/addon/cmaf-pipeline.ts implements it). */
export interface PipelineLike {
  write(au: AccessUnit): boolean;
  close(): Promise<void>;
}

export type PipelineFactory = (
  opts: { tracks: TrackInfo[]; segmentTargetMs: number; partTargetMs: number; firstMsn: number },
  onChunk: (c: CmafChunk) => void,
  onError: (e: Error & { code?: string }) => void,
) => PipelineLike;

export type ChannelState = 'idle' | 'live' | 'reconnecting' | 'ended';

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
}

export interface ChannelOptions {
  id: string;
  streamKey: string;
  profile: LatencyProfile;
  reconnectWindowMs: number;
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
  now?: () => number;
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
  readonly streamKey: string;
  readonly profile: LatencyProfile;
  state: ChannelState = 'idle';
  private window: LiveWindow | undefined;
  private tracks: TrackInfo[] = [];
  private source: Rendition | undefined;
  private publication: Publication | undefined;
  private lastMsn = 0;
  private lastInitId = 0;
  private endTimer: NodeJS.Timeout | undefined;
  private dropTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly opts: ChannelOptions) {
    this.id = opts.id;
    this.streamKey = opts.streamKey;
    this.profile = opts.profile;
    this.now = opts.now ?? Date.now;
    this.log = opts.logger.child({ component: 'channel', channel: opts.id });
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
    const archive = this.opts.archive;
    const dvrMs = this.opts.dvrWindowMs ?? 0;
    if (!archive) return;
    const restored = await archive.recover('source', dvrMs);
    if (!restored) return;
    const last = restored.segments[restored.segments.length - 1];
    if (last.programDateTimeMs + last.durationMs < this.now() - dvrMs) return; // too old to be in a DVR window
    this.window = this.newWindow();
    for (const [id, data] of restored.inits) this.window.addInit(id, data);
    this.window.restore(restored.segments);
    this.tracks = restored.tracks;
    this.lastMsn = last.msn;
    this.lastInitId = Math.max(...restored.inits.keys());
    this.state = 'reconnecting';
    this.log.info({ segments: restored.segments.length, lastMsn: last.msn }, 'DVR window restored from the archive');
    this.endTimer = setTimeout(() => this.endPlaylist(), this.opts.reconnectWindowMs);
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

  /** The source rendition, once a publish session has produced an init segment. */
  rendition(name = 'source'): Rendition | undefined {
    if (name !== 'source' || !this.window || this.tracks.length === 0) return undefined;
    // Built once per (window, tracks): every playlist request asks for it.
    if (this.source?.window !== this.window || this.source.tracks !== this.tracks) {
      this.source = { name: 'source', window: this.window, tracks: this.tracks, codecs: codecsOf(this.tracks),
        archive: this.opts.archive?.reader('source') };
    }
    return this.source;
  }

  renditions(): Rendition[] {
    const r = this.rendition();
    return r ? [r] : [];
  }

  /** Starts a publish session. The caller (ingest) has checked the key and that nobody else publishes. */
  startPublication(remoteAddress: string): Publication {
    clearTimeout(this.endTimer);
    clearTimeout(this.dropTimer);
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
    const initId = this.lastInitId = Math.max(this.lastInitId + 1, Math.floor(this.now() / 1000));
    this.opts.recorder?.startSession();
    const pub = new Publication(this, this.window, firstMsn, initId, continuing, this.log.child({ remoteAddress }),
      this.opts.archive?.writer('source', this.window), this.opts.recorder, this.opts.taps ?? []);
    this.publication = pub;
    this.opts.archive?.sessions.started(this.now()).catch((err) => this.log.error({ err }, 'cannot log the session start'));
    this.state = 'live';
    this.log.info({ firstMsn, continuing }, 'publish started');
    return pub;
  }

  /** Called by the publication when its pipeline produced a part. */
  noteMsn(msn: number): void {
    this.lastMsn = Math.max(this.lastMsn, msn);
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
  }

  createPipeline(...args: Parameters<PipelineFactory>): PipelineLike {
    return this.opts.createPipeline(...args);
  }

  /** The publish session ended: keep the playlist for a reconnect, then end it with ENDLIST. */
  publicationEnded(pub: Publication, reason: string): void {
    if (this.publication !== pub) return;
    this.publication = undefined;
    this.state = 'reconnecting';
    this.log.info({ reason }, 'publish ended');
    this.opts.archive?.sessions.ended(this.now()).catch((err) => this.log.error({ err }, 'cannot log the session end'));
    this.endTimer = setTimeout(() => this.endPlaylist(), this.opts.reconnectWindowMs);
  }

  private endPlaylist(): void {
    if (this.isPublishing || !this.window) return;
    this.window.endSegment(true);
    this.state = 'ended';
    this.log.info('playlist ended');
    this.dropTimer = setTimeout(() => {
      if (this.isPublishing) return;
      this.window?.close();
      this.window = undefined;
      this.tracks = [];
      this.state = 'idle';
    }, this.opts.endedRetentionMs);
  }

  async close(): Promise<void> {
    clearTimeout(this.endTimer);
    clearTimeout(this.dropTimer);
    await this.publication?.finish('server closing');
    await this.opts.recorder?.close();
    // The session's end line is written after the publication ends: wait for it, so nothing
    // writes under dataDir once close() resolves.
    await this.opts.archive?.sessions.idle();
    this.window?.close();
  }
}

function codecsOf(tracks: TrackInfo[]): string[] {
  return tracks.map((t) => (t.kind === 'video' ? avcCodecString(t.codecConfig) : aacCodecString(t.codecConfig)));
}

/** One publish session: AccessUnits in, CMAF parts into the channel's live window. */
export class Publication implements PublicationSink {
  closed = false;
  private pipeline: PipelineLike | undefined;
  private wallOffsetMs: number | undefined;
  private pendingDiscontinuity: boolean;
  private errorCount = 0;
  private finished: Promise<void> | undefined;
  /** Counts video frames to measure the frame rate when the publisher did not announce one. */
  private frameProbe: { trackId: number; firstDts: number; frames: number } | undefined;

  constructor(
    private readonly channel: Channel,
    private readonly window: LiveWindow,
    private readonly firstMsn: number,
    private readonly initId: number,
    continuing: boolean,
    private readonly log: Logger,
    private readonly archive?: ArchiveWriter,
    private readonly recorder?: SourceRecorder,
    private readonly taps: readonly SourceTap[] = [],
  ) {
    this.pendingDiscontinuity = continuing;
  }

  setTracks(tracks: TrackInfo[]): void {
    if (this.pipeline || this.closed) return;
    const video = tracks.find((t): t is VideoTrackInfo => t.kind === 'video');
    const audio = tracks.find((t): t is AudioTrackInfo => t.kind === 'audio');
    this.log.info({ video: video && { codec: avcCodecString(video.codecConfig), width: video.width, height: video.height, frameRate: video.frameRate },
      audio: audio && { codec: aacCodecString(audio.codecConfig), sampleRate: audio.sampleRate, channels: audio.channels } }, 'tracks');
    this.channel.setTracks(tracks);
    for (const tap of this.taps) tap.setTracks(tracks);
    if (video && !video.frameRate) this.frameProbe = { trackId: video.id, firstDts: NaN, frames: 0 };
    const p = this.channel.profile;
    this.pipeline = this.channel.createPipeline(
      { tracks, segmentTargetMs: p.segmentTargetMs, partTargetMs: p.cutPartTargetMs, firstMsn: this.firstMsn },
      (chunk) => this.onChunk(chunk),
      (err) => {
        this.log.error({ err, code: err.code }, 'pipeline failed; closing the publish session');
        this.close(`pipeline error: ${err.message}`);
      },
    );
  }

  write(au: AccessUnit): void {
    if (this.closed || !this.pipeline) return;
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
    if (chunk.kind === 'init') {
      this.window.addInit(this.initId, chunk.data);
      this.archive?.addInit(this.initId, chunk.data, this.channel.sourceTracks);
      this.recorder?.addInit(chunk.data);
      return;
    }
    this.channel.noteMsn(chunk.msn);
    const part = { msn: chunk.msn, index: chunk.partIndex, durationMs: chunk.durationMs, independent: chunk.independent, data: chunk.data };
    const facts = {
      initId: this.initId,
      discontinuity: chunk.partIndex === 0 && this.pendingDiscontinuity,
      programDateTimeMs: (this.wallOffsetMs ?? Date.now()) + chunk.startMs,
      startMs: chunk.startMs,
    };
    this.window.addPart(part, facts);
    this.archive?.addPart(part, facts);
    this.recorder?.addPart({ msn: chunk.msn, index: chunk.partIndex, durationMs: chunk.durationMs, segmentStart: chunk.segmentStart, data: chunk.data });
    if (chunk.partIndex === 0) this.pendingDiscontinuity = false;
  }

  close(reason: string): void {
    void this.finish(reason);
  }

  /** Flushes the pipeline (the final part reaches the window), then tells the channel. */
  finish(reason: string): Promise<void> {
    if (this.finished) return this.finished;
    this.closed = true;
    this.finished = (async () => {
      try {
        await this.pipeline?.close();
      } catch (err) {
        this.log.error({ err }, 'pipeline close failed');
      }
      this.window.endSegment(false);
      this.archive?.endSegment();
      for (const tap of this.taps) tap.endSession();
      // The recording is finalized per session (unpublish); the archive just closes its segment.
      await Promise.all([this.archive?.close(), this.recorder?.endSession().catch((err) => this.log.error({ err }, 'recording finalize failed'))]);
      this.channel.publicationEnded(this, reason);
    })();
    return this.finished;
  }
}
