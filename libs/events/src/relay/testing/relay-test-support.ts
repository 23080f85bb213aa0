import type { EventBus } from '../../bus.ts';
import type { EventEnvelope } from '../../envelope.ts';
import type { EventStore } from '../../store.ts';
import { createStreamDedupe } from '../../bus/stream-dedupe.ts';

/** Appends `events` events to each of `streams` streams, all streams at once, `perAppend` per call. */
export const appendConcurrently = async (
  store: Pick<EventStore, 'append'>,
  options: Readonly<{
    prefix: string;
    streams: number;
    events: number;
    perAppend: number;
    tenantId?: string;
  }>,
): Promise<number> => {
  const { prefix, streams, events, perAppend } = options;
  await Promise.all(
    Array.from({ length: streams }, async (_, s) => {
      for (let version = 0; version < events; version += perAppend) {
        const count = Math.min(perAppend, events - version);
        await store.append(
          `session-${prefix}-${s}`,
          Array.from({ length: count }, (_, i) => ({
            type: 'UserMessageReceived',
            data: { n: version + i + 1 },
          })),
          { tenantId: options.tenantId ?? 'tenant-a', expectedVersion: version },
        );
      }
    }),
  );
  return streams * events;
};

/**
 * A consumer that applies each (stream, version) once: it counts raw deliveries, what it applied,
 * and any gap (an event arriving before its predecessor was applied: an ordering violation).
 */
export const dedupingConsumer = async (bus: EventBus, groupId: string) => {
  const dedupe = createStreamDedupe();
  const state = { deliveries: 0, duplicates: 0, gaps: [] as string[], applied: new Map<string, number>() };
  const subscription = await bus.subscribe(
    groupId,
    async ({ envelope }: { envelope: EventEnvelope }) => {
      state.deliveries++;
      const verdict = dedupe.verdict(envelope);
      if (verdict.kind === 'duplicate') {
        state.duplicates++;
        return;
      }
      if (verdict.kind === 'gap') {
        state.gaps.push(`${envelope.streamId}: expected ${verdict.expected}, got ${verdict.received}`);
        return;
      }
      const key = `${envelope.streamId}@${envelope.version}`;
      state.applied.set(key, (state.applied.get(key) ?? 0) + 1);
      dedupe.applied(envelope);
    },
    { fromBeginning: true },
  );
  return { state, subscription, dedupe };
};
