import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { Channel, type PipelineFactory, type TranscodeProfile } from './channel.js';
import { resolveLadder } from './transcode/ladder.js';
import { latencyProfile } from './latency-profile.js';
import { ChannelArchive } from '../store/archive/channel-archive.js';
import { ArchivePaths } from '../store/archive/archive-layout.js';
import { ALWAYS_WRITABLE, type StorageGate } from '../store/disk/storage-gate.js';
import { SourceRecorder } from '../store/recording/source-recorder.js';
import { EventBus } from '../events.js';
import { join } from 'node:path';
import { ChannelThumbnails, type ThumbnailerFactory } from './thumbnails/channel-thumbnails.js';
import { thumbnailSettings } from './thumbnails/thumbnail-settings.js';
import { ThumbnailStore } from './thumbnails/thumbnail-store.js';
import { ThumbnailPaths } from './thumbnails/thumbnail-layout.js';

/** SHA-256 so every comparison is over 32 bytes: equal-length, constant-time, no length leak. */
const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The channel's ladder with the shared encoder settings; undefined for passthrough. */
function transcodeProfile(config: Config, c: Config['channels'][number]): TranscodeProfile | undefined {
  const ladder = resolveLadder(c.transcode, config.transcode.ladders);
  if (!ladder) return undefined;
  const t = config.transcode;
  // zerolatency: no lookahead, no frame threads; the encoder adds no delay beyond one frame.
  return { ladder, preset: t.preset, tune: c.latencyMode === 'ultra-low' ? 'zerolatency' : undefined,
    encoderThreads: t.encoderThreads, decoderThreads: t.decoderThreads };
}

/** The channels this origin serves, by id and by stream key. */
export class ChannelRegistry {
  private readonly byId = new Map<string, Channel>();
  private readonly keys: { digest: Buffer; channel: Channel }[] = [];
  private readonly thumbnailsById = new Map<string, ChannelThumbnails>();

  /** Without `createThumbnailer` no channel has thumbnails (tests with fake pipelines). */
  constructor(config: Config, createPipeline: PipelineFactory, logger: Logger,
    o: { now?: () => number; gate?: StorageGate; events?: EventBus; createThumbnailer?: ThumbnailerFactory } = {}) {
    const { now } = o, gate = o.gate ?? ALWAYS_WRITABLE, events = o.events ?? new EventBus();
    for (const c of config.channels) {
      const thumbnails = this.thumbnailsFor(config, c, logger, { gate, events, now, createThumbnailer: o.createThumbnailer });
      const ch = new Channel({
        id: c.id, streamKey: c.streamKey,
        profile: latencyProfile(c.latencyMode, config.latencyModes[c.latencyMode]),
        reconnectWindowMs: config.reconnectWindowSec * 1000,
        endedRetentionMs: config.endedRetentionSec * 1000,
        archive: config.archive.enabled
          ? new ChannelArchive(ArchivePaths.channel(config.dataDir, c.id), c.id, gate, logger) : undefined,
        dvrWindowMs: (c.dvrWindowSec ?? config.dvr.windowSec) * 1000,
        recorder: c.record ? new SourceRecorder({
          channelId: c.id, dir: join(config.dataDir, 'recordings', c.id), rotateAfterMs: config.recording.rotateMinutes * 60_000,
          gate, events, logger, now,
        }) : undefined,
        transcode: transcodeProfile(config, c),
        taps: thumbnails ? [thumbnails] : [],
        createPipeline, logger, now, events,
      });
      this.byId.set(c.id, ch);
      this.keys.push({ digest: digest(c.streamKey), channel: ch });
    }
  }

  /** A channel's thumbnails: periodic pictures and previews, kept on disk when it is archived. */
  private thumbnailsFor(config: Config, c: Config['channels'][number], logger: Logger,
    o: { gate: StorageGate; events: EventBus; now?: () => number; createThumbnailer?: ThumbnailerFactory }): ChannelThumbnails | undefined {
    const settings = thumbnailSettings(config.thumbnails, c.thumbnails);
    if (!settings.enabled || !o.createThumbnailer) return undefined;
    const hotMs = config.latencyModes[c.latencyMode].playlistWindowSec * 1000;
    const dvrMs = config.archive.enabled ? (c.dvrWindowSec ?? config.dvr.windowSec) * 1000 : 0;
    const th = new ChannelThumbnails({
      channelId: c.id, settings, createThumbnailer: o.createThumbnailer, logger, events: o.events, now: o.now,
      store: config.archive.enabled ? new ThumbnailStore(new ThumbnailPaths(ThumbnailPaths.channel(config.dataDir, c.id)), o.gate,
        logger.child({ component: 'thumbnails', channel: c.id }), undefined, o.now) : undefined,
      // The live track lists the window's tiles; a minute more covers a segment still listed after it slid.
      retainMs: Math.max(hotMs, dvrMs) + 60_000,
    });
    this.thumbnailsById.set(c.id, th);
    return th;
  }

  get(id: string): Channel | undefined {
    return this.byId.get(id);
  }

  thumbnails(id: string): ChannelThumbnails | undefined {
    return this.thumbnailsById.get(id);
  }

  all(): Channel[] {
    return [...this.byId.values()];
  }

  /** Finds a channel by stream key in constant time per channel (no early exit on a match). */
  byStreamKey(key: string): Channel | undefined {
    const d = digest(key);
    let found: Channel | undefined;
    for (const k of this.keys) if (timingSafeEqual(k.digest, d)) found = k.channel;
    return found;
  }

  /** Brings back each channel's DVR window from the archive, and its thumbnails (process start). */
  async restore(): Promise<void> {
    await Promise.all([...this.all().map((c) => c.restore()), ...[...this.thumbnailsById.values()].map((t) => t.restore())]);
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((c) => c.close()));
    // After the channels: their sessions have ended, so the last sheets are final and get written.
    await Promise.all([...this.thumbnailsById.values()].map((t) => t.close()));
  }
}
