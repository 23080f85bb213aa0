import type { Registry } from 'prom-client';
import type { NewEvent } from '../envelope.ts';
import type { AppendResult } from '../store.ts';
import { metricsIn } from './metrics.ts';

/**
 * `store` with its appends measured: `agentledger_events_appended_total{type}` (events written,
 * idempotent duplicates not counted) and `agentledger_event_append_duration_seconds{outcome}`.
 */
type Append = (streamId: string, events: readonly NewEvent[], options: never) => Promise<AppendResult>;

export const measureAppends = <S extends Readonly<{ append: Append }>>(store: S, registry: Registry): S => {
  const inner = store.append as (
    streamId: string,
    events: readonly NewEvent[],
    options: unknown,
  ) => Promise<AppendResult>;
  const metrics = metricsIn(registry);
  const appended = metrics.counter({
    name: 'agentledger_events_appended_total',
    help: 'Events written to the store, by event type',
    labelNames: ['type'] as const,
  });
  const latency = metrics.histogram({
    name: 'agentledger_event_append_duration_seconds',
    help: 'Append latency (transaction included), by outcome (written, duplicate, failed)',
    labelNames: ['outcome'] as const,
  });
  const append = async (streamId: string, events: readonly NewEvent[], options: unknown) => {
    const stop = latency.startTimer();
    try {
      const result = await inner(streamId, events, options);
      stop({ outcome: result.duplicate ? 'duplicate' : 'written' });
      if (!result.duplicate) for (const event of events) appended.inc({ type: event.type });
      return result;
    } catch (error) {
      stop({ outcome: 'failed' });
      throw error;
    }
  };
  return { ...store, append: append as S['append'] };
};
