import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { Channel, type PipelineFactory } from './channel.js';
import { latencyProfile } from './latency-profile.js';

/** SHA-256 so every comparison is over 32 bytes: equal-length, constant-time, no length leak. */
const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The channels this origin serves, by id and by stream key. */
export class ChannelRegistry {
  private readonly byId = new Map<string, Channel>();
  private readonly keys: { digest: Buffer; channel: Channel }[] = [];

  constructor(config: Config, createPipeline: PipelineFactory, logger: Logger, now?: () => number) {
    for (const c of config.channels) {
      const ch = new Channel({
        id: c.id, streamKey: c.streamKey,
        profile: latencyProfile(c.latencyMode, config.latencyModes[c.latencyMode]),
        reconnectWindowMs: config.reconnectWindowSec * 1000,
        endedRetentionMs: config.endedRetentionSec * 1000,
        createPipeline, logger, now,
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

  async close(): Promise<void> {
    await Promise.all(this.all().map((c) => c.close()));
  }
}
