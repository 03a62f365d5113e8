import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { WebhookOutbox } from '../../db/repository.js';
import type { ClaimedDelivery } from '../../db/types.js';
import { nextRetryAt } from './backoff.js';
import { webhookRequest } from './payload.js';
import { postWebhook } from './post.js';

export interface WebhookSenderOptions {
  outbox: Pick<WebhookOutbox, 'claim' | 'complete' | 'fail'>;
  logger: Logger;
  /** config webhooks.timeoutSec: one attempt waits this long for the answer. */
  timeoutSec: number;
  /** config webhooks.retryForHours: failed deliveries are retried until this long after the event. */
  retryForHours: number;
  /** config webhooks.concurrency: attempts in flight at once. */
  concurrency: number;
  /** How often the outbox is polled for due retries and other origins' deliveries (default 1000 ms). */
  pollIntervalMs?: number;
  /** How long a claim is exclusive (default: the timeout + 30 s, so it outlives any attempt). */
  leaseMs?: number;
  /** How long close() waits for attempts in flight (default: the timeout + 2 s). */
  closeTimeoutMs?: number;
  /** Epoch ms (default Date.now): retry times and signature timestamps. Tests share one with the database. */
  clock?: () => number;
  /** The backoff's jitter (default Math.random). */
  random?: () => number;
  /** Told after each recorded attempt, per endpoint (the webhookFailing alert counts failures in a row). */
  onAttempt?: (endpointId: string, ok: boolean, error?: string) => void;
}

/**
 * What became of an attempt: delivered (2xx), failed and retrying later, failed for good (the
 * retry horizon reached), abandoned at shutdown (sent again when its lease expires).
 */
export type WebhookOutcome = 'delivered' | 'retrying' | 'gave_up' | 'abandoned';

/**
 * Delivers the webhook outbox: claims due deliveries with a lease (several senders, in this
 * process or other origins on the same PostgreSQL, never take the same one), POSTs each with
 * at most `concurrency` in flight, and records every attempt (complete, or fail with the
 * backoff's retry time, or give up). Woken when an event is stored or a delivery is redelivered;
 * otherwise it polls, which also finds due retries and deliveries another origin enqueued.
 * All of it is async I/O on the event loop: it never holds up ingest or delivery.
 *
 * At-least-once: an attempt whose outcome cannot be recorded (database down, process killed)
 * keeps its lease until the lease expires, then is claimed and sent again; receivers
 * de-duplicate by event id.
 */
export class WebhookSender {
  /** Who holds this sender's leases: unique per sender (host, process, random). */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly timeoutMs: number;
  private readonly retryForMs: number;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly closeTimeoutMs: number;
  private readonly shutdown = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private state: 'new' | 'running' | 'closing' | 'closed' = 'new';
  private pumping: Promise<void> | null = null;
  private wokenWhilePumping = false;
  /** The last claim filled every free slot: more may be due as soon as one frees. */
  private backlog = false;
  private timer: NodeJS.Timeout | null = null;
  private claimFailures = 0;
  private closing: Promise<void> | null = null;
  /** Attempts by outcome since start (/metrics reads them). */
  readonly outcomes: Record<WebhookOutcome, number> = { delivered: 0, retrying: 0, gave_up: 0, abandoned: 0 };

  constructor(private readonly opts: WebhookSenderOptions) {
    this.log = opts.logger.child({ component: 'webhooks', sender: this.owner });
    this.clock = opts.clock ?? Date.now;
    this.timeoutMs = opts.timeoutSec * 1000;
    this.retryForMs = opts.retryForHours * 3_600_000;
    this.pollIntervalMs = opts.pollIntervalMs ?? 1000;
    this.leaseMs = opts.leaseMs ?? this.timeoutMs + 30_000;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? this.timeoutMs + 2000;
  }

  start(): void {
    if (this.state !== 'new') return;
    this.state = 'running';
    this.wake();
  }

