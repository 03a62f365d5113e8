import { channelSchema } from '../config/schema.js';
import type { Channel as ChannelRecord, JsonObject } from '../db/types.js';
import type { ChannelDefinition } from '../media/channel-registry.js';

/** A channel as the config file would define it, without a stream key: what the API stores is checked with the same rules. */
const definitionSchema = channelSchema.omit({ streamKey: true });

export type TranscodeValue = ChannelDefinition['transcode'];

/**
 * How a channel's transcode profile is stored (a JSON object column): null for passthrough,
 * `{ "ladder": "hd" }` or `{ "ladder": "720p/480p" }` for a named ladder or a rung list, and a
 * custom ladder `{ "rungs": [...], "keepSource": true }` as it is.
 */
export function transcodeToStored(value: TranscodeValue): JsonObject | null {
  if (typeof value === 'string') return value === 'passthrough' ? null : { ladder: value };
  return value as unknown as JsonObject;
}

export function transcodeFromStored(stored: JsonObject | null): TranscodeValue {
  if (stored === null) return 'passthrough';
  if (typeof stored.ladder === 'string') return stored.ladder;
  return stored as unknown as TranscodeValue;
}

/** The registry's definition of a database channel; throws with every problem when the row breaks the channel rules. */
export function definitionOf(record: ChannelRecord): ChannelDefinition {
  const parsed = definitionSchema.safeParse({
    id: record.id,
    latencyMode: record.latencyMode,
    dvrWindowSec: record.dvrWindowSec ?? undefined,
    record: record.record,
    retentionHours: record.retentionHours ?? undefined,
    transcode: transcodeFromStored(record.transcodeProfile),
    autoStart: record.autoStart,
    playbackTokens: record.playbackTokenPolicy,
    ipAllowList: record.ipAllowList,
    failover: record.failover ?? undefined,
    srtPassphrase: record.srtPassphrase ?? undefined,
  });
  if (!parsed.success) {
    throw new Error(`channel ${record.id}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(channel)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
