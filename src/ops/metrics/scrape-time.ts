import { Counter, Gauge, type Registry } from 'prom-client';

/** Hands one sample to the metric being collected. */
export type Sample<L extends string> = (labels: Partial<Record<L, string>>, value: number) => void;

interface ScrapeTimeMetric<L extends string> {
  registry: Registry;
  name: string;
  help: string;
  labelNames: readonly L[];
  /** Called at each scrape: gives the metric's current samples (none: the metric has no series). */
  sample: (emit: Sample<L>) => void;
}

/**
 * A gauge whose samples are read from the origin's own state when Prometheus scrapes, not kept
 * up to date on the hot path: nothing is paid between scrapes, and series of things that are
 * gone (a deleted channel, a rung no longer encoded) go with them.
 */
export function scrapeTimeGauge<L extends string>(m: ScrapeTimeMetric<L>): Gauge<L> {
  return new Gauge<L>({
    name: m.name, help: m.help, labelNames: m.labelNames, registers: [m.registry],
    collect() {
      this.reset();
      m.sample((labels, value) => this.set(labels, value));
    },
  });
}

/**
 * A counter read at scrape time from a total the origin keeps anyway (bytes received, frames
 * dropped). The totals only grow; one that restarts (a new session's pipeline) is a counter
 * reset, which rate() and increase() handle.
 */
export function scrapeTimeCounter<L extends string>(m: ScrapeTimeMetric<L>): Counter<L> {
  return new Counter<L>({
    name: m.name, help: m.help, labelNames: m.labelNames, registers: [m.registry],
    collect() {
      this.reset();
      m.sample((labels, value) => this.inc(labels, value));
    },
  });
}
