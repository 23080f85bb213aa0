import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore, type EventEnvelope, type SessionDelta } from '@agentledger/events';
import { followStream, withDeltas, type StreamItem } from './follow-stream.ts';
import { recordingCalls } from '../testing/fixtures.ts';
import { createStoreLiveEvents, type Watch } from './live-events.ts';

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
    const memory = createInMemoryEventStore();
    const counted = recordingCalls(memory, 'readStream');
    const live = createStoreLiveEvents(memory, 'follow-test');
    const append = (n: number, version: number) =>
      memory.append(
        's',
        Array.from({ length: n }, () => ({ type: 'E', data: {} })),
        { tenantId: 't', expectedVersion: version },
      );
    await append(1, 0);
    /** Follows stream `s` after `after` (with a watch registered earlier, if given); polls once a minute. */
    const follow = (after: number, watching?: Watch) =>
      followStream(counted.store, {
        tenantId: 't',
        streamId: 's',
        after,
        signal: new AbortController().signal,
        pollIntervalMs: 60_000,
        live,
        ...(watching === undefined ? {} : { watching }),
      });
    return { counted, live, append, follow };
  };

  it('yields the events live hands over without reading the store again, and reads once to fill a hole', async () => {
    const { counted, live, append, follow } = await setup();
    const seen: number[] = [];
    for await (const event of follow(0)) {
      seen.push(event.version);
      if (event.version === 1) await append(2, 1);
      if (event.version === 3) break;
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(counted.calls).toHaveLength(1);
    await live.close();
  });

  it('reads nothing when handed a watch registered before the events it follows were written', async () => {
    const { counted, live, append, follow } = await setup();
    const watching = live.watch('s', 1);
    await append(2, 1);
    const seen: number[] = [];
    for await (const event of follow(2, watching)) {
      seen.push(event.version);
      if (event.version === 3) await append(1, 3);
      if (event.version === 4) break;
    }
    expect(seen).toEqual([3, 4]);
    expect(counted.calls).toHaveLength(0);
    await live.close();
  });

  it('waits again, reading nothing, when the news is only of events it follows from (its own append)', async () => {
    const { counted, live, append, follow } = await setup();
    const watching = live.watch('s', 1);
    await append(2, 1);
    const following = follow(3, watching);
    const next = following.next();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await append(1, 3);
    expect((await next).value?.version).toBe(4);
    expect(counted.calls).toHaveLength(0);
    await following.return(undefined);
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
