import type { ClaimOptions, WebhookOutbox } from '../repository.js';
import type { Param, Row, SqlExecutor } from '../sql/executor.js';
import { inList } from '../sql/columns.js';
import { keysetPage } from '../sql/keyset.js';
import { clampLimit } from '../pagination.js';
import { num, numOrNull, strOrNull } from '../sql/values.js';
import type { AttemptResult, ClaimedDelivery, Delivery, DeliveryState, Page, PageRequest, StoredEvent } from '../types.js';
import type { Clock } from './clock.js';
import { eventFromRow } from './event-repository.js';

export const MAX_CLAIM = 100;

export function deliveryFromRow(r: Row): Delivery {
  return {
    id: num(r.id),
    endpointId: String(r.endpoint_id),
    eventId: String(r.event_id),
    state: r.state as DeliveryState,
    attempts: num(r.attempts),
    nextAttemptAt: num(r.next_attempt_at),
    leaseOwner: strOrNull(r.lease_owner),
    leaseUntil: numOrNull(r.lease_until),
    lastStatus: numOrNull(r.last_status),
    lastError: strOrNull(r.last_error),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    deliveredAt: numOrNull(r.delivered_at),
  };
}

export class SqlWebhookOutbox implements WebhookOutbox {
  constructor(private readonly sql: SqlExecutor, private readonly clock: Clock) {}

  async enqueueForEvent(event: Pick<StoredEvent, 'id' | 'type'>): Promise<number> {
    // The casts let PostgreSQL type parameters that only appear in the SELECT list.
    return this.sql.run(
      `INSERT INTO webhook_deliveries (endpoint_id, event_id, state, attempts, next_attempt_at, created_at, updated_at)
       SELECT e.id, CAST($1 AS TEXT), 'pending', 0, CAST($3 AS BIGINT), CAST($3 AS BIGINT), CAST($3 AS BIGINT)
       FROM webhook_endpoints e
       WHERE e.enabled = $4 AND EXISTS (
         SELECT 1 FROM webhook_subscriptions s WHERE s.endpoint_id = e.id AND s.event_type IN ($2, '*'))
       ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
      [event.id, event.type, this.clock(), true]);
  }

  async redeliver(endpointId: string, eventId: string): Promise<Delivery> {
    const [row] = await this.sql.query(
      `INSERT INTO webhook_deliveries (endpoint_id, event_id, state, attempts, next_attempt_at, created_at, updated_at)
       VALUES ($1, $2, 'pending', 0, $3, $3, $3)
       ON CONFLICT (endpoint_id, event_id) DO UPDATE SET state = 'pending', attempts = 0, next_attempt_at = $3,
         lease_owner = NULL, lease_until = NULL, delivered_at = NULL, updated_at = $3
       RETURNING *`,
      [endpointId, eventId, this.clock()]);
    return deliveryFromRow(row);
  }

  claim(opts: ClaimOptions): Promise<ClaimedDelivery[]> {
    const now = this.clock();
    const limit = clampLimit(opts.limit, 10, MAX_CLAIM);
    return this.sql.transaction(async (tx) => {
      // SKIP LOCKED (PostgreSQL): rows another sender is claiming right now are passed over
      // instead of waited for, and re-checked against the lease once that claim commits.
      const due = await tx.query<{ id: number }>(
        `SELECT id FROM webhook_deliveries
         WHERE state = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
           AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled = $2)
         ORDER BY next_attempt_at, id LIMIT $3${tx.dialect.skipLocked}`,
        [now, true, limit]);
      if (due.length === 0) return [];
      const dueIds = due.map((d) => num(d.id));
      const params: Param[] = [opts.owner, now + opts.leaseMs, now];
      await tx.run(`UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3
        WHERE id IN ${inList(dueIds, params)}`, params);
      const selectParams: Param[] = [];
      const rows = await tx.query(
        `SELECT d.*, ev.id AS ev_id, ev.type AS ev_type, ev.channel_id AS ev_channel_id, ev.occurred_at AS ev_occurred_at,
           ev.payload AS ev_payload, e.url AS endpoint_url, e.secret AS endpoint_secret
         FROM webhook_deliveries d JOIN events ev ON ev.id = d.event_id JOIN webhook_endpoints e ON e.id = d.endpoint_id
         WHERE d.id IN ${inList(dueIds, selectParams)} ORDER BY d.next_attempt_at, d.id`, selectParams);
      return rows.map((r) => ({
        delivery: deliveryFromRow(r),
        event: eventFromRow(r, 'ev_'),
        endpoint: { id: String(r.endpoint_id), url: String(r.endpoint_url), secret: String(r.endpoint_secret) },
      }));
    });
  }

  complete(id: number, owner: string, result: AttemptResult): Promise<boolean> {
    return this.finish(id, owner, result, 'delivered', null);
  }

  fail(id: number, owner: string, result: AttemptResult, retryAt: number | null): Promise<boolean> {
    return this.finish(id, owner, result, retryAt === null ? 'failed' : 'pending', retryAt);
  }

  async get(id: number): Promise<Delivery | undefined> {
    const [row] = await this.sql.query('SELECT * FROM webhook_deliveries WHERE id = $1', [id]);
    return row && deliveryFromRow(row);
  }

  listForEndpoint(endpointId: string, q: PageRequest & { state?: DeliveryState } = {}): Promise<Page<Delivery>> {
    const where = ['endpoint_id = $1'];
    const params: Param[] = [endpointId];
    if (q.state) { params.push(q.state); where.push('state = $2'); }
    return keysetPage(this.sql, {
      from: 'webhook_deliveries', where, params, keys: [['id', 'n']], descending: true, page: q, map: deliveryFromRow, keyOf: (d) => [d.id],
    });
  }

  async countByState(): Promise<Record<DeliveryState, number>> {
    const counts: Record<DeliveryState, number> = { pending: 0, delivered: 0, failed: 0 };
    const rows = await this.sql.query<{ state: DeliveryState; n: number }>('SELECT state, COUNT(*) AS n FROM webhook_deliveries GROUP BY state');
    for (const r of rows) counts[r.state] = num(r.n);
    return counts;
  }

  /**
   * Ends the current attempt of the lease holder and logs it, in one transaction. A holder
   * whose lease expired and was taken over by another sender gets false and changes nothing.
   */
  private finish(id: number, owner: string, result: AttemptResult, state: DeliveryState, retryAt: number | null): Promise<boolean> {
    const now = this.clock();
    const ok = state === 'delivered';
    return this.sql.transaction(async (tx) => {
      const [row] = await tx.query(
        `UPDATE webhook_deliveries SET state = $3, lease_owner = NULL, lease_until = NULL, last_status = $4, last_error = $5,
           next_attempt_at = COALESCE($6, next_attempt_at), delivered_at = $7, updated_at = $8
         WHERE id = $1 AND lease_owner = $2 AND state = 'pending'
         RETURNING id, endpoint_id, event_id, attempts`,
        [id, owner, state, result.status ?? null, ok ? null : (result.error ?? null), retryAt, ok ? now : null, now]);
      if (!row) return false;
      await tx.run(
        `INSERT INTO webhook_attempts (delivery_id, endpoint_id, event_id, attempt, at, ok, status, error, duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [id, String(row.endpoint_id), String(row.event_id), num(row.attempts), now, ok, result.status ?? null,
          result.error ?? null, Math.round(result.durationMs)]);
      return true;
    });
  }
}
