import { newId } from '../ids.js';
import type { EventRepository } from '../repository.js';
import type { Param, Row, SqlExecutor } from '../sql/executor.js';
import { keysetPage } from '../sql/keyset.js';
import { json, num, strOrNull, toJson } from '../sql/values.js';
import type { EventInput, EventQuery, JsonObject, Page, StoredEvent } from '../types.js';
import type { Clock } from './clock.js';

/** Also reads the `ev_`-prefixed columns of the outbox's claim join. */
export function eventFromRow(r: Row, prefix = ''): StoredEvent {
  return {
    id: String(r[`${prefix}id`]),
    type: String(r[`${prefix}type`]),
    channelId: strOrNull(r[`${prefix}channel_id`]),
    occurredAt: num(r[`${prefix}occurred_at`]),
    payload: json<JsonObject>(r[`${prefix}payload`]),
  };
}

const fromRow = (r: Row) => eventFromRow(r);

export class SqlEventRepository implements EventRepository {
  constructor(private readonly sql: SqlExecutor, private readonly clock: Clock) {}

  async append(input: EventInput): Promise<StoredEvent> {
    const at = input.occurredAt ?? this.clock();
    const [row] = await this.sql.query(
      'INSERT INTO events (id, type, channel_id, occurred_at, payload) VALUES ($1, $2, $3, $4, $5) RETURNING *',
      [input.id ?? newId('evt', at), input.type, input.channelId ?? null, at, toJson(input.payload)]);
    return fromRow(row);
  }

  async get(id: string): Promise<StoredEvent | undefined> {
    const [row] = await this.sql.query('SELECT * FROM events WHERE id = $1', [id]);
    return row && fromRow(row);
  }

  query(q: EventQuery = {}): Promise<Page<StoredEvent>> {
    const where: string[] = [];
    const params: Param[] = [];
    const add = (condition: (placeholder: string) => string, value: Param) => {
      params.push(value);
      where.push(condition(`$${params.length}`));
    };
    if (q.channelId !== undefined) add((p) => `channel_id = ${p}`, q.channelId);
    if (q.type !== undefined) add((p) => `type = ${p}`, q.type);
    if (q.from !== undefined) add((p) => `occurred_at >= ${p}`, q.from);
    if (q.to !== undefined) add((p) => `occurred_at < ${p}`, q.to);
    return keysetPage(this.sql, {
      from: 'events', where, params, keys: [['occurred_at', 'n'], ['id', 's']], descending: true,
      page: q, map: fromRow, keyOf: (e) => [e.occurredAt, e.id],
    });
  }
}
