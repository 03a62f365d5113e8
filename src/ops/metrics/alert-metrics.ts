import type { Registry } from 'prom-client';
import { PREFIX } from './registry.js';
import { scrapeTimeGauge } from './scrape-time.js';

/** One alert firing now; `channel` absent for an alert about the whole origin. */
export interface ActiveAlert {
  rule: string;
  channel?: string;
}

export type AlertProvider = () => readonly ActiveAlert[];

/** The origin's own alerts (src/ops/alerts) as they stand: no provider, no samples. */
export function registerAlertMetrics(registry: Registry, provider: () => AlertProvider | undefined): void {
  scrapeTimeGauge({
    registry, name: `${PREFIX}alerts_active`, labelNames: ['rule', 'channel'],
    help: 'The origin\'s alerts firing now: 1 per rule and channel (channel "" for the whole origin)',
    sample: (emit) => { for (const a of provider()?.() ?? []) emit({ rule: a.rule, channel: a.channel ?? '' }, 1); },
  });
}
