import type { Logger } from 'pino';

export interface GracefulShutdownOptions {
  readiness: { markShuttingDown(reason: string): void };
  /** shutdown.drainSec in ms: how long the origin goes on serving after /readyz turned 503. */
  drainMs: number;
  /** Closes the origin (listeners, channels, database). */
  close: () => Promise<void>;
  logger: Logger;
}

/**
 * A draining shutdown: /readyz turns 503 first, the origin goes on serving (playlists, parts,
 * publishers) for the drain period so load balancers polling readiness move viewers away while
 * nothing breaks, then it closes. A second signal cuts the drain short (an operator pressing
 * Ctrl-C again does not want to wait).
 */
export class GracefulShutdown {
  private finished: Promise<void> | undefined;
  private endDrain: (() => void) | undefined;

  constructor(private readonly opts: GracefulShutdownOptions) {}

  /** Starts the shutdown, or shortens the drain of one under way; resolves once the origin is closed. */
  begin(signal: string): Promise<void> {
    if (this.finished) {
      if (this.endDrain) {
        this.opts.logger.info({ signal, reason: `${signal} during the drain` }, 'drain cut short: closing now');
        this.endDrain();
      }
      return this.finished;
    }
    const log = this.opts.logger;
    this.opts.readiness.markShuttingDown(`${signal} received: draining`);
    log.info({ signal, drainSec: this.opts.drainMs / 1000, reason: `${signal} received` }, 'shutting down: not ready, draining');
    this.finished = (async () => {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.opts.drainMs);
        this.endDrain = () => { clearTimeout(timer); resolve(); };
      });
      this.endDrain = undefined;
      log.info({ reason: 'drain period over' }, 'closing');
      await this.opts.close();
      log.info({ reason: 'every listener, channel and the database closed' }, 'shut down');
    })();
    return this.finished;
  }
}
