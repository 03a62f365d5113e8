import type { Logger } from 'pino';

/** One upload (or delete) of the object store, run when its turn in its lane comes. */
interface Job {
  /** Jobs with the same coalesce key waiting in one lane are run once (a log uploaded whole). */
  coalesce?: string;
  run: () => Promise<void>;
  enqueuedAt: number;
  done: Array<() => void>;
}

interface Lane {
  jobs: Job[];
  running: boolean;
}

export interface UploadLanesOptions {
  /** Lanes running at once (uploads in flight). */
  concurrency: number;
  logger: Logger;
  now?: () => number;
  /** First retry after this long, doubling up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Uploads to the object store in order per lane (one lane per channel: a segment goes up
 * before the index line that names it, an init before the segments that use it), lanes in
 * parallel up to a concurrency. A failed job is retried with backoff at the head of its lane,
 * so nothing is uploaded out of order and nothing is lost while the store is away; the jobs
 * hold file names, not bytes, so a long outage costs memory only per waiting job. Jobs wait
 * until start(): the names of some objects need this origin's id, known once it listens.
 */
export class UploadLanes {
  private readonly lanes = new Map<string, Lane>();
  private active = 0;
  private started = false;
  private stopped = false;
  private readonly ready: string[] = [];
  private readonly now: () => number;
  private failuresInARow = 0;
  private idleWaiters: Array<() => void> = [];
  /** Wakes the retries waiting out their backoff (stop). */
  private readonly backoffs = new Set<() => void>();
  /** Jobs run (successfully) and retries since start (/metrics). */
  completed = 0;
  retries = 0;

  constructor(private readonly o: UploadLanesOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Jobs waiting or running. */
  get depth(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.jobs.length;
    return n;
  }

  /** When the oldest job still waiting was queued; undefined when none waits (local copies older than this are safe to delete). */
  oldestPendingAt(): number | undefined {
    let oldest: number | undefined;
    for (const lane of this.lanes.values()) {
      const first = lane.jobs[0];
      if (first && (oldest === undefined || first.enqueuedAt < oldest)) oldest = first.enqueuedAt;
    }
    return oldest;
  }

  /** Queues a job in a lane; the promise settles when it has run (never rejects: failures are retried). */
  add(lane: string, run: () => Promise<void>, coalesce?: string): Promise<void> {
    let l = this.lanes.get(lane);
    if (!l) this.lanes.set(lane, (l = { jobs: [], running: false }));
    return new Promise<void>((resolve) => {
      // The job at the head may be running: only a waiting one can absorb this one.
      const waiting = coalesce !== undefined ? l!.jobs.find((j, i) => j.coalesce === coalesce && (i > 0 || !l!.running)) : undefined;
      if (waiting) { waiting.done.push(resolve); return; }
      l!.jobs.push({ coalesce, run, enqueuedAt: this.now(), done: [resolve] });
      this.schedule(lane);
    });
  }

  start(): void {
    this.started = true;
    this.pump();
  }

  /** Resolves once no job waits or runs (tests, the upload benchmark, a clean stop). */
  idle(): Promise<void> {
    if (this.depth === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking new turns; jobs in flight finish, retries waiting for their turn are given up. */
  stop(): void {
    this.stopped = true;
    for (const wake of this.backoffs) wake();
    this.backoffs.clear();
  }

  private schedule(name: string): void {
    const lane = this.lanes.get(name)!;
    if (lane.running || lane.jobs.length === 0 || this.ready.includes(name)) return;
    this.ready.push(name);
    this.pump();
  }

  private pump(): void {
    while (this.started && !this.stopped && this.active < this.o.concurrency && this.ready.length > 0) {
      const name = this.ready.shift()!;
      void this.runHead(name);
    }
  }

  private async runHead(name: string): Promise<void> {
    const lane = this.lanes.get(name)!;
    lane.running = true;
    this.active++;
    const job = lane.jobs[0];
    let backoff = this.o.backoffMs ?? 1000;
    for (;;) {
      try {
        await job.run();
        this.completed++;
        if (this.failuresInARow > 0) this.o.logger.info({ lane: name, failures: this.failuresInARow }, 'object store: uploads go through again');
        this.failuresInARow = 0;
        break;
      } catch (err) {
        this.retries++;
        this.failuresInARow++;
        if (this.failuresInARow === 1 || this.failuresInARow % 50 === 0) {
          this.o.logger.warn({ err, lane: name, failures: this.failuresInARow, retryInMs: backoff }, 'object store: upload failed; retrying (the local copy is kept until it is up)');
        }
        if (this.stopped) break;
        await new Promise<void>((r) => {
          const timer = setTimeout(() => { this.backoffs.delete(wake); r(); }, backoff);
          const wake = () => { clearTimeout(timer); r(); };
          this.backoffs.add(wake);
        });
        backoff = Math.min(backoff * 2, this.o.maxBackoffMs ?? 30_000);
        if (this.stopped) break;
      }
    }
    lane.jobs.shift();
    for (const d of job.done) d();
    lane.running = false;
    this.active--;
    if (lane.jobs.length === 0) this.lanes.delete(name);
    else this.schedule(name);
    this.pump();
    if (this.depth === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
