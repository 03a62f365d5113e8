import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { ChannelConfig, Config } from '../config/schema.js';
import type { BlockList } from 'node:net';
import { parseAllowList } from '../ingest/allow-list.js';
import { Channel, defaultFailover, type PipelineFactory, type SourceTap, type TranscodeProfile } from './channel.js';
import { inputName } from './inputs/input-switch.js';
import type { FailoverSettings } from './inputs/failover-policy.js';
import type { SlateClipLike } from './inputs/slate-loop.js';
import type { TrackInfo } from './types.js';
import type { LatencyProfile } from './latency-profile.js';
import { resolveLadder } from './transcode/ladder.js';
import { latencyProfile } from './latency-profile.js';
import type { ArchiveFiles } from '../store/archive/archive-files.js';
import { ChannelArchive } from '../store/archive/channel-archive.js';
import { ArchivePaths } from '../store/archive/archive-layout.js';
import { ALWAYS_WRITABLE, type StorageGate } from '../store/disk/storage-gate.js';
import { SourceRecorder } from '../store/recording/source-recorder.js';
import { EventBus } from '../events.js';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ChannelThumbnails, type ThumbnailerFactory } from './thumbnails/channel-thumbnails.js';
import { thumbnailSettings } from './thumbnails/thumbnail-settings.js';
import { ThumbnailStore } from './thumbnails/thumbnail-store.js';
import { ThumbnailPaths } from './thumbnails/thumbnail-layout.js';

/** SHA-256 so every comparison is over 32 bytes: equal-length, constant-time, no length leak. */
const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The channel's ladder with the shared encoder settings; undefined for passthrough. */
function transcodeProfile(config: Config, c: ChannelDefinition): TranscodeProfile | undefined {
  const ladder = resolveLadder(c.transcode, config.transcode.ladders);
  if (!ladder) return undefined;
  const t = config.transcode;
  // zerolatency: no lookahead, no frame threads; the encoder adds no delay beyond one frame.
  return { ladder, preset: t.preset, tune: c.latencyMode === 'ultra-low' ? 'zerolatency' : undefined,
    encoderThreads: t.encoderThreads, decoderThreads: t.decoderThreads };
}

/** Makes a channel's slate clip for a source format (src/media/slate/slate-maker.ts); without it no channel has a slate. */
export type SlateFactory = (channelId: string, settings: FailoverSettings, tracks: readonly TrackInfo[]) => Promise<SlateClipLike>;

/** The channel's failover settings with the defaults of its latency mode; the slate by default once a backup input is used. */
function failoverSettings(profile: LatencyProfile, c: ChannelDefinition): FailoverSettings {
  const f = c.failover;
  const defaults = defaultFailover(profile, { stallMs: f?.stallMs, slate: f?.slate ?? 'auto' });
  return { ...defaults, minBitrateKbps: f?.minBitrateKbps ?? 0, failback: f?.failback ?? 'auto',
    failbackAfterMs: (f?.failbackAfterSec ?? 10) * 1000, slateImage: f?.slateImage };
}

/** A channel as the registry builds it: from the config file (with its stream key) or from the API's database. */
export type ChannelDefinition = Omit<ChannelConfig, 'streamKey'> & { streamKey?: string };

/** Settings read at each publish or request, so an update through the API applies at once. */
export interface ChannelSettings {
  source: 'config' | 'api';
  autoStart: boolean;
  playbackTokens: 'none' | 'required';
  /** Parsed ipAllowList; undefined: any address may publish. */
  allowList: BlockList | undefined;
  retentionMs: number;
  /** The passphrase an SRT publisher must use; undefined: unencrypted. */
  srtPassphrase?: string;
}

interface Entry {
  channel: Channel;
  /** What it was built from. */
  definition: ChannelDefinition;
  settings: ChannelSettings;
  thumbnails?: ChannelThumbnails;
  /** An API update that reshapes the pipeline waits until the channel is idle. */
  pending?: ChannelDefinition;
}

/** What delivery must check before serving a channel (playback tokens, preview). */
export interface ChannelAccess {
  tokenRequired: boolean;
  /** The session is in preview: only preview tokens play. */
  preview: boolean;
}

/**
 * The channels this origin serves: those of the config file (with their stream keys) and
 * those the API creates, changes and deletes while the origin runs.
 */
