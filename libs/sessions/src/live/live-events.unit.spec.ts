import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore } from '@agentledger/events';
import { createInProcessEventBus } from '@agentledger/events/bus';
import type { EventEnvelope } from '@agentledger/events';
import { createBusLiveEvents, createStoreLiveEvents } from './live-events.ts';

describe('live events from the bus', () => {
  it('hands a watch the events of its stream the bus delivers, past its version, and stops on close', async () => {
    const store = createInMemoryEventStore();
    const bus = createInProcessEventBus({ partitions: 3 });
    const live = await createBusLiveEvents(bus, 'live-test');
    const append = (streamId: string, version: number) =>
      store.append(streamId, [{ type: 'E', data: { version } }], { tenantId: 't', expectedVersion: version });
    await append('a', 0);
    const watch = live.watch('a', 1);
    const other = live.watch('b', 0);
    await append('a', 1);
    await append('a', 2);
    await append('b', 0);
    await bus.publish(await store.readAll({ after: 0 }));
    const seen: number[] = [];
    while (seen.length < 2) {
      await watch.news();
      seen.push(...(watch.take(seen.at(-1) ?? 1) ?? []).map((event) => event.version));
    }
    expect(seen).toEqual([2, 3]);
    await other.news();
    expect(other.take(0)?.map((event) => `${event.streamId}@${event.version}`)).toEqual(['b@1']);
    watch.cancel();
    other.cancel();
    await live.close();
    await bus.close();
  });
});

describe('live events from the store', () => {
  it('shows the observer every committed event of every stream, as it wakes their watchers', async () => {
    const store = createInMemoryEventStore();
    const observed: string[] = [];
    const live = createStoreLiveEvents(store, 'live-test', (event: EventEnvelope) =>
      observed.push(`${event.tenantId}/${event.streamId}@${event.version}`),
    );
    const watch = live.watch('a', 0);
    const woken = watch.news().then(() => [...observed]);
    await store.append('a', [{ type: 'E', data: {} }], { tenantId: 't', expectedVersion: 0 });
    await store.append('b', [{ type: 'E', data: {} }], { tenantId: 'u', expectedVersion: 0 });
    expect(await woken).toContain('t/a@1');
    while (observed.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(observed).toEqual(['t/a@1', 'u/b@1']);
    watch.cancel();
    await live.close();
  });

  it('wakes the watchers of an event its observer threw on', async () => {
    const store = createInMemoryEventStore();
    const live = createStoreLiveEvents(store, 'live-test', () => {
      throw new Error('observer failed');
    });
    const watch = live.watch('a', 0);
    await store.append('a', [{ type: 'E', data: {} }], { tenantId: 't', expectedVersion: 0 });
    await watch.news();
    expect(watch.take(0)?.map((event) => event.version)).toEqual([1]);
    watch.cancel();
    await live.close();
  });
});
