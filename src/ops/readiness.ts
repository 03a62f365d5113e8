import type { Logger } from 'pino';

/**
 * Readiness: whether this origin can take traffic now (every listener accepts, the database
 * answers, dataDir is writable and has room, the addon is loaded). Load balancers and
 * orchestrators poll it, so a probe is shared: one in flight at a time, its result reused for
 * up to maxAgeMs. Liveness (/healthz) is not this: it only says the process serves.
 */

/** One thing the origin needs to serve: resolves when it holds, rejects saying why not. */
export interface ReadinessCheck {
  /** The key in the report ("rtmp", "database", …). */
  readonly name: string;
  run(): Promise<void>;
}

export interface CheckOutcome {
  ok: boolean;
  /** Why not, when not ok. */
  error?: string;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, CheckOutcome>;
}

export interface ReadinessOptions {
  checks: readonly ReadinessCheck[];
  logger: Logger;
  /** How long a probe's result answers further polls; at most 1000 (the bound on staleness). */
  maxAgeMs?: number;
  /** A check that has not settled in this time fails: a hung database must not hang the probe. */
  checkTimeoutMs?: number;
  now?: () => number;
}

/** The name of the check that fails from the moment shutdown begins. */
export const SHUTDOWN_CHECK = 'shutdown';

export class Readiness {
  private readonly checks: readonly ReadinessCheck[];
  private readonly log: Logger;
  private readonly maxAgeMs: number;
  private readonly checkTimeoutMs: number;
  private readonly now: () => number;
  private cached: { report: ReadinessReport; startedAt: number } | undefined;
  private inFlight: Promise<ReadinessReport> | undefined;
  private shutdownReason: string | undefined;
  /** The failing checks last logged ('' = ready); undefined before the first probe. */
  private loggedFailing: string | undefined;

  constructor(opts: ReadinessOptions) {
    this.checks = opts.checks;
    this.log = opts.logger;
    this.maxAgeMs = Math.min(opts.maxAgeMs ?? 1000, 1000);
    this.checkTimeoutMs = opts.checkTimeoutMs ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  /**
   * From now on the origin reports not ready, whatever the checks say, so load balancers take
   * it out while it still serves (the drain). Takes effect on the very next probe, cached or not.
   */
  markShuttingDown(reason: string): void {
    this.shutdownReason ??= reason;
  }

  get shuttingDown(): boolean {
    return this.shutdownReason !== undefined;
  }

  /** The current report: the cached one while it is younger than maxAgeMs, else a fresh probe (shared by concurrent callers). */
  async probe(): Promise<ReadinessReport> {
    const base = await this.checked();
    const report = this.shutdownReason === undefined ? base : {
      ready: false,
      checks: { ...base.checks, [SHUTDOWN_CHECK]: { ok: false, error: this.shutdownReason } },
    };
    this.logChange(report);
    return report;
  }

  private checked(): Promise<ReadinessReport> {
    // The age counts from when the probe started: that is when the state was observed.
    if (this.cached && this.now() - this.cached.startedAt < this.maxAgeMs) return Promise.resolve(this.cached.report);
    if (!this.inFlight) {
      const startedAt = this.now();
      this.inFlight = this.runAll().then((report) => {
        this.cached = { report, startedAt };
        return report;
      }).finally(() => { this.inFlight = undefined; });
    }
    return this.inFlight;
  }

  private async runAll(): Promise<ReadinessReport> {
    const outcomes = await Promise.all(this.checks.map((c) => this.runOne(c)));
    const checks: Record<string, CheckOutcome> = {};
    this.checks.forEach((c, i) => { checks[c.name] = outcomes[i]; });
    return { ready: outcomes.every((o) => o.ok), checks };
  }

  private async runOne(check: ReadinessCheck): Promise<CheckOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.checkTimeoutMs} ms`)), this.checkTimeoutMs);
    });
    try {
      await Promise.race([check.run(), timeout]);
      return { ok: true };
    } catch (err) {
      return { ok: false, error: describeError(err) };
    } finally {
      clearTimeout(timer);
    }
  }

  /** One log line when readiness changes (or the set of failing checks does), not one per probe. */
  private logChange(report: ReadinessReport): void {
    const failing = Object.entries(report.checks).filter(([, o]) => !o.ok);
    const key = failing.map(([name]) => name).join(',');
    if (key === this.loggedFailing) return;
    const first = this.loggedFailing === undefined;
    this.loggedFailing = key;
    if (report.ready) {
      this.log.info({ reason: first ? 'first probe' : 'every check passes again' }, 'ready');
    } else {
      const reasons = Object.fromEntries(failing.map(([name, o]) => [name, o.error]));
      // Not ready while starting up is expected: info; falling out of readiness is worth a warning.
      this.log[first ? 'info' : 'warn']({ failing: reasons, reason: `failing checks: ${key}` }, 'not ready');
    }
  }
}

/** The HTTP status and JSON body both ports answer /readyz with. */
export function readinessBody(report: ReadinessReport): { status: 200 | 503; body: ReadinessBody } {
  return { status: report.ready ? 200 : 503, body: { status: report.ready ? 'ready' : 'not ready', checks: report.checks } };
}

export interface ReadinessBody {
  status: 'ready' | 'not ready';
  checks: Record<string, CheckOutcome>;
}

/** A one-line reason from anything thrown; AggregateError (a refused connect to every address) has no message of its own. */
function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describeError(err.errors[0]);
  if (err instanceof Error) return err.message || (err as NodeJS.ErrnoException).code || err.name;
  return String(err);
}
