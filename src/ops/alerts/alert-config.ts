import { z } from 'zod';
import type { LatencyProfile } from '../../media/latency-profile.js';

/**
 * The alert rules' settings: the config schema (every key optional, globally under
 * `alerts.rules` and per channel under `channels[].alerts.rules`), the built-in defaults, and
 * how they combine for one channel: built-in default ▶ its latency mode's default ▶ the global
 * setting ▶ the channel's. A key set globally therefore applies to every mode.
 */

const seconds = (max: number) => z.number().min(0).max(max);

/** Every rule has these: hysteresis (raise after the condition held forSec, clear after it was gone clearSec). */
const timing = { enabled: z.boolean(), forSec: seconds(3600), clearSec: seconds(3600) };

const channelRuleShapes = {
  /** No frame for afterSec while a publisher is connected and the channel is live or in preview. */
  publisherStalled: { ...timing, afterSec: z.number().min(0.5).max(600) },
  /** The 10 s bitrate of the video track (audio for audio-only) below a floor. */
  bitrateLow: { ...timing, minKbps: z.number().min(0).max(1_000_000), audioOnlyMinKbps: z.number().min(0).max(10_000) },
  /** …or above a ceiling. */
  bitrateHigh: { ...timing, maxKbps: z.number().min(1).max(1_000_000), audioOnlyMaxKbps: z.number().min(1).max(10_000) },
  /** The last keyframe interval above maxSec; default: the mode's TARGETDURATION + 0.5 s. */
  keyframeInterval: { ...timing, maxSec: z.number().min(0.1).max(120) },
  /** |audio clock − video clock| above maxMs. */
  avDrift: { ...timing, maxMs: z.number().min(1).max(60_000) },
  /** At least minFrames refused by ingest or the packager within the last windowSec. */
  framesDropped: { ...timing, minFrames: z.number().int().min(1).max(1_000_000), windowSec: z.number().min(1).max(3600) },
  /** An ABR rung encoding slower than real time (realTimeFactor below the bound). */
  transcodeSlow: { ...timing, minRealTimeFactor: z.number().min(0.01).max(2) },
  /** The channel's archive writes waiting for the disk above maxMb (at 64 MB segments are dropped). */
  archiveQueue: { ...timing, maxMb: z.number().min(0.1).max(1024) },
};

const originRuleShapes = {
  /** Free space under dataDir below storage.minFreeMb (archiving and recording paused). */
  diskLow: { ...timing },
  /** A webhook endpoint failed this many attempts in a row. */
  webhookFailing: { ...timing, consecutiveFailures: z.number().int().min(1).max(1000) },
  /** The event loop's delay, 99th percentile over each evaluation interval, above p99Ms. */
  eventLoopLag: { ...timing, p99Ms: z.number().min(1).max(60_000) },
  /** The oldest upload to the object store waiting longer than maxAgeSec (the store is away or too slow). */
  objectStoreBehind: { ...timing, maxAgeSec: z.number().min(1).max(86_400) },
};

type Shapes = typeof channelRuleShapes & typeof originRuleShapes;
export type ChannelRuleName = keyof typeof channelRuleShapes;
export type OriginRuleName = keyof typeof originRuleShapes;
export type RuleName = ChannelRuleName | OriginRuleName;
/** A rule's settings, every key resolved. */
export type RuleSettings<R extends RuleName> = { [K in keyof Shapes[R]]: Shapes[R][K] extends z.ZodTypeAny ? z.infer<Shapes[R][K]> : never };
export type ChannelRuleSettings = { [R in ChannelRuleName]: RuleSettings<R> };
export type OriginRuleSettings = { [R in OriginRuleName]: RuleSettings<R> };

export const CHANNEL_RULES = Object.keys(channelRuleShapes) as ChannelRuleName[];
export const ORIGIN_RULES = Object.keys(originRuleShapes) as OriginRuleName[];

const partialRules = <S extends Record<string, z.ZodRawShape>>(shapes: S) =>
  z.object(Object.fromEntries(Object.entries(shapes).map(([name, shape]) => [name, z.object(shape).partial().strict().optional()])) as
    { [K in keyof S]: z.ZodOptional<z.ZodObject<{ [F in keyof S[K]]: z.ZodOptional<S[K][F]> }, 'strict'>> }).strict();

