import type { Registry } from 'prom-client';
import type { ApiApp } from '../../api/context.js';
import type { IngestSnapshot } from '../../ingest/ingest-snapshot.js';
import { registerAlertMetrics, type AlertProvider } from './alert-metrics.js';
import { registerChannelMetrics, type MeteredChannel } from './channel-metrics.js';
import { HttpMetrics } from './http-metrics.js';
import { registerIngestMetrics } from './ingest-metrics.js';
import { registerInputMetrics, type InputMeteredChannel } from './input-metrics.js';
import { registerMetricsRoute } from './metrics-route.js';
import { registerObjectStoreMetrics, type MeteredObjectStore } from './object-store-metrics.js';
import { registerRestreamMetrics, type RestreamTargets } from './restream-metrics.js';
import { createRegistry } from './registry.js';
import { registerWebhookMetrics, type MeteredWebhooks } from './webhook-metrics.js';

export type { ActiveAlert, AlertProvider } from './alert-metrics.js';
export { METRICS_PATH } from './metrics-route.js';

export interface OriginMetricsOptions<C extends MeteredChannel & InputMeteredChannel> {
  /** The channels served now. */
  channels: () => readonly C[];
  /** Whether a channel of this id is served (a path's channel id is only a label when it is). */
  isChannel: (id: string) => boolean;
  /** What a channel's ingest measured; undefined gives that channel no ingest samples. */
  ingestOf: (channel: C) => IngestSnapshot | undefined;
  /** The webhook sender, once the origin has one. */
  webhooks: () => MeteredWebhooks | undefined;
  /** The object store (objectStore.bucket); undefined: no samples. */
  objectStore?: () => MeteredObjectStore | undefined;
  /** Each channel's restream targets; undefined: no samples. */
  restream?: RestreamTargets;
  /** metrics.token: when set, GET /metrics needs it as a bearer token. */
  token?: string;
}

/**
 * The origin's Prometheus metrics: one registry, the collectors that read the origin's state at
 * scrape time, the HTTP request observer the delivery handler and the API call, and the
 * GET /metrics route on the API port.
 */
export class OriginMetrics<C extends MeteredChannel & InputMeteredChannel = MeteredChannel & InputMeteredChannel> {
  readonly registry: Registry = createRegistry();
  readonly http: HttpMetrics;
  private alerts: AlertProvider | undefined;

  constructor(private readonly opts: OriginMetricsOptions<C>) {
    this.http = new HttpMetrics(this.registry, opts.isChannel);
    registerChannelMetrics(this.registry, opts.channels);
    registerInputMetrics(this.registry, opts.channels);
    registerIngestMetrics(this.registry, () => opts.channels().flatMap((ch) => {
      const ingest = opts.ingestOf(ch);
      return ingest ? [{ channel: ch.id, ingest }] : [];
    }));
    registerWebhookMetrics(this.registry, opts.webhooks);
    registerAlertMetrics(this.registry, () => this.alerts);
    registerObjectStoreMetrics(this.registry, () => opts.objectStore?.());
    registerRestreamMetrics(this.registry, () => opts.restream?.() ?? []);
  }

  /** The alerts that sigma_alerts_active reports (src/ops/alerts gives its provider here). */
  useAlerts(provider: AlertProvider): void {
    this.alerts = provider;
  }

  /** What the API server needs: the route, and a call per API request answered. */
  readonly api = {
    register: (app: ApiApp) => registerMetricsRoute(app, this.registry, this.opts.token),
    observe: (status: number, seconds: number) => this.http.observe('api', status, seconds),
  };
}
