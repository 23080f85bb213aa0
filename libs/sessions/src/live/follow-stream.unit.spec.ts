import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore, type EventEnvelope, type SessionDelta } from '@agentledger/events';
import { followStream, withDeltas, type StreamItem } from './follow-stream.ts';
import { createStoreLiveEvents } from './live-events.ts';

const event = (version: number) => ({ version, type: 'E' }) as unknown as EventEnvelope;
const delta = (seq: number) => ({ seq, kind: 'text', text: String(seq) }) as unknown as SessionDelta;

describe('withDeltas', () => {
  it('yields deltas as they arrive while the events wait, in order, and stops watching when the reader stops', async () => {
    let release: () => void = () => undefined;
    const more = new Promise<void>((resolve) => (release = resolve));
    async function* events(): AsyncGenerator<EventEnvelope> {
      yield event(1);
      await more;
      yield event(2);
    }
    let handler: ((d: SessionDelta) => void) | undefined;
    let watching = false;
    const items = withDeltas(events(), (h) => {
      handler = h;
      watching = true;
      return () => (watching = false);
    });
    const seen: StreamItem[] = [];
    for await (const item of items) {
      seen.push(item);
      if (item.kind === 'event' && item.event.version === 1) {
        handler!(delta(0));
        handler!(delta(1));
      }
      if (item.kind === 'delta' && item.delta.seq === 1) release();
      if (item.kind === 'event' && item.event.version === 2) break;
    }
    expect(seen.map((i) => (i.kind === 'event' ? `e${i.event.version}` : `d${i.delta.seq}`))).toEqual([
      'e1',
      'd0',
      'd1',
      'e2',
    ]);
    expect(watching).toBe(false);
  });
});

describe('followStream with live events', () => {
  const setup = async () => {
    const store = createInMemoryEventStore();
    const reads = { count: 0 };
    const counted = {
      ...store,
      readStream: (...args: Parameters<typeof store.readStream>) => {
        reads.count += 1;
        return store.readStream(...args);
      },
    };
    const live = createStoreLiveEvents(store, 'follow-test');
    const append = (n: number, version: number) =>
      store.append(
        's',
        Array.from({ length: n }, () => ({ type: 'E', data: {} })),
        {
          tenantId: 't',
          expectedVersion: version,
        },
      );
    await append(1, 0);
    return { store: counted, live, reads, append };
  };

  it('yields the events live hands over without reading the store again, and reads once to fill a hole', async () => {
    const { store, live, reads, append } = await setup();
    const controller = new AbortController();
    const follow = followStream(store, {
      tenantId: 't',
      streamId: 's',
      after: 0,
      signal: controller.signal,
      pollIntervalMs: 60_000,
      live,
    });
    const seen: number[] = [];
    for await (const event of follow) {
      seen.push(event.version);
      if (event.version === 1) await append(2, 1);
      if (event.version === 3) break;
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(reads.count).toBe(1);
    await live.close();
  });

  it('reads nothing when handed a watch registered before the events it follows were written', async () => {
    const { store, live, reads, append } = await setup();
    const watching = live.watch('s', 1);
    await append(2, 1);
    const controller = new AbortController();
    const seen: number[] = [];
    for await (const event of followStream(store, {
      tenantId: 't',
      streamId: 's',
      after: 2,
      signal: controller.signal,
      pollIntervalMs: 60_000,
      live,
      watching,
    })) {
      seen.push(event.version);
      if (event.version === 3) await append(1, 3);
      if (event.version === 4) break;
    }
    expect(seen).toEqual([3, 4]);
    expect(reads.count).toBe(0);
    await live.close();
  });

  it('waits again, reading nothing, when the news is only of events it follows from (its own append)', async () => {
    const { store, live, reads, append } = await setup();
    const watching = live.watch('s', 1);
    await append(2, 1);
    const controller = new AbortController();
    const follow = followStream(store, {
      tenantId: 't',
      streamId: 's',
      after: 3,
      signal: controller.signal,
      pollIntervalMs: 60_000,
      live,
      watching,
    });
    const next = follow.next();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await append(1, 3);
    expect((await next).value?.version).toBe(4);
    expect(reads.count).toBe(0);
    await follow.return(undefined);
    await live.close();
  });

  it('hands over only events past the version taken, and nothing (a read) after more than it keeps', async () => {
    const { live, append } = await setup();
    const watch = live.watch('s', 1);
    let woken = false;
    void watch.news().then(() => (woken = true));
    await append(2, 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(woken).toBe(true);
    expect(watch.take(2)?.map((event) => event.version)).toEqual([3]);
    expect(watch.take(0)).toEqual([]);
    for (let version = 3; version < 1_004; version += 1) await append(1, version);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await watch.news();
    expect(watch.take(3)).toBeUndefined();
    watch.cancel();
    await live.close();
  });
});
