import { newId } from '../ids.js';
import type { WebhookEndpointRepository } from '../repository.js';
import type { Param, Row, SqlExecutor } from '../sql/executor.js';
import { assignments, inList, type Columns } from '../sql/columns.js';
import { keysetPage } from '../sql/keyset.js';
import { bool, num } from '../sql/values.js';
import type { Page, PageRequest, WebhookEndpoint, WebhookEndpointInput, WebhookEndpointPatch } from '../types.js';
import type { Clock } from './clock.js';

type EndpointColumns = Omit<WebhookEndpoint, 'eventTypes' | 'createdAt' | 'updatedAt' | 'id'>;
const COLUMNS: Columns<EndpointColumns> = { url: { name: 'url' }, secret: { name: 'secret' }, enabled: { name: 'enabled' } };

function fromRow(r: Row, eventTypes: string[]): WebhookEndpoint {
  return {
    id: String(r.id), url: String(r.url), secret: String(r.secret), eventTypes, enabled: bool(r.enabled),
    createdAt: num(r.created_at), updatedAt: num(r.updated_at),
  };
}

/** Endpoints, with their event types kept in webhook_subscriptions (one row per type). */
export class SqlWebhookEndpointRepository implements WebhookEndpointRepository {
  constructor(private readonly sql: SqlExecutor, private readonly clock: Clock) {}

  create(input: WebhookEndpointInput): Promise<WebhookEndpoint> {
    const now = this.clock();
    return this.sql.transaction(async (tx) => {
      const [row] = await tx.query(
        'INSERT INTO webhook_endpoints (id, url, secret, enabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING *',
        [input.id ?? newId('wh', now), input.url, input.secret, input.enabled ?? true, now]);
      const id = String(row.id);
      await subscribe(tx, id, input.eventTypes);
      return fromRow(row, unique(input.eventTypes));
    });
  }

  async get(id: string): Promise<WebhookEndpoint | undefined> {
    const [row] = await this.sql.query('SELECT * FROM webhook_endpoints WHERE id = $1', [id]);
    return row && (await this.withTypes([row]))[0];
  }

  async list(page: PageRequest = {}): Promise<Page<WebhookEndpoint>> {
    const rows = await keysetPage(this.sql, {
      from: 'webhook_endpoints', keys: [['created_at', 'n'], ['id', 's']], page, map: (r) => r,
      keyOf: (r) => [num(r.created_at), String(r.id)],
    });
    return { items: await this.withTypes(rows.items), nextCursor: rows.nextCursor };
  }

  update(id: string, patch: WebhookEndpointPatch): Promise<WebhookEndpoint | undefined> {
    return this.sql.transaction(async (tx) => {
      const params: Param[] = [id, this.clock()];
      const set = ['updated_at = $2', ...assignments(COLUMNS, patch, params)];
      const [row] = await tx.query(`UPDATE webhook_endpoints SET ${set.join(', ')} WHERE id = $1 RETURNING *`, params);
      if (!row) return undefined;
      if (patch.eventTypes) {
        await tx.run('DELETE FROM webhook_subscriptions WHERE endpoint_id = $1', [id]);
        await subscribe(tx, id, patch.eventTypes);
      }
      return (await new SqlWebhookEndpointRepository(tx, this.clock).withTypes([row]))[0];
    });
  }

  async delete(id: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM webhook_endpoints WHERE id = $1', [id])) > 0;
  }

  /** Reads the event types of these endpoint rows in one query. */
  private async withTypes(rows: Row[]): Promise<WebhookEndpoint[]> {
    if (rows.length === 0) return [];
    const params: Param[] = [];
    const ids = inList(rows.map((r) => String(r.id)), params);
    const subs = await this.sql.query<{ endpoint_id: string; event_type: string }>(
      `SELECT endpoint_id, event_type FROM webhook_subscriptions WHERE endpoint_id IN ${ids}`, params);
    // Sorted here, not by the database's collation, so both databases list them alike.
    return rows.map((r) => fromRow(r, unique(subs.filter((s) => s.endpoint_id === r.id).map((s) => s.event_type))));
  }
}

function unique(types: string[]): string[] {
  return [...new Set(types)].sort();
}

async function subscribe(tx: SqlExecutor, endpointId: string, eventTypes: string[]): Promise<void> {
  for (const type of unique(eventTypes)) {
    await tx.run('INSERT INTO webhook_subscriptions (endpoint_id, event_type) VALUES ($1, $2)', [endpointId, type]);
  }
}
