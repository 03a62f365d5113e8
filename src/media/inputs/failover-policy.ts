import type { InputFeed } from './input-feed.js';

/** A channel's failover settings with their defaults resolved (config: channels[].failover). */
export interface FailoverSettings {
  stallMs: number;
  minBitrateKbps: number;
  failback: 'auto' | 'manual';
  failbackAfterMs: number;
  /** auto: the card once a backup input has connected in the session, else off; gap: EXT-X-GAP instead of pictures. */
  slate: 'card' | 'image' | 'gap' | 'off' | 'auto';
  slateImage?: string;
}

/** Why an input is not fit to be on air. */
export type Unfit = 'stalled' | 'low-bitrate' | 'no-keyframe' | 'disconnected';

/** Why the switch moves: an input's problem, an input back, or an operator. */
export type SwitchReason = Unfit | 'failback' | 'manual' | 'input-returned';

/** An input that has not sent its first frame yet gets this long before it counts as stalled. */
const FIRST_FRAME_GRACE_MS = 5_000;
/** The bitrate floor is judged on a whole second, so not in an input's first two. */
const BITRATE_GRACE_MS = 2_000;

/** Why this input cannot be on air now; undefined when it can. */
export function unfit(feed: InputFeed, s: FailoverSettings, now: number): Unfit | undefined {
  if (feed.closed) return 'disconnected';
  if (feed.lastFrameAt === 0) return now - feed.connectedAt > Math.max(s.stallMs, FIRST_FRAME_GRACE_MS) ? 'stalled' : 'no-keyframe';
  if (now - feed.lastFrameAt > s.stallMs) return 'stalled';
  if (!feed.hasSwitchPoint) return 'no-keyframe';
  if (s.minBitrateKbps > 0 && now - feed.connectedAt >= BITRATE_GRACE_MS && feed.bitrate(now) < s.minBitrateKbps * 1000) return 'low-bitrate';
  return undefined;
}

/** The active input is failing: stalled, or below the bitrate floor (an input still starting is not). */
export function failing(feed: InputFeed, s: FailoverSettings, now: number): Unfit | undefined {
  const why = unfit(feed, s, now);
  return why === 'no-keyframe' ? undefined : why;
}

export type OnAir = InputFeed | 'slate' | undefined;

export interface Choice {
  target: OnAir;
  reason?: SwitchReason;
}

/**
 * What should be on air: the active input while it is fit (unless auto failback brings back a
 * higher-priority input that has been fit for failbackAfterMs, and no operator pinned the
 * active one), else the fit input of highest priority, else the slate (when the channel has
 * one), else the active input as it is (players wait). Pure: the switch acts on the answer.
 */
export function choose(o: { feeds: readonly InputFeed[]; active: OnAir; settings: FailoverSettings; now: number; pinned: boolean }): Choice {
  const { settings: s, now, active } = o;
  const fit = o.feeds.filter((f) => f.healthySince !== undefined).sort((a, b) => a.priority - b.priority);
  const best = fit[0];
  if (active && active !== 'slate' && !failing(active, s, now)) {
    if (best && best.priority < active.priority && !o.pinned && s.failback === 'auto' && now - best.healthySince! >= s.failbackAfterMs) {
      return { target: best, reason: 'failback' };
    }
    return { target: active };
  }
  const reason: SwitchReason = active && active !== 'slate' ? failing(active, s, now)! : 'input-returned';
  if (best) return { target: best, reason };
  if (s.slate !== 'off' && active !== undefined) return { target: 'slate', reason };
  return { target: active };
}
