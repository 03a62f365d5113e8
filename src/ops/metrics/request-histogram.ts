import type { Metric, MetricObjectWithValues, MetricValueWithName, Registry } from 'prom-client';
import { REQUEST_KINDS, STATUS_CLASSES, statusClassIndex, type RequestKind } from './request-kind.js';
const KIND_INDEX = new Map(REQUEST_KINDS.map((k, i) => [k, i]));

/** One (kind, status class) cell: counts per bucket (not cumulative), sum and count. */
interface Cell {
  buckets: Float64Array;
  sum: number;
  count: number;
}

/**
 * The HTTP request histogram, by kind and status class. prom-client's Histogram hashes its
 * label object on every observe (about 0.4 µs, more than the handler's own work for a part);
 * here both labels are small closed sets, so a cell is two array indexes and observing is a
 * bucket scan and three additions. Prometheus gets the usual _bucket/_sum/_count series,
 * written by prom-client's registry from get() like any of its own metrics.
 */
export class RequestHistogram {
  private readonly cells: (Cell | undefined)[] = [];

  constructor(registry: Registry, readonly name: string, readonly help: string, private readonly bounds: readonly number[]) {
    registry.registerMetric(this as unknown as Metric);
  }

  observe(kind: RequestKind, status: number, seconds: number): void {
    const i = (KIND_INDEX.get(kind) ?? 0) * STATUS_CLASSES.length + statusClassIndex(status);
    let cell = this.cells[i];
    if (!cell) this.cells[i] = cell = { buckets: new Float64Array(this.bounds.length), sum: 0, count: 0 };
    const b = this.bounds;
    for (let j = 0; j < b.length; j++) {
      if (seconds <= b[j]) { cell.buckets[j]++; break; }
    }
    cell.sum += seconds;
    cell.count++;
  }

  /** What prom-client's registry formats: cumulative buckets, +Inf, sum and count per cell that has seen a request. */
  async get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const values: MetricValueWithName<string>[] = [];
    this.cells.forEach((cell, i) => {
      if (!cell) return;
      const labels = { kind: REQUEST_KINDS[Math.floor(i / STATUS_CLASSES.length)], status_class: STATUS_CLASSES[i % STATUS_CLASSES.length] };
      let cumulative = 0;
      this.bounds.forEach((le, j) => {
        cumulative += cell.buckets[j];
        values.push({ metricName: `${this.name}_bucket`, labels: { le, ...labels }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...labels }, value: cell.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: cell.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: cell.count });
    });
    return { name: this.name, help: this.help, type: 'histogram' as never, values, aggregator: 'sum', collect: () => undefined };
  }

  /** prom-client's registry calls these on reset and on removal; the counts are the process's, never reset. */
  reset(): void {}
}
