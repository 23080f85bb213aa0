import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore } from '../memory/in-memory-event-store.ts';
import { measureAppends } from './measured-store.ts';
import { boundedLabel, metricsIn, registerSessionStatusGauge } from './metrics.ts';

const valuesOf = async (registry: Registry, name: string) =>
  (await registry.getSingleMetric(name)?.get())?.values ?? [];

describe('metrics helper', () => {
  it('returns the family already registered under a name instead of failing on a second one', () => {
    const registry = new Registry();
    const first = metricsIn(registry).counter({ name: 'x_total', help: 'x', labelNames: ['a'] as const });
    const second = metricsIn(registry).counter({ name: 'x_total', help: 'x', labelNames: ['a'] as const });
    expect(second).toBe(first);
    expect(registry.getMetricsAsArray()).toHaveLength(1);
  });

  it('counts appended events by type and times appends, duplicates apart', async () => {
    const registry = new Registry();
    const store = measureAppends(createInMemoryEventStore(), registry);
    const options = { tenantId: 't', expectedVersion: 'any' as const, idempotencyKey: 'k-1' };
    await store.append(
      's-1',
      [
        { type: 'A', data: {} },
        { type: 'B', data: {} },
      ],
      options,
    );
    await store.append(
      's-1',
      [
        { type: 'A', data: {} },
        { type: 'B', data: {} },
      ],
      options,
    );
    await expect(
      store.append('s-1', [{ type: 'A', data: {} }], { tenantId: 't', expectedVersion: 0 }),
    ).rejects.toThrow();
    expect(await valuesOf(registry, 'agentledger_events_appended_total')).toEqual([
      { labels: { type: 'A' }, value: 1 },
      { labels: { type: 'B' }, value: 1 },
    ]);
    const counts = (await valuesOf(registry, 'agentledger_event_append_duration_seconds'))
      .filter(
        (v) =>
          (v as { metricName?: string }).metricName === 'agentledger_event_append_duration_seconds_count',
      )
      .map((v) => [v.labels.outcome, v.value]);
    expect(counts).toEqual([
      ['written', 1],
      ['duplicate', 1],
      ['failed', 1],
    ]);
  });

  it('reports every session status at scrape time, 0 for the ones no session has', async () => {
    const registry = new Registry();
    registerSessionStatusGauge(registry, async () => ({ idle: 2, running: 1 }));
    const values = Object.fromEntries(
      (await valuesOf(registry, 'agentledger_sessions')).map((v) => [v.labels.status, v.value]),
    );
    expect(values).toEqual({
      idle: 2,
      running: 1,
      awaiting_input: 0,
      awaiting_approval: 0,
      stalled: 0,
      failed: 0,
      closed: 0,
    });
  });

  it('caps the distinct values of a label a tenant can choose', () => {
    const model = boundedLabel(2);
    expect(['a', 'b', 'c', 'a', 'd', 'b'].map(model)).toEqual(['a', 'b', 'other', 'a', 'other', 'b']);
  });
});