/** config `alerts`. */
export const alertsSchema = z.object({
  enabled: z.boolean().default(true),
  /** How often every rule is evaluated (it reads figures the origin keeps anyway: cheap). */
  evaluateIntervalSec: z.number().min(0.1).max(60).default(1),
  rules: partialRules({ ...channelRuleShapes, ...originRuleShapes }).default({}),
}).strict().default({});

/** config `channels[].alerts`: the channel rules' settings for this channel. */
export const channelAlertsSchema = z.object({
  enabled: z.boolean().optional(),
  rules: partialRules(channelRuleShapes).optional(),
}).strict();

export type AlertsConfig = z.infer<typeof alertsSchema>;
export type ChannelAlertsConfig = z.infer<typeof channelAlertsSchema>;

/** The built-in defaults; the README's alert table lists them. publisherStalled.afterSec and keyframeInterval.maxSec depend on the mode. */
const DEFAULTS = {
  publisherStalled: { enabled: true, forSec: 0, clearSec: 2 },
  bitrateLow: { enabled: true, forSec: 10, clearSec: 10, minKbps: 100, audioOnlyMinKbps: 16 },
  bitrateHigh: { enabled: true, forSec: 10, clearSec: 10, maxKbps: 25_000, audioOnlyMaxKbps: 512 },
  keyframeInterval: { enabled: true, forSec: 0, clearSec: 10 },
  avDrift: { enabled: true, forSec: 5, clearSec: 10, maxMs: 500 },
  framesDropped: { enabled: true, forSec: 0, clearSec: 10, minFrames: 5, windowSec: 10 },
  transcodeSlow: { enabled: true, forSec: 10, clearSec: 10, minRealTimeFactor: 0.95 },
  archiveQueue: { enabled: true, forSec: 5, clearSec: 10, maxMb: 16 },
  diskLow: { enabled: true, forSec: 0, clearSec: 0 },
  webhookFailing: { enabled: true, forSec: 0, clearSec: 0, consecutiveFailures: 3 },
  eventLoopLag: { enabled: true, forSec: 5, clearSec: 10, p99Ms: 200 },
  objectStoreBehind: { enabled: true, forSec: 0, clearSec: 10, maxAgeSec: 120 },
} satisfies { [R in ChannelRuleName]: Omit<RuleSettings<R>, 'afterSec' | 'maxSec'> } & OriginRuleSettings;

/**
 * A publisher stalls after this long without a frame: sooner where players hold less media
 * (ultra-low players are 3 parts and a segment behind, so 2 s is already a visible stall).
 * Keep it below rtmp.idleTimeoutSec, or the publisher is disconnected first.
 */
export const STALLED_AFTER_SEC = { 'ultra-low': 2, low: 3, normal: 5 } as const;

/** Every channel rule's settings for one channel. */
export function channelRuleSettings(profile: LatencyProfile, global: AlertsConfig, channel?: ChannelAlertsConfig): ChannelRuleSettings {
  const modeDefaults: { [R in ChannelRuleName]?: object } = {
    publisherStalled: { afterSec: STALLED_AFTER_SEC[profile.mode] },
    // Beyond the cutter's longest segment (TARGETDURATION + 0.499 s) a segment cannot end at a keyframe.
    keyframeInterval: { maxSec: profile.segmentMaxMs / 1000 },
  };
  const off = global.enabled === false || channel?.enabled === false;
  const out = {} as Record<ChannelRuleName, object>;
  for (const r of CHANNEL_RULES) {
    const merged = { ...DEFAULTS[r], ...modeDefaults[r], ...global.rules[r], ...channel?.rules?.[r] };
    out[r] = off ? { ...merged, enabled: false } : merged;
  }
  return out as ChannelRuleSettings;
}

export function originRuleSettings(global: AlertsConfig): OriginRuleSettings {
  const out = {} as Record<OriginRuleName, object>;
  for (const r of ORIGIN_RULES) out[r] = { ...DEFAULTS[r], ...global.rules[r], ...(global.enabled === false ? { enabled: false } : {}) };
  return out as OriginRuleSettings;
}
