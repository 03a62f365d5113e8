/**
 * When a failed webhook delivery is tried again. The wait after the nth failed attempt is
 * 30 s · 2^(n−1), capped at 1 h (30 s, 1 min, 2 min, 4 min, 8 min, 16 min, 32 min, then hourly),
 * times a jitter factor in (0.8, 1] so deliveries that failed together (an endpoint that was
 * down) do not all come back in the same second. The jitter only shortens a wait, so the cap
 * holds. Retries stop when the next attempt would fall later than the event's time plus the
 * retry horizon (config webhooks.retryForHours): the delivery is then `failed`.
 */
export const FIRST_RETRY_MS = 30_000;
export const MAX_RETRY_MS = 3_600_000;
export const JITTER = 0.2;

/** The wait after failed attempt n (n ≥ 1), before jitter. */
export function nominalRetryDelayMs(attempt: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempt - 1));
}

/** The wait after failed attempt n, with jitter; random() as Math.random, in [0, 1). */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  return Math.round(nominalRetryDelayMs(attempt) * (1 - JITTER * random()));
}

export interface RetryInput {
  /** The number of the attempt that just failed (from 1). */
  attempt: number;
  /** When it failed, epoch ms. */
  failedAt: number;
  /** The event's time, epoch ms: the horizon counts from it. */
  occurredAt: number;
  /** How long after the event retries may happen, ms. */
  retryForMs: number;
  random?: () => number;
}

/** When to try again, epoch ms, or null to give up (the next try would pass the horizon). */
export function nextRetryAt(r: RetryInput): number | null {
  const at = r.failedAt + retryDelayMs(r.attempt, r.random);
  return at > r.occurredAt + r.retryForMs ? null : at;
}

/**
 * The nominal schedule: the time of every attempt, ms after the event, when each attempt
 * fails at once and without jitter. What docs/webhooks.md lists.
 */
export function retrySchedule(retryForMs: number): number[] {
  const times = [0];
  for (;;) {
    const next = nextRetryAt({ attempt: times.length, failedAt: times[times.length - 1], occurredAt: 0, retryForMs, random: () => 0 });
    if (next === null) return times;
    times.push(next);
  }
}
