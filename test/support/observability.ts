import { traceIdOf } from '@agentledger/telemetry';

/** The JSON lines of a process's output (other lines are skipped). */
export const jsonLines = (output: string): Record<string, unknown>[] =>
  output.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

export type MetricSample = Readonly<{ labels: Readonly<Record<string, string>>; value: number }>;

/** A Prometheus text exposition as samples by name (histograms as their `_bucket`, `_sum`, `_count`). */
export const metricFamilies = (text: string): ReadonlyMap<string, readonly MetricSample[]> => {
  const families = new Map<string, MetricSample[]>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    const samples = families.get(match[1]!) ?? [];
    samples.push({ labels, value: Number(match[3]) });
    families.set(match[1]!, samples);
  }
  return families;
};

/** The sum of the samples of `name` whose labels include `labels`; undefined when there is none. */
export const sample = (
  families: ReadonlyMap<string, readonly MetricSample[]>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined => {
  const matching = (families.get(name) ?? []).filter((s) =>
    Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  );
  return matching.length === 0 ? undefined : matching.reduce((sum, s) => sum + s.value, 0);
};

export type EventEnvelope = Readonly<{
  type: string;
  version: number;
  metadata: Readonly<Record<string, string>>;
}>;

/**
 * The trace of a session's last turn, read from its events: the trace id of the `traceparent` in the
 * metadata of its last `UserMessageReceived` and of every event after it (they must all agree).
 */
export const turnTraceId = (events: readonly EventEnvelope[]): string => {
  const start = events.findLastIndex((e) => e.type === 'UserMessageReceived');
  if (start < 0) throw new Error('no UserMessageReceived event');
  const ids = new Set(events.slice(start).map((e) => traceIdOf(e.metadata.traceparent)));
  const [id] = ids;
  if (ids.size !== 1 || id === undefined)
    throw new Error(
      `the turn's events carry ${ids.size === 1 ? 'no trace' : 'several traces'}: ${[...ids].join(', ')}`,
    );
  return id;
};

/** The items that pass `test`, then the others. */
export const partition = <T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] => [
  items.filter(test),
  items.filter((item) => !test(item)),
];
