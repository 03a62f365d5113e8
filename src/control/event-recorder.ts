import type { Logger } from 'pino';
import { ConstraintError, UniqueViolationError } from '../db/errors.js';
import { newId } from '../db/ids.js';
import { recordEvent } from '../db/record-event.js';
import type { Database } from '../db/repository.js';
import type { EventInput, JsonObject } from '../db/types.js';
import type { EventBus, OriginEventName } from '../events.js';

export interface EventRecorderOptions {
  bus: Pick<EventBus, 'onAny'>;
  db: Pick<Database, 'transaction'>;
  logger: Logger;
  /** Woken after an event that enqueued webhook deliveries. */
  sender?: { wake(): void };
  /** Events waiting for the database at most; beyond, new events are dropped (default 10 000). */
  maxQueue?: number;
  /** Epoch ms (default Date.now): an event's occurredAt is taken when it is emitted. */
  clock?: () => number;
  /** A database error is retried after this wait, doubled each try (default 250 ms)… */
  retryMinMs?: number;
  /** …up to this (default 10 s). */
  retryMaxMs?: number;
}

interface Pending {
  input: EventInput & { id: string; occurredAt: number };
  tries: number;
}

/**
 * Stores every event of the bus, with its webhook outbox rows (recordEvent), one after another
 * in emit order. The listener only copies the event into a queue: emitting never waits for the
 * database and never throws (ingest and delivery emit). The id and time of an event are fixed
 * when it is emitted, so an event that waited for the database keeps its real time, and a retry
 * after an unclear failure (the commit went through, its answer was lost) is recognized by its
 * id instead of stored twice.
 *
 * When the database fails, the event at the head is retried with a growing wait while later
 * ones queue behind it (order is kept); a full queue drops new events, each with a log line. An
 * event the database refuses for good (a constraint) is dropped and logged, and the queue goes on.
 */
export class EventRecorder {
  private readonly log: Logger;
  private readonly queue: Pending[] = [];
  private readonly maxQueue: number;
  private readonly clock: () => number;
  private readonly unsubscribe: () => void;
  private draining = false;
  private storing = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private cutPause: (() => void) | null = null;
  private closing: Promise<void> | null = null;
  /** Events stored, and dropped (queue full, refused, not JSON, or left at close). */
  readonly counts = { stored: 0, dropped: 0 };

  constructor(private readonly opts: EventRecorderOptions) {
    this.log = opts.logger.child({ component: 'event-recorder' });
    this.maxQueue = opts.maxQueue ?? 10_000;
    this.clock = opts.clock ?? Date.now;
    this.unsubscribe = opts.bus.onAny((type, payload) => this.enqueue(type, payload));
  }

  /** Events not stored yet (including the one being stored). */
  get queued(): number {
    return this.queue.length;
  }

  /** Resolves when every event queued so far is stored (or dropped). Waits as long as the database does. */
  flush(): Promise<void> {
    if (!this.draining && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops listening and stores what is queued, waiting up to timeoutMs (default 5 s) for the
   * database; what is still queued then is dropped with one log line. Close the database after.
   */
  close(timeoutMs = 5000): Promise<void> {
    this.closing ??= this.doClose(timeoutMs);
    return this.closing;
  }

  private async doClose(timeoutMs: number): Promise<void> {
    this.unsubscribe();
    let timer: NodeJS.Timeout | undefined;
    const flushed = await Promise.race([
      this.flush().then(() => true),
      new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); }),
    ]);
    clearTimeout(timer);
    if (flushed) return;
    this.closed = true;
    // The event being stored right now finishes (or fails) on its own; the rest are left.
    const left = this.queue.splice(this.storing ? 1 : 0);
    this.cutPause?.();
    if (left.length === 0) return;
    this.counts.dropped += left.length;
    const types: Record<string, number> = {};
    for (const p of left) types[p.input.type] = (types[p.input.type] ?? 0) + 1;
    this.log.error({ dropped: left.length, types, firstEventId: left[0].input.id }, 'event recorder closed before the database took these events: dropped');
  }

  private enqueue(type: OriginEventName, payload: object): void {
    try {
      const channel = (payload as { channel?: unknown }).channel;
      const channelId = typeof channel === 'string' ? channel : null;
      if (this.queue.length >= this.maxQueue) {
        this.counts.dropped++;
        this.log.error({ type, channel: channelId, queued: this.queue.length }, 'event dropped: the event store queue is full (database unreachable?)');
        return;
      }
      // A copy: the emitter may change its object afterwards; and what cannot be JSON is refused here.
      const data = JSON.parse(JSON.stringify(payload)) as JsonObject;
      const occurredAt = this.clock();
      this.queue.push({ input: { id: newId('evt', occurredAt), type, channelId, occurredAt, payload: data }, tries: 0 });
      if (!this.draining) void this.drain();
    } catch (err) {
      this.counts.dropped++;
      this.log.error({ err, type }, 'event dropped: its payload cannot be stored as JSON');
    }
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const head = this.queue[0];
        this.storing = true;
        const done = await this.store(head);
        this.storing = false;
        if (done || this.closed) {
          if (!done) this.drop(head, undefined, 'event dropped: the database failed and the recorder is closed');
          this.queue.shift();
        } else {
          await this.pause(Math.min(this.opts.retryMaxMs ?? 10_000, (this.opts.retryMinMs ?? 250) * 2 ** (head.tries - 1)));
        }
      }
    } finally {
      this.draining = false;
      this.storing = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** One try: true when the event is stored (or dropped for good), false to retry it. */
  private async store(head: Pending): Promise<boolean> {
    const { input } = head;
    head.tries++;
    let deliveries: number;
    try {
      ({ deliveries } = await recordEvent(this.opts.db, input));
    } catch (err) {
      if (head.tries > 1 && err instanceof UniqueViolationError && (err.table === undefined || err.table === 'events')) {
        // An earlier try committed but its answer was lost: stored once, with its deliveries.
        deliveries = 1;
      } else if (err instanceof ConstraintError) {
        this.drop(head, err, 'event dropped: the database refused it');
        return true;
      } else {
        if (head.tries === 1) {
          this.log.warn({ err, ...this.fields(head), queued: this.queue.length }, 'event not stored yet: database error; retrying in order');
        }
        return false;
      }
    }
    this.counts.stored++;
    const fields = { ...this.fields(head), deliveries };
    if (head.tries > 1) this.log.info({ ...fields, tries: head.tries }, 'event stored after database errors');
    else this.log.debug(fields, 'event stored');
    if (deliveries > 0) this.opts.sender?.wake();
    return true;
  }

  private drop(head: Pending, err: unknown, msg: string): void {
    this.counts.dropped++;
    this.log.error({ err, ...this.fields(head) }, msg);
  }

  private fields({ input, tries }: Pending) {
    return { eventId: input.id, type: input.type, channel: input.channelId, tries };
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.cutPause = null; resolve(); }, ms);
      this.cutPause = () => { clearTimeout(timer); this.cutPause = null; resolve(); };
    });
  }
}
