import type { DeliveryLog } from '../repository.js';
import type { Row, SqlExecutor } from '../sql/executor.js';
import { keysetPage } from '../sql/keyset.js';
import { bool, num, numOrNull, strOrNull } from '../sql/values.js';
import type { DeliveryAttempt, Page, PageRequest } from '../types.js';

function fromRow(r: Row): DeliveryAttempt {
  return {
    id: num(r.id),
    deliveryId: num(r.delivery_id),
    endpointId: String(r.endpoint_id),
    eventId: String(r.event_id),
    attempt: num(r.attempt),
    at: num(r.at),
    ok: bool(r.ok),
    status: numOrNull(r.status),
    error: strOrNull(r.error),
    durationMs: num(r.duration_ms),
  };
}

/** Reads webhook_attempts; the outbox writes it as each attempt ends. */
export class SqlDeliveryLog implements DeliveryLog {
  constructor(private readonly sql: SqlExecutor) {}

  listForEndpoint(endpointId: string, page: PageRequest = {}): Promise<Page<DeliveryAttempt>> {
    return keysetPage(this.sql, {
      from: 'webhook_attempts', where: ['endpoint_id = $1'], params: [endpointId], keys: [['id', 'n']], descending: true,
      page, map: fromRow, keyOf: (a) => [a.id],
    });
  }

  async listForDelivery(deliveryId: number): Promise<DeliveryAttempt[]> {
    return (await this.sql.query('SELECT * FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id', [deliveryId])).map(fromRow);
  }
}
