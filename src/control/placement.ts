import type { Logger } from 'pino';
import type { PlacementRepository } from '../db/repository.js';
import type { Placement } from '../db/types.js';
import type { EventBus } from '../events.js';

/** What placement needs of a channel here: whether its publish session is on this origin (a publisher, or its reconnect window). */
export interface PlacedChannels {
  publishing(channelId: string): boolean;
}

/** How long after its owner died a channel's requests wait for it to come back (a publisher reconnecting through a load balancer). */
const COMEBACK_WAIT_MS = 10_000;

export interface ChannelPlacementOptions {
  repo: PlacementRepository;
  originId: string;
  originUrl: string;
  leaseMs: number;
  events: EventBus;
  channels: PlacedChannels;
  logger: Logger;
  now?: () => number;
}

/**
 * Which origin each channel is live on (issue 19): a lease row per channel in the shared
 * database. This origin takes the lease when it accepts a channel's publisher (and when one
 * reconnects), renews it every third of its length while the publisher is on, and gives it up
 * when the session ends; a lease that runs out (its origin died) is free for the next claimant.
 * Every placement is kept in memory, read at start and kept current by the change notices
 * (changed()), so delivery asks `elsewhere()` with no database round trip.
 */
export class ChannelPlacement {
  private readonly known = new Map<string, Placement>();
  /** Placements whose origin did not answer: not taken back from the database until renewed (a new expiresAt). */
  private readonly unreachable = new Map<string, Placement & { lostAt: number }>();
  private readonly held = new Set<string>();
  /**
   * Channels whose publish session is here (from their events), held or not: a claim that lost to
   * a live lease is tried again at each heartbeat until that lease runs out, also when its owner
   * is forgotten as unreachable and so no longer in `known`.
   */
  private readonly wanted = new Set<string>();
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly now: () => number;

  constructor(private readonly o: ChannelPlacementOptions) {
    this.now = o.now ?? Date.now;
  }

  async start(): Promise<void> {
    await this.reload();
    const take = (p: { channel: string }) => { this.wanted.add(p.channel); void this.claim(p.channel); };
    this.unsubscribe.push(this.o.events.on('channel.preview', take), this.o.events.on('channel.reconnected', take),
      this.o.events.on('channel.ended', (p) => { this.wanted.delete(p.channel); void this.release(p.channel); }));
    this.heartbeat = setInterval(() => void this.renew(), Math.max(1000, Math.round(this.o.leaseMs / 3)));
    this.heartbeat.unref();
  }

  /** The owning origin's URL when the channel is live on another origin (and not here); else undefined. */
  elsewhere(channelId: string): string | undefined {
    const p = this.known.get(channelId);
    if (!p || p.originId === this.o.originId || p.expiresAt <= this.now()) return undefined;
    return this.o.channels.publishing(channelId) ? undefined : p.originUrl;
  }

  /**
   * The owner could not be reached: it died before its lease ran out. It is forgotten until a
   * change notice says otherwise (a renewal does not announce itself, so a live owner that was
   * only unreachable for a moment is found again at the next full reading).
   */
  lost(channelId: string, ownerUrl: string): void {
    const p = this.known.get(channelId);
    if (!p || p.originUrl !== ownerUrl) return;
    this.known.delete(channelId);
    this.unreachable.set(channelId, { ...p, lostAt: this.now() });
    this.o.logger.warn({ channel: channelId, origin: p.originId, url: ownerUrl }, 'placement: the origin the channel is live on does not answer; serving it here');
  }

  /**
   * A channel whose owner was just lost: its publisher is most likely coming back through a load
   * balancer, here or elsewhere, so its requests wait until this time (epoch ms) instead of
   * failing at once (hls.js gives up after three failed reloads, about 3 s).
   */
  comebackUntil(channelId: string): number | undefined {
    const lost = this.unreachable.get(channelId);
    if (!lost) return undefined;
    const until = lost.lostAt + COMEBACK_WAIT_MS;
    return until > this.now() ? until : undefined;
  }

  /** The origin a channel is live on, as far as this one knows (the API's status). */
  placement(channelId: string): Placement | undefined {
    const p = this.known.get(channelId);
    return p && p.expiresAt > this.now() ? p : undefined;
  }

  /** A change notice for a placement row: read it again. */
  async changed(channelId: string): Promise<void> {
    const p = await this.o.repo.get(channelId).catch((err) => { this.o.logger.warn({ err, channel: channelId }, 'cannot read a placement'); return null; });
    if (p === null) return;
    if (p) this.remember(p);
    else this.known.delete(channelId);
  }

  private remember(p: Placement): void {
    const dead = this.unreachable.get(p.channelId);
    if (dead && dead.originId === p.originId && dead.expiresAt === p.expiresAt) return;
    this.unreachable.delete(p.channelId);
    this.known.set(p.channelId, p);
  }

  /** Every placement again (start, and after the change notices were cut). */
  async reload(): Promise<void> {
    const all = await this.o.repo.list();
    this.known.clear();
    for (const p of all) this.remember(p);
  }

  private async claim(channelId: string): Promise<void> {
    try {
      const p = await this.o.repo.claim({ channelId, originId: this.o.originId, originUrl: this.o.originUrl, expiresAt: this.now() + this.o.leaseMs }, this.now());
      // A lost claim returns the holder's row: an owner already found unreachable stays forgotten.
      if (p.originId === this.o.originId) this.known.set(channelId, p);
      else this.remember(p);
      if (p.originId === this.o.originId) {
        if (!this.held.has(channelId)) this.o.logger.info({ channel: channelId }, 'placement: the channel is live on this origin');
        this.held.add(channelId);
      } else {
        this.held.delete(channelId);
        this.o.logger.warn({ channel: channelId, origin: p.originId, until: new Date(p.expiresAt).toISOString() },
          'placement: the channel is also published on another origin, which holds it until its lease runs out');
      }
    } catch (err) {
      this.o.logger.warn({ err, channel: channelId }, 'placement: cannot take the lease (retried at the next heartbeat)');
    }
  }

  private async release(channelId: string): Promise<void> {
    if (!this.held.delete(channelId)) return;
    try {
      await this.o.repo.release(channelId, this.o.originId);
      this.known.delete(channelId);
    } catch (err) {
      this.o.logger.warn({ err, channel: channelId }, 'placement: cannot give the lease up (it runs out by itself)');
    }
  }

  /**
   * Renews what this origin holds, claims a channel whose publisher is here but whose lease went
   * to another (expired) or failed, and reads every placement again: renewals are not announced,
   * and an owner forgotten as unreachable (lost()) that is in fact alive comes back this way.
   */
  private async renew(): Promise<void> {
    await this.reload().catch((err) => this.o.logger.warn({ err }, 'placement: cannot read the placements'));
    const want = new Set([...this.held, ...this.wanted]);
    for (const [id, p] of this.known) if (p.originId !== this.o.originId && this.o.channels.publishing(id)) want.add(id);
    for (const id of want) {
      if (this.o.channels.publishing(id)) await this.claim(id);
      else {
        this.wanted.delete(id);
        await this.release(id);
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const off of this.unsubscribe) off();
    // A clean stop hands the channels over at once instead of at the leases' end.
    await Promise.all([...this.held].map((id) => this.o.repo.release(id, this.o.originId).catch(() => undefined)));
    this.held.clear();
  }
}
