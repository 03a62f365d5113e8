import type { Logger } from 'pino';
import { newId } from '../../db/ids.js';
import type { AlertRepository } from '../../db/repository.js';
import type { AlertRaised, EventBus } from '../../events.js';
import type { Channel } from '../../media/channel.js';
import {
  CHANNEL_RULES, channelRuleSettings, ORIGIN_RULES, originRuleSettings, type AlertsConfig, type ChannelAlertsConfig,
  type ChannelRuleSettings, type OriginRuleSettings, type RuleName,
} from './alert-config.js';
import { CHANNEL_CHECKS, type ChannelReading } from './channel-rules.js';
import type { Check } from './check.js';
import { CounterWindow } from './counter-window.js';
import { Hysteresis } from './hysteresis.js';
import { ORIGIN_CHECKS, type OriginReading } from './origin-rules.js';

export interface AlertEngineOptions {
  config: AlertsConfig;
  /** The channels to watch, read at every evaluation (API channels come and go). */
  channels: () => readonly WatchedChannel[];
  /** Per-channel settings (config channels'); API channels have none. */
  channelConfig: (id: string) => ChannelAlertsConfig | undefined;
  /** What the origin-wide rules read, without the event loop delay (the engine measures it). */
  origin: () => Omit<OriginReading, 'loopLagP99Ms'>;
  /** The event loop delay's p99 since the last call. */
  loopLagP99Ms: () => number | null;
  events: Pick<EventBus, 'emit'>;
  logger: Logger;
  /** Where alerts still active at the last stop are read at start; without it none are. */
  store?: Pick<AlertRepository, 'list'>;
  now?: () => number;
}

/** What the rules read of a channel (a Channel is one). */
export type WatchedChannel = Pick<Channel, 'id' | 'state' | 'profile' | 'ingest'> & { readonly archive?: { readonly tally: { readonly queuedBytes: number } } };

interface Active extends AlertRaised {
  raisedAt: number;
}

interface ChannelWatch {
  settings: ChannelRuleSettings;
  drops: CounterWindow;
}

const keyOf = (rule: string, channel: string | null): string => `${rule}\u0000${channel ?? ''}`;

/**
 * Evaluates every alert rule at a fixed interval (an unref'd timer; it reads figures the
 * origin keeps anyway), with hysteresis per rule and channel, and tells each raise and clear
 * as an event (alert.raised / alert.cleared: stored, listed in /v1/alerts, sent to webhooks)
 * and one log line with the reason. An alert still raised when the origin stopped is taken
 * back at start and cleared like any other once its condition is gone.
 */
