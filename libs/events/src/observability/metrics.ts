import {
  Counter,
  Gauge,
  Histogram,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
  type Registry,
} from 'prom-client';

/** Latency buckets in seconds, from a fast append to a slow model call. */
export const LATENCY_BUCKETS_SECONDS = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
];

type Config<C> = Omit<C, 'registers'>;

/**
 * The one way metrics are made: registered in `registry` (never the global one), and the existing
 * metric returned when the name is already there — the embedded app shares one registry between
 * the gateway's and the orchestrator's parts, so both may ask for the same family.
 */
export const metricsIn = (registry: Registry) => {
  const existing = <M>(name: string): M | undefined => registry.getSingleMetric(name) as M | undefined;
  return {
    counter: <L extends string>(config: Config<CounterConfiguration<L>>): Counter<L> =>
      existing<Counter<L>>(config.name) ?? new Counter({ ...config, registers: [registry] }),
    gauge: <L extends string>(config: Config<GaugeConfiguration<L>>): Gauge<L> =>
      existing<Gauge<L>>(config.name) ?? new Gauge({ ...config, registers: [registry] }),
    histogram: <L extends string>(config: Config<HistogramConfiguration<L>>): Histogram<L> =>
      existing<Histogram<L>>(config.name) ??
      new Histogram({ buckets: LATENCY_BUCKETS_SECONDS, ...config, registers: [registry] }),
  };
};

export type MetricsFactory = ReturnType<typeof metricsIn>;

/** The session statuses of docs/api.md: each is reported, 0 when no session has it. */
const SESSION_STATUSES = [
  'idle',
  'running',
  'awaiting_input',
  'awaiting_approval',
  'stalled',
  'failed',
  'closed',
];

/** `agentledger_sessions{status}`, counted at each scrape by `count` (the sessions read model). */
export const registerSessionStatusGauge = (
  registry: Registry,
  count: () => Promise<Readonly<Record<string, number>>>,
): void => {
  metricsIn(registry).gauge({
    name: 'agentledger_sessions',
    help: 'Sessions by status (all tenants), read from the sessions read model at scrape time',
    labelNames: ['status'] as const,
    async collect() {
      const counts = await count().catch(() => undefined);
      if (counts === undefined) return;
      for (const status of new Set([...SESSION_STATUSES, ...Object.keys(counts)]))
        this.set({ status }, counts[status] ?? 0);
    },
  });
};

/**
 * Label values a tenant can choose (model and endpoint names in a team spec) are capped: the first
 * `limit` distinct values are kept, later ones read `other`, so no spec can grow the registry
 * without bound.
 */
export const boundedLabel = (limit: number): ((value: string) => string) => {
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value)) return value;
    if (seen.size >= limit) return 'other';
    seen.add(value);
    return value;
  };
};
