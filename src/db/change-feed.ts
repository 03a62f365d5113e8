import pg from 'pg';
import type { Logger } from 'pino';

/** A committed change to a row, as migration 005's trigger announces it. */
export interface ChangeNotice {
  table: string;
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  id: string;
}

export interface ChangeFeedOptions {
  connectionString: string;
  logger: Logger;
  /** One committed change, in commit order. */
  onChange(notice: ChangeNotice): void;
  /**
   * The feed was cut and is back: changes made meanwhile were not announced to this origin, so
   * everything the notices keep up to date must be read again.
   */
  onResync(): void;
  /** First wait before reconnecting; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** A round trip on the idle connection this often, so a silently dead one is noticed. */
  pingMs?: number;
}

/** The NOTIFY channel migration 005's trigger writes to. */
export const CHANGE_CHANNEL = 'sigma_changes';

/**
 * Listens to PostgreSQL's change notices (LISTEN sigma_changes) on a connection of its own,
 * outside the pool: a pooled connection would be handed to queries and its LISTEN lost. The
 * connection comes back by itself after a cut (server restart, network) with a growing pause,
 * and each comeback asks for a resync, since NOTIFY is not queued for a listener that is away.
 */
export class ChangeFeed {
  private client: pg.Client | undefined;
  private closed = false;
  private connectedOnce = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private nextRetryMs: number;
  /** Clients already given up ('error' and 'end' both fire for one loss). */
  private readonly gone = new WeakSet<pg.Client>();

  constructor(private readonly o: ChangeFeedOptions) {
    this.nextRetryMs = o.retryMs ?? 250;
  }

  /** Connects and listens; resolves once listening, or once the first attempt failed (it retries on its own). */
  start(): Promise<void> {
    return this.connect();
  }

  /** Whether the feed is listening now (readiness, tests). */
  get listening(): boolean {
    return this.client !== undefined;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.o.connectionString, keepAlive: true });
    // Without a handler, an error on an idle client would crash the process.
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      client.on('notification', (m) => this.received(m.payload));
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch (err) {
      this.lost(client, err as Error);
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.nextRetryMs = this.o.retryMs ?? 250;
    this.pingTimer = setInterval(() => { client.query('SELECT 1').catch((err: Error) => this.lost(client, err)); }, this.o.pingMs ?? 15_000);
    this.pingTimer.unref();
    if (this.connectedOnce) {
      this.o.logger.info('change notices: listening again; reading the shared state again');
      this.o.onResync();
    } else {
      this.o.logger.info('change notices: listening');
    }
    this.connectedOnce = true;
  }

  private received(payload: string | undefined): void {
    let notice: ChangeNotice;
    try {
      notice = JSON.parse(payload ?? '') as ChangeNotice;
    } catch {
      this.o.logger.warn({ payload: payload?.slice(0, 200) }, 'change notices: an unreadable notice was ignored');
      return;
    }
    if (typeof notice?.table !== 'string' || typeof notice.id !== 'string') return;
    this.o.onChange(notice);
  }

  /** The connection failed or ended: drop it and try again later (once per client). */
  private lost(client: pg.Client, err?: Error): void {
    if (this.gone.has(client)) return;
    this.gone.add(client);
    client.removeAllListeners('notification');
    client.removeAllListeners('end');
    client.on('error', () => undefined);
    client.end().catch(() => undefined);
    if (this.client === client) {
      this.client = undefined;
      clearInterval(this.pingTimer);
    }
    if (this.closed || this.retryTimer) return;
    this.o.logger.warn({ err, retryInMs: this.nextRetryMs }, 'change notices: connection lost; other origins\' changes wait until it is back');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, this.nextRetryMs);
    this.retryTimer.unref();
    this.nextRetryMs = Math.min(this.nextRetryMs * 2, this.o.maxRetryMs ?? 5000);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners('end');
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    }
  }
}