export class AlertEngine {
  private readonly hysteresis = new Hysteresis();
  private readonly active = new Map<string, Active>();
  private readonly watches = new WeakMap<WatchedChannel, ChannelWatch>();
  private readonly originSettings: OriginRuleSettings;
  private readonly log: Logger;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: AlertEngineOptions) {
    this.log = opts.logger.child({ component: 'alerts' });
    this.now = opts.now ?? Date.now;
    this.originSettings = originRuleSettings(opts.config);
  }

  /** Takes back the alerts active at the last stop, then evaluates every evaluateIntervalSec. */
  async start(): Promise<void> {
    // Also when alerts are off: what was raised then clears at the first evaluation.
    await this.adopt();
    this.timer = setInterval(() => this.evaluate(), this.opts.config.evaluateIntervalSec * 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The alerts raised now (what `sigma_alerts_active` counts). */
  activeAlerts(): { rule: string; channel: string | null }[] {
    return [...this.active.values()].map(({ rule, channel }) => ({ rule, channel }));
  }

  /** One evaluation of every rule (the timer calls it; tests call it with their clock). */
  evaluate(): void {
    const now = this.now();
    const seen = new Set<string>();
    const loopLagP99Ms = this.opts.loopLagP99Ms();
    if (this.opts.config.enabled) {
      for (const channel of this.opts.channels()) this.evaluateChannel(channel, now, seen);
      const reading: OriginReading = { ...this.opts.origin(), loopLagP99Ms };
      for (const rule of ORIGIN_RULES) {
        const s = this.originSettings[rule];
        if (!s.enabled) continue;
        const check = (ORIGIN_CHECKS[rule] as (r: OriginReading, s: OriginRuleSettings[typeof rule]) => Check)(reading, s);
        this.observe(rule, null, check, s, now, seen);
      }
    }
    // Raised, but no longer evaluated: the channel was deleted, or alerts turned off by a new config.
    for (const [key, a] of this.active) {
      if (seen.has(key)) continue;
      this.hysteresis.forget(key);
      this.clear(key, a, { breached: false, value: null, threshold: a.threshold, unit: a.unit, message: 'no longer evaluated (the channel or the rule is gone)' }, now);
    }
  }

  private evaluateChannel(channel: WatchedChannel, now: number, seen: Set<string>): void {
    const w = this.watch(channel);
    const ingest = channel.ingest();
    w.drops.add(now, ingest.totals.droppedFrames);
    const reading: ChannelReading = {
      state: channel.state, ingest,
      droppedWithin: (ms) => w.drops.increaseWithin(ms),
      archiveQueueBytes: channel.archive?.tally.queuedBytes ?? 0,
    };
    for (const rule of CHANNEL_RULES) {
      const s = w.settings[rule];
      if (!s.enabled) continue;
      const check = (CHANNEL_CHECKS[rule] as (r: ChannelReading, s: ChannelRuleSettings[typeof rule]) => Check)(reading, s);
      this.observe(rule, channel.id, check, s, now, seen);
    }
  }

  /** A channel's settings and drop counter, made at its first evaluation (a channel object never changes its settings). */
  private watch(channel: WatchedChannel): ChannelWatch {
    let w = this.watches.get(channel);
    if (!w) {
      const settings = channelRuleSettings(channel.profile, this.opts.config, this.opts.channelConfig(channel.id));
      w = { settings, drops: new CounterWindow(settings.framesDropped.windowSec * 1000) };
      this.watches.set(channel, w);
    }
    return w;
  }

  private observe(rule: RuleName, channel: string | null, check: Check, s: { forSec: number; clearSec: number }, now: number, seen: Set<string>): void {
    const key = keyOf(rule, channel);
    seen.add(key);
    const t = this.hysteresis.observe(key, check.breached, now, s.forSec * 1000, s.clearSec * 1000);
    if (t === 'raise') this.raise(key, rule, channel, check, now);
    else if (t === 'clear') this.clear(key, this.active.get(key)!, check, now);
  }

  private raise(key: string, rule: RuleName, channel: string | null, c: Check, now: number): void {
    const alert: Active = { alertId: newId('alr', now), rule, channel, value: c.value, threshold: c.threshold, unit: c.unit, message: c.message, raisedAt: now };
    this.active.set(key, alert);
    const { raisedAt: _, ...payload } = alert;
    this.log.warn({ alertId: alert.alertId, rule, channel, value: c.value, threshold: c.threshold, unit: c.unit }, `alert raised: ${c.message}`);
    this.opts.events.emit('alert.raised', payload);
  }

  private clear(key: string, a: Active, c: Check, now: number): void {
    this.active.delete(key);
    const durationMs = now - a.raisedAt;
    const message = `cleared: ${c.message}`;
    this.log.info({ alertId: a.alertId, rule: a.rule, channel: a.channel, value: c.value, threshold: c.threshold, unit: c.unit, durationMs }, `alert ${message}`);
    this.opts.events.emit('alert.cleared', {
      alertId: a.alertId, rule: a.rule, channel: a.channel, value: c.value, threshold: c.threshold, unit: c.unit, message,
      raisedAt: new Date(a.raisedAt).toISOString(), durationMs,
    });
  }

  private async adopt(): Promise<void> {
    if (!this.opts.store) return;
    let cursor: string | null = null;
    do {
      const page = await this.opts.store.list({ state: 'active', limit: 500, cursor });
      for (const a of page.items) {
        const key = keyOf(a.rule, a.channelId);
        if (this.active.has(key)) continue;
        this.hysteresis.adopt(key);
        this.active.set(key, { alertId: a.id, rule: a.rule, channel: a.channelId, value: a.value, threshold: a.threshold, unit: a.unit,
          message: a.message, raisedAt: a.raisedAt });
      }
      cursor = page.nextCursor;
    } while (cursor);
    if (this.active.size > 0) this.log.info({ active: this.active.size }, 'alerts still active at the last stop taken back: each clears once its condition is gone');
  }
}
