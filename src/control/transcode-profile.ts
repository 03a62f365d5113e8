import type { TranscodeValue } from '../config/schema.js';
import type { JsonObject } from '../db/types.js';

/**
 * How a channel's transcode profile (the config's `transcode` value: 'passthrough', a ladder
 * name, a slash list of rung presets, or { rungs, keepSource }) is kept in the database's
 * `transcodeProfile` column, which holds a JSON object or null:
 *   'passthrough'          ⇄ null
 *   'sd', '720p/360p', …   ⇄ { "ladder": "sd" }
 *   { rungs, keepSource }  ⇄ itself
 * The value is kept as written (not resolved), so a named ladder of the config
 * (transcode.ladders) is looked up when the channel is applied, as for config channels:
 * `resolveLadder(transcodeValueOf(record.transcodeProfile), config.transcode.ladders)`.
 */
export function transcodeProfileOf(value: TranscodeValue): JsonObject | null {
  if (value === 'passthrough') return null;
  if (typeof value === 'string') return { ladder: value };
  return JSON.parse(JSON.stringify(value)) as JsonObject;
}

/** The inverse of transcodeProfileOf. */
export function transcodeValueOf(profile: JsonObject | null): TranscodeValue {
  if (profile === null) return 'passthrough';
  if (typeof profile.ladder === 'string') return profile.ladder;
  return profile as unknown as TranscodeValue;
}
