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

  constructor(config: Config, createPipeline: PipelineFactory, logger: Logger,
    o: { now?: () => number; gate?: StorageGate; events?: EventBus } = {}) {
    const { now } = o, gate = o.gate ?? ALWAYS_WRITABLE, events = o.events ?? new EventBus();
    for (const c of config.channels) {
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
        createPipeline, logger, now, events,
      });
      this.byId.set(c.id, ch);
      this.keys.push({ digest: digest(c.streamKey), channel: ch });
    }
  }

  get(id: string): Channel | undefined {
    return this.byId.get(id);
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

  /** Brings back each channel's DVR window from the archive (process start). */
  async restore(): Promise<void> {
    await Promise.all(this.all().map((c) => c.restore()));
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((c) => c.close()));
  }
}
