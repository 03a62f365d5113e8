import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import type { AlertRepository } from '../../db/repository.js';
import type { EventBus } from '../../events.js';
import type { ChannelRegistry } from '../../media/channel-registry.js';
import { AlertEngine } from './alert-engine.js';
import { EventLoopLag, type DiskWatch, type EndpointFailures } from './origin-signals.js';

export { AlertEngine } from './alert-engine.js';
export { DiskWatch, EndpointFailures } from './origin-signals.js';
export { alertsSchema, channelAlertsSchema } from './alert-config.js';

export interface OriginAlerts {
  engine: AlertEngine;
  stop(): void;
}

/** The origin's alert engine over its channels, disk, webhooks and event loop, started. */
export async function startOriginAlerts(o: {
  config: Config; channels: ChannelRegistry; events: EventBus; logger: Logger; store: Pick<AlertRepository, 'list'>;
  disk: DiskWatch; webhooks: EndpointFailures;
  /** Age of the oldest upload waiting for the object store, seconds (objectStore.bucket set). */
  objectStoreOldestSec?: () => number;
}): Promise<OriginAlerts> {
  const byId = new Map(o.config.channels.map((c) => [c.id, c.alerts]));
  const loop = new EventLoopLag();
  const engine = new AlertEngine({
    config: o.config.alerts,
    channels: () => o.channels.all(),
    channelConfig: (id) => byId.get(id),
    origin: () => ({ disk: o.disk, minFreeMb: o.config.storage.minFreeMb, webhooks: o.webhooks, objectStoreOldestSec: o.objectStoreOldestSec?.() }),
    loopLagP99Ms: () => loop.takeP99Ms(),
    events: o.events, logger: o.logger, store: o.store,
  });
  await engine.start();
  return { engine, stop: () => { engine.stop(); loop.stop(); o.disk.stop(); } };
}
