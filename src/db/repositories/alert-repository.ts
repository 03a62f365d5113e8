import type { AlertRepository } from '../repository.js';
import type { Param, Row, SqlExecutor } from '../sql/executor.js';
import { keysetPage } from '../sql/keyset.js';
import { num, numOrNull, strOrNull } from '../sql/values.js';
import type { AlertQuery, AlertState, Page, StoredAlert, StoredEvent } from '../types.js';

const fromRow = (r: Row): StoredAlert => ({
  id: String(r.id),
  rule: String(r.rule),
  channelId: strOrNull(r.channel_id),
  state: String(r.state) as AlertState,
  raisedAt: num(r.raised_at),
  clearedAt: numOrNull(r.cleared_at),
  value: numOrNull(r.value),
  threshold: num(r.threshold),
  unit: String(r.unit),
  message: String(r.message),
  clearValue: numOrNull(r.clear_value),
  clearMessage: strOrNull(r.clear_message),
});

/** A finite number or null: JSON payloads may carry anything. */
const finiteOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export class SqlAlertRepository implements AlertRepository {
  constructor(private readonly sql: SqlExecutor) {}

  async project(event: StoredEvent): Promise<void> {
    const p = event.payload;
    if (typeof p.alertId !== 'string') return;
    if (event.type === 'alert.raised') {
      await this.sql.run(
        `INSERT INTO alerts (id, rule, channel_id, state, raised_at, value, threshold, unit, message)
         VALUES ($1, $2, $3, 'active', $4, $5, $6, $7, $8)`,
        [p.alertId, String(p.rule), event.channelId, event.occurredAt, finiteOrNull(p.value), finiteOrNull(p.threshold) ?? 0,
          String(p.unit ?? ''), String(p.message ?? '')]);
    } else if (event.type === 'alert.cleared') {
      await this.sql.run(
        `UPDATE alerts SET state = 'cleared', cleared_at = $2, clear_value = $3, clear_message = $4 WHERE id = $1 AND state = 'active'`,
        [p.alertId, event.occurredAt, finiteOrNull(p.value), String(p.message ?? '')]);
    }
  }

  async get(id: string): Promise<StoredAlert | undefined> {
    const [row] = await this.sql.query('SELECT * FROM alerts WHERE id = $1', [id]);
    return row && fromRow(row);
  }

  list(q: AlertQuery = {}): Promise<Page<StoredAlert>> {
    const where: string[] = [];
    const params: Param[] = [];
    const add = (column: string, value: Param) => {
      params.push(value);
      where.push(`${column} = $${params.length}`);
    };
    if (q.state !== undefined) add('state', q.state);
    if (q.channelId !== undefined) add('channel_id', q.channelId);
    if (q.rule !== undefined) add('rule', q.rule);
    return keysetPage(this.sql, {
      from: 'alerts', where, params, keys: [['raised_at', 'n'], ['id', 's']], descending: true,
      page: q, map: fromRow, keyOf: (a) => [a.raisedAt, a.id],
    });
  }
}
