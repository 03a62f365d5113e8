import type { Registry } from 'prom-client';

/**
 * The value of one series as a scrape would give it (collect callbacks run), or undefined when
 * the series is absent. `labels` must match the series' labels exactly.
 */
export async function sampleOf(registry: Registry, name: string, labels: Record<string, string> = {},
  /** A histogram's series: `_bucket` (labels then include `le`), `_sum` or `_count`. */
  series = ''): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const want = JSON.stringify(Object.entries(labels).sort());
  return values.find((v) => ((v as { metricName?: string }).metricName ?? name) === name + series
    && JSON.stringify(Object.entries(v.labels).sort()) === want)?.value;
}
