import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { SealedText } from '../control/sealed-text.js';
import type { RestreamTargetRepository } from '../db/repository.js';
import type { EventBus } from '../events.js';
import type { SourceTap } from '../media/channel.js';
import { ChannelRestream } from './channel-restream.js';
import type { RestreamTargetSpec, RestreamTargetStatus } from './restream-target.js';

/**
 * Every channel's restream targets on this origin: those of the config file (ids `config-1`…)
 * and those stored through the API (URLs sealed with the server's key), loaded at start and
 * again when the API (here, or on another origin: a change notice) changes a channel's list.
 * A channel's ChannelRestream outlives rebuilds of the channel (new settings), so its targets'
 * connections and counters do too.
 */
export class RestreamService {
  private readonly channels = new Map<string, ChannelRestream>();
  private readonly log: Logger;
  /** The database's targets, once the origin has opened it (config targets work without). */
  private store: { repo: RestreamTargetRepository; sealer: SealedText } | undefined;

  constructor(private readonly o: { config: Config; events: EventBus; logger: Logger }) {
    this.log = o.logger.child({ component: 'restream' });
  }

  useStore(repo: RestreamTargetRepository, sealer: SealedText): void {
    this.store = { repo, sealer };
  }

  /** The taps a channel's builds get: its ChannelRestream. */
  tapsFor(channelId: string): SourceTap[] {
    return [this.channel(channelId)];
  }

  /** Reads the channel's targets again (config and database) and applies them. */
  async load(channelId: string): Promise<void> {
    const stored = this.store ? await this.store.repo.listForChannel(channelId) : [];
    const specs: RestreamTargetSpec[] = [...this.configTargets(channelId)];
    for (const row of stored) {
      let url: string;
      try {
        url = this.store!.sealer.open(row.sealedUrl);
      } catch (err) {
        this.log.error({ channel: channelId, restream: row.id, reason: (err as Error).message }, 'cannot open a stored restream URL (another server secret?): the target is left out');
        continue;
      }
      specs.push({ id: row.id, name: row.name, url, rendition: row.rendition, enabled: row.enabled, origin: 'api' });
    }
    this.channel(channelId).setTargets(specs);
  }

  async loadAll(channelIds: readonly string[]): Promise<void> {
    await Promise.all(channelIds.map((id) => this.load(id).catch((err) => this.log.error({ err, channel: id }, 'cannot read the channel\'s restream targets'))));
  }

  status(channelId: string): RestreamTargetStatus[] | undefined {
    return this.channels.get(channelId)?.status();
  }

  /** Every channel with targets: what /metrics lists. */
  all(): { channelId: string; targets: RestreamTargetStatus[] }[] {
    return [...this.channels].filter(([, c]) => c.size > 0).map(([channelId, c]) => ({ channelId, targets: c.status() }));
  }

  control(channelId: string, targetId: string, action: 'start' | 'stop'): 'started' | 'stopped' | 'not-live' | 'unknown' {
    const c = this.channels.get(channelId);
    if (!c) return 'unknown';
    if (action === 'start') return c.start(targetId);
    return c.stop(targetId) ? 'stopped' : 'unknown';
  }

  /** The channel was deleted: its targets stop. */
  forget(channelId: string): void {
    this.channels.get(channelId)?.close('the channel was deleted');
    this.channels.delete(channelId);
  }

  close(): void {
    for (const c of this.channels.values()) c.close('the origin is closing');
    this.channels.clear();
  }

  private channel(channelId: string): ChannelRestream {
    let c = this.channels.get(channelId);
    if (!c) {
      const r = this.o.config.restream;
      c = new ChannelRestream({
        channelId, logger: this.o.logger, events: this.o.events, reconnectWindowMs: this.o.config.reconnectWindowSec * 1000,
        target: { maxQueueBytes: r.maxQueueKb * 1024, stallTimeoutMs: r.stallTimeoutSec * 1000, connectTimeoutMs: r.connectTimeoutSec * 1000 },
      });
      this.channels.set(channelId, c);
    }
    return c;
  }

  private configTargets(channelId: string): RestreamTargetSpec[] {
    const ch = this.o.config.channels.find((c) => c.id === channelId);
    return (ch?.restream ?? []).map((r, i) => ({
      id: `config-${i + 1}`, name: r.name ?? `target ${i + 1}`, url: r.url, rendition: r.rendition, enabled: r.enabled, origin: 'config' as const,
    }));
  }
}
