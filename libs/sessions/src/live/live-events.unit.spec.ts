import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore } from '@agentledger/events';
import { createInProcessEventBus } from '@agentledger/events/bus';
import { createBusLiveEvents } from './live-events.ts';

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