  /** Claim now rather than at the next poll: an event was stored, or a delivery redelivered. */
  wake(): void {
    if (this.state !== 'running') return;
    if (this.pumping) {
      this.wokenWhilePumping = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
      if (this.state !== 'running') return;
      if (this.wokenWhilePumping) {
        this.wokenWhilePumping = false;
        this.wake();
      } else {
        this.timer = setTimeout(() => this.wake(), this.pollIntervalMs).unref();
      }
    });
  }

  /** Attempts in flight now. */
  get busy(): number {
    return this.inFlight.size;
  }

  /**
   * Stops claiming and waits for the attempts in flight, up to closeTimeoutMs; those still
   * running then are aborted and not recorded: their leases expire and another sender (or this
   * origin after a restart) sends them again. Close the database only after this resolves.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.state = 'closing';
    if (this.timer) clearTimeout(this.timer);
    const deadline = Date.now() + this.closeTimeoutMs;
    const within = (p: Promise<unknown>, until: number) => new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), Math.max(0, until - Date.now()));
      p.then(() => { clearTimeout(timer); resolve(true); });
    });
    // A claim under way may still start attempts; then wait for every attempt.
    if (this.pumping) await within(this.pumping, deadline);
    const all = Promise.allSettled([...this.inFlight]);
    if (!(await within(all, deadline))) {
      this.log.warn({ inFlight: this.inFlight.size }, 'webhook sender closing: aborting attempts still in flight; their leases will expire');
      this.shutdown.abort();
      // Aborted requests end at once; only a database that hangs while recording could hold them.
      await within(all, Date.now() + 1000);
    }
    this.shutdown.abort();
    this.state = 'closed';
  }

  /** Claims while slots are free and deliveries are due. */
  private async pump(): Promise<void> {
    while (this.state === 'running') {
      const free = this.opts.concurrency - this.inFlight.size;
      if (free <= 0) return; // the end of an attempt wakes the sender again
      let batch: ClaimedDelivery[];
      try {
        batch = await this.opts.outbox.claim({ owner: this.owner, leaseMs: this.leaseMs, limit: free });
      } catch (err) {
        // Logged when the outbox becomes unreachable and when it is back, not at every poll.
        if (this.claimFailures++ === 0) this.log.error({ err }, 'webhook outbox unreachable: cannot claim deliveries');
        return;
      }
      if (this.claimFailures > 0) {
        this.log.info({ failedClaims: this.claimFailures }, 'webhook outbox reachable again');
        this.claimFailures = 0;
      }
      for (const claimed of batch) this.launch(claimed);
      this.backlog = batch.length === free;
      if (!this.backlog) return;
    }
  }

  private launch(claimed: ClaimedDelivery): void {
    const attempt: Promise<void> = this.attempt(claimed)
      .catch((err: unknown) => this.log.error({ err, ...this.fields(claimed) }, 'webhook attempt could not be recorded; retried when its lease expires'))
      .finally(() => {
        this.inFlight.delete(attempt);
        if (this.backlog) this.wake();
      });
    this.inFlight.add(attempt);
  }

  private async attempt(claimed: ClaimedDelivery): Promise<void> {
    const { delivery, event, endpoint } = claimed;
    const request = webhookRequest(event, endpoint.secret, delivery.attempts, Math.floor(this.clock() / 1000));
    const result = await postWebhook(endpoint.url, request, { timeoutMs: this.timeoutMs, shutdown: this.shutdown.signal });
    const fields = { ...this.fields(claimed), status: result.status, durationMs: Math.round(result.durationMs) };
    if (result.outcome === 'aborted') {
      this.outcomes.abandoned++;
      this.log.info(fields, 'webhook attempt abandoned at shutdown; retried when its lease expires');
      return;
    }
    const outcome = { status: result.status, error: result.error, durationMs: result.durationMs };
    this.opts.onAttempt?.(endpoint.id, result.outcome === 'delivered', result.error ?? undefined);
    if (result.outcome === 'delivered') {
      this.outcomes.delivered++;
      this.report(await this.opts.outbox.complete(delivery.id, this.owner, outcome), 'info', fields, 'webhook delivered');
      return;
    }
    const retryAt = nextRetryAt({
      attempt: delivery.attempts, failedAt: this.clock(), occurredAt: event.occurredAt, retryForMs: this.retryForMs, random: this.opts.random,
    });
    const recorded = await this.opts.outbox.fail(delivery.id, this.owner, outcome, retryAt);
    this.outcomes[retryAt === null ? 'gave_up' : 'retrying']++;
    const failed = { ...fields, error: result.error, retryAt: retryAt === null ? null : new Date(retryAt).toISOString() };
    if (retryAt === null) this.report(recorded, 'error', failed, 'webhook delivery failed for good: retry horizon reached');
    else this.report(recorded, 'warn', failed, 'webhook attempt failed; retrying');
  }

  private report(recorded: boolean, level: 'info' | 'warn' | 'error', fields: object, msg: string): void {
    if (recorded) this.log[level](fields, msg);
    else this.log.warn(fields, 'webhook attempt ended after its lease was lost; not recorded');
  }

  /** What every log line about a delivery carries. */
  private fields({ delivery, event, endpoint }: ClaimedDelivery) {
    return {
      deliveryId: delivery.id, endpointId: endpoint.id, eventId: event.id, type: event.type, channel: event.channelId, attempt: delivery.attempts,
    };
  }
}
