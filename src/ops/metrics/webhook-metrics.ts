import type { Registry } from 'prom-client';
import type { WebhookOutcome } from '../../control/webhooks/sender.js';
import { PREFIX } from './registry.js';
import { scrapeTimeCounter, scrapeTimeGauge } from './scrape-time.js';

/** What the webhook metrics read of the sender. */
export interface MeteredWebhooks {
  readonly outcomes: Readonly<Record<WebhookOutcome, number>>;
  readonly busy: number;
}

/** Webhook delivery attempts by outcome; `sender` is undefined until the origin has started it. */
export function registerWebhookMetrics(registry: Registry, sender: () => MeteredWebhooks | undefined): void {
  scrapeTimeCounter({
    registry, name: `${PREFIX}webhook_deliveries_total`, labelNames: ['outcome'],
    help: 'Webhook delivery attempts by outcome: delivered, retrying (failed, tried again later), gave_up (retry horizon reached), abandoned (at shutdown)',
    sample: (emit) => {
      const s = sender();
      if (s) for (const [outcome, n] of Object.entries(s.outcomes)) emit({ outcome }, n);
    },
  });
  scrapeTimeGauge({
    registry, name: `${PREFIX}webhook_attempts_in_flight`, labelNames: [], help: 'Webhook delivery attempts waiting for the endpoint now',
    sample: (emit) => { const s = sender(); if (s) emit({}, s.busy); },
  });
}
