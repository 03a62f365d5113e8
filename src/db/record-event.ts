import type { Database } from './repository.js';
import type { EventInput, StoredEvent } from './types.js';

/**
 * Stores an event and its webhook outbox rows in one transaction: the transactional outbox.
 * Either both are there after a crash or neither is, so no event is stored without being
 * delivered and none is delivered that was not stored. An alert event also updates the alerts
 * table in it. What the event bus calls per event.
 */
export async function recordEvent(db: Pick<Database, 'transaction'>, input: EventInput): Promise<{ event: StoredEvent; deliveries: number }> {
  return db.transaction(async (tx) => {
    const event = await tx.events.append(input);
    await tx.alerts.project(event);
    return { event, deliveries: await tx.outbox.enqueueForEvent(event) };
  });
}
