import { collectDefaultMetrics, Registry } from 'prom-client';

/** Every metric of this origin is named sigma_…; prom-client's defaults keep their usual process_/nodejs_ names. */
export const PREFIX = 'sigma_';

/**
 * A registry of its own (not prom-client's global one), so two origins in one process (tests)
 * never share or clash, with prom-client's process metrics (CPU, memory, file descriptors) and
 * Node's (event-loop lag, GC, heap). Event-loop lag is sampled every 10 ms: fine enough to see
 * a stall of a part duration (200 ms in ultra-low) without a timer of its own per millisecond.
 */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  // Gauges named like counters, which promtool's lint refuses; nodejs_active_{handles,requests,resources}{type} say the same by type.
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
  return registry;
}

const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * Calls `compute` at most once per scrape. prom-client runs every metric's collect() in the same
 * synchronous loop when a scrape starts, so a value kept until the next turn of the event loop
 * is shared by all the metrics of that scrape and never seen by the next one.
 */
export function oncePerScrape<T>(compute: () => T): () => T {
  let cached: { value: T } | undefined;
  return () => {
    if (!cached) {
      cached = { value: compute() };
      setImmediate(() => { cached = undefined; });
    }
    return cached.value;
  };
}