export class ChannelRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly keys: { digest: Buffer; channelId: string; input: string }[] = [];
  private restored = false;

  /** Without `createThumbnailer` no channel has thumbnails (tests with fake pipelines). */
  constructor(private readonly config: Config, private readonly createPipeline: PipelineFactory, private readonly logger: Logger,
    private readonly o: { now?: () => number; gate?: StorageGate; events?: EventBus; createThumbnailer?: ThumbnailerFactory; slate?: SlateFactory;
      /** Where archives are kept (local disk by default; the local disk and an object store with objectStore.bucket). */
      archiveFiles?: ArchiveFiles;
      /** Further watchers of a channel's source frames (restream), the same ones for every build of the channel. */
      sourceTaps?: (channelId: string) => SourceTap[] } = {}) {
    for (const c of config.channels) this.addConfigChannel(c);
  }

  /** Serves a channel with its stream keys as the config file's are (the constructor's, and the demo channel at start). */
  addConfigChannel(c: ChannelConfig): void {
    if (this.entries.has(c.id)) throw new Error(`channel ${c.id} exists`);
    this.entries.set(c.id, this.build(c, 'config'));
    this.keys.push({ digest: digest(c.streamKey), channelId: c.id, input: 'primary' });
    c.backupStreamKeys.forEach((key, i) => this.keys.push({ digest: digest(key), channelId: c.id, input: inputName(i + 1) }));
  }

  private build(c: ChannelDefinition, source: ChannelSettings['source']): Entry {
    const config = this.config, logger = this.logger, now = this.o.now;
    const gate = this.o.gate ?? ALWAYS_WRITABLE, events = this.o.events ?? new EventBus();
    const thumbnails = this.thumbnailsFor(c, { gate, events, now, createThumbnailer: this.o.createThumbnailer });
    const settings: ChannelSettings = { source, autoStart: c.autoStart, playbackTokens: c.playbackTokens,
      allowList: parseAllowList(c.ipAllowList), retentionMs: (c.retentionHours ?? config.archive.retentionHours) * 3_600_000,
      srtPassphrase: c.srtPassphrase };
    const profile = latencyProfile(c.latencyMode, config.latencyModes[c.latencyMode]);
    const failover = failoverSettings(profile, c);
    const channel = new Channel({
      id: c.id,
      profile,
      reconnectWindowMs: config.reconnectWindowSec * 1000,
      endedRetentionMs: config.endedRetentionSec * 1000,
      archive: config.archive.enabled
        ? new ChannelArchive(ArchivePaths.channel(config.dataDir, c.id), c.id, gate, logger, this.o.archiveFiles) : undefined,
      dvrWindowMs: (c.dvrWindowSec ?? config.dvr.windowSec) * 1000,
      restoreAtStart: config.cluster.originUrl === undefined,
      recorder: c.record ? new SourceRecorder({
        channelId: c.id, dir: join(config.dataDir, 'recordings', c.id), rotateAfterMs: config.recording.rotateMinutes * 60_000,
        gate, events, logger, now,
      }) : undefined,
      transcode: transcodeProfile(config, c),
      taps: [...(thumbnails ? [thumbnails] : []), ...(this.o.sourceTaps?.(c.id) ?? [])],
      createPipeline: this.createPipeline, logger, now, events,
      autoStart: () => settings.autoStart,
      onIdle: () => void this.applyPending(c.id),
      failover: () => failover,
      slate: this.o.slate && failover.slate !== 'off' && failover.slate !== 'gap' ? (tracks) => this.o.slate!(c.id, failover, tracks) : undefined,
    });
    return { channel, definition: c, settings, thumbnails };
  }

  /** A channel's thumbnails: periodic pictures and previews, kept on disk when it is archived. */
  private thumbnailsFor(c: ChannelDefinition,
    o: { gate: StorageGate; events: EventBus; now?: () => number; createThumbnailer?: ThumbnailerFactory }): ChannelThumbnails | undefined {
    const config = this.config, logger = this.logger;
    const settings = thumbnailSettings(config.thumbnails, c.thumbnails);
    if (!settings.enabled || !o.createThumbnailer) return undefined;
    const hotMs = config.latencyModes[c.latencyMode].playlistWindowSec * 1000;
    const dvrMs = config.archive.enabled ? (c.dvrWindowSec ?? config.dvr.windowSec) * 1000 : 0;
    return new ChannelThumbnails({
      channelId: c.id, settings, createThumbnailer: o.createThumbnailer, logger, events: o.events, now: o.now,
      store: config.archive.enabled ? new ThumbnailStore(new ThumbnailPaths(ThumbnailPaths.channel(config.dataDir, c.id)), o.gate,
        logger.child({ component: 'thumbnails', channel: c.id }), this.o.archiveFiles, o.now) : undefined,
      // The live track lists the window's tiles; a minute more covers a segment still listed after it slid.
      retainMs: Math.max(hotMs, dvrMs) + 60_000,
    });
  }

  /**
   * Serves an API channel with these settings. Publish and playback settings apply at once;
   * the rest (latency mode, ladder, DVR, recording, thumbnails) shapes the pipeline, so a channel
   * that is publishing gets it when its session is over and it is idle again. The same
   * definition again (another origin's change notice for an update this one applied) changes
   * nothing.
   */
  async define(c: ChannelDefinition): Promise<'created' | 'updated' | 'pending' | 'unchanged'> {
    const entry = this.entries.get(c.id);
    if (entry?.settings.source === 'config') throw new Error(`channel ${c.id} is defined in the config file`);
    if (!entry) {
      await this.insert(c);
      return 'created';
    }
    if (isDeepStrictEqual(entry.pending ?? entry.definition, c)) return 'unchanged';
    Object.assign(entry.settings, { autoStart: c.autoStart, playbackTokens: c.playbackTokens, allowList: parseAllowList(c.ipAllowList),
      retentionMs: (c.retentionHours ?? this.config.archive.retentionHours) * 3_600_000 });
    entry.pending = c;
    if (entry.channel.state !== 'idle') return 'pending';
    await this.applyPending(c.id);
    return 'updated';
  }

  private async insert(c: ChannelDefinition): Promise<void> {
    const entry = this.build(c, 'api');
    this.entries.set(c.id, entry);
    // A channel added after start (an id used before keeps its archive) gets its DVR window back like the others.
    if (this.restored) await Promise.all([entry.channel.restore(), this.restoreThumbnails(entry)]);
  }

  private async applyPending(id: string): Promise<void> {
    const entry = this.entries.get(id);
    const next = entry?.pending;
    if (!entry || !next || entry.channel.state !== 'idle') return;
    this.entries.delete(id);
    await this.closeEntry(entry);
    if (!this.entries.has(id)) await this.insert(next);
    this.logger.info({ channel: id }, 'channel settings applied');
  }

  /** Stops serving an API channel: its publisher is disconnected, the session ends, its URLs answer 404. */
  async remove(id: string): Promise<boolean> {
    const entry = this.entries.get(id);
    if (!entry) return false;
    if (entry.settings.source === 'config') throw new Error(`channel ${id} is defined in the config file`);
    this.entries.delete(id);
    await entry.channel.stop('channel deleted');
    await this.closeEntry(entry);
    return true;
  }

  private async closeEntry(entry: Entry): Promise<void> {
    await entry.channel.close();
    await entry.thumbnails?.close();
  }

  get(id: string): Channel | undefined {
    return this.entries.get(id)?.channel;
  }

  /** The ids of the channels the API defined (not the config file's). */
  apiChannelIds(): string[] {
    return [...this.entries].filter(([, e]) => e.settings.source === 'api').map(([id]) => id);
  }

  settings(id: string): Readonly<ChannelSettings> | undefined {
    return this.entries.get(id)?.settings;
  }

  access(id: string): ChannelAccess | undefined {
    const e = this.entries.get(id);
    return e && { tokenRequired: e.settings.playbackTokens === 'required', preview: e.channel.inPreview };
  }

  thumbnails(id: string): ChannelThumbnails | undefined {
    return this.entries.get(id)?.thumbnails;
  }

  /** Each archived channel with its retention: what the archive sweeper works through. */
  archived(): { channel: Channel; retentionMs: number }[] {
    return [...this.entries.values()].filter((e) => e.channel.archive).map((e) => ({ channel: e.channel, retentionMs: e.settings.retentionMs }));
  }

  all(): Channel[] {
    return [...this.entries.values()].map((e) => e.channel);
  }

  /** Finds a config channel and the input a stream key publishes to, in constant time per key (no early exit on a match). */
  byStreamKey(key: string): { channel: Channel; input: string } | undefined {
    const d = digest(key);
    let found: { channelId: string; input: string } | undefined;
    for (const k of this.keys) if (timingSafeEqual(k.digest, d)) found = k;
    const channel = found && this.get(found.channelId);
    return channel && { channel, input: found!.input };
  }

  /** Brings back each channel's DVR window from the archive, and its thumbnails (process start). */
  /** The live thumbnails track's recent tiles back from the archive; unreadable (an object store away): it starts empty. */
  private async restoreThumbnails(e: Entry): Promise<void> {
    try {
      await e.thumbnails?.restore();
    } catch (err) {
      this.logger.error({ err, channel: e.channel.id }, 'cannot read the thumbnails to restore; the channel starts without them');
    }
  }

  async restore(): Promise<void> {
    this.restored = true;
    await Promise.all([...this.entries.values()].flatMap((e) => [e.channel.restore(), this.restoreThumbnails(e)]));
  }

  async close(): Promise<void> {
    const entries = [...this.entries.values()];
    await Promise.all(entries.map((e) => e.channel.close()));
    // After the channels: their sessions have ended, so the last sheets are final and get written.
    await Promise.all(entries.map((e) => e.thumbnails?.close()));
  }
}
