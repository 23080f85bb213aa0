import { PGlite } from '@electric-sql/pglite';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '@agentledger/testing';
import type { EventEnvelope } from '../envelope.ts';
import type { AppendResult, ReadAllOptions } from '../store.ts';
import { createInProcessEventBus } from '../bus/in-process-event-bus.ts';
import { createPgliteEventStore, type PgliteEventStore } from '../pglite/pglite-event-store.ts';
import { createAppendedFeed, type AppendedFeed } from './appended-feed.ts';
import { createOutboxRelay, type OutboxRelay } from './outbox-relay.ts';

const envelope = (globalPosition: number): EventEnvelope => ({
  globalPosition,
  streamId: 'session-a',
  tenantId: 't',
  version: globalPosition,
  eventId: `e${globalPosition}`,
  type: 'Probe',
  schemaVersion: 1,
  data: {},
  metadata: {},
  recordedAt: '2026-11-30T00:00:00.000Z',
  prevHash: '',
  hash: '',
});

/** A log of `positions` behind a store whose reads are counted. */
const fakeStore = (positions: readonly number[]) => {
  const reads: ReadAllOptions[] = [];
  const store = {
    readPage: async (options: ReadAllOptions = {}) => {
      reads.push(options);
      const after = options.after ?? 0;
      return {
        events: positions
          .filter((position) => position > after)
          .slice(0, options.limit)
          .map(envelope),
      };
    },
  };
  return { store, reads };
};

const appended = (positions: readonly number[], extra: Partial<AppendResult> = {}): AppendResult => ({
  streamId: 'session-a',
  versions: positions,
  globalPositions: positions,
  nextExpectedVersion: positions.at(-1) ?? 0,
  duplicate: false,
  events: positions.map(envelope),
  ...extra,
});

const positionsOf = (events: readonly EventEnvelope[]): number[] => events.map((e) => e.globalPosition);

const readEvents = async (feed: AppendedFeed, options: ReadAllOptions) =>
  (await feed.readPage(options)).events;

describe('appended feed (the relay reads what its process appended)', () => {
  it('serves the recorded positions right after `after` without reading the store, within the limit', async () => {
    const { store, reads } = fakeStore([1, 2, 3]);
    const feed = createAppendedFeed(store);
    feed.record(appended([1, 2]));
    feed.record(appended([3]));
    expect(positionsOf(await readEvents(feed, { after: 0, limit: 2 }))).toEqual([1, 2]);
    expect(positionsOf(await readEvents(feed, { after: 2, limit: 500 }))).toEqual([3]);
    expect(reads).toEqual([]);
  });

  it('reads the store when the next position was not recorded, then memory again from a run right after `after`', async () => {
    // 2 was appended without its events (an import, a plain append); 4 was rolled back.
    const { store, reads } = fakeStore([1, 2, 3, 5]);
    const feed = createAppendedFeed(store);
    for (const position of [1, 3, 5]) feed.record(appended([position]));
    expect(positionsOf(await readEvents(feed, { after: 0 }))).toEqual([1]);
    expect(reads).toHaveLength(0);
    expect(positionsOf(await readEvents(feed, { after: 1 }))).toEqual([2, 3, 5]);
    expect(reads).toEqual([{ after: 1 }]);
    expect(positionsOf(await readEvents(feed, { after: 5 }))).toEqual([]);
    expect(reads).toHaveLength(2);
  });

  it("reads the store after another process' commit, though memory holds a run that its position may end", async () => {
    // 1 and 3 are this process'; 2 is another's, committed before the relay read: from memory the
    // read would stop at 1, and the relay would take the commit's wake as answered.
    const { store, reads } = fakeStore([1, 2, 3, 4]);
    const feed = createAppendedFeed(store);
    feed.record(appended([1]));
    feed.record(appended([3]));
    feed.foreign();
    expect(positionsOf(await readEvents(feed, { after: 0 }))).toEqual([1, 2, 3, 4]);
    expect(reads).toEqual([{ after: 0 }]);
    // That read answered it: memory serves the next run again.
    feed.record(appended([5]));
    expect(positionsOf(await readEvents(feed, { after: 4 }))).toEqual([5]);
    expect(reads).toHaveLength(1);
  });

  it('records nothing for a duplicate or a result without events, and keeps at most maxEvents', async () => {
    const { store, reads } = fakeStore([1, 2, 3, 4]);
    const feed = createAppendedFeed(store, { maxEvents: 2 });
    feed.record(appended([1], { duplicate: true }));
    feed.record(appended([2], { events: undefined }));
    await readEvents(feed, { after: 0 });
    expect(reads).toHaveLength(1);
    feed.record(appended([1, 2, 3, 4]));
    expect(positionsOf(await readEvents(feed, { after: 0 }))).toEqual([1, 2, 3, 4]); // 1 and 2 left: read
    expect(reads).toHaveLength(2);
    expect(positionsOf(await readEvents(feed, { after: 2 }))).toEqual([3, 4]);
    expect(reads).toHaveLength(2);
  });

  it("passes the store's committed head on with a page read there, and none with one from memory", async () => {
    const { store, reads } = fakeStore([1, 2, 3]);
    // The store holds 3 back (an older transaction still runs) and says it committed.
    const feed = createAppendedFeed({
      ...store,
      readPage: async (options) => ({
        events: (await store.readPage(options)).events.slice(0, 2),
        committedHead: 3,
      }),
    });
    expect(await feed.readPage({ after: 0 })).toEqual({ events: [1, 2].map(envelope), committedHead: 3 });
    feed.record(appended([3]));
    expect(await feed.readPage({ after: 2 })).toEqual({ events: [envelope(3)] });
    expect(reads).toEqual([{ after: 0 }]);
  });

  describe('on PGlite, behind a relay', () => {
    let pglite: PGlite | undefined;
    let store: PgliteEventStore | undefined;
    let relay: OutboxRelay | undefined;
    afterEach(async () => {
      await relay?.stop();
      await store?.close();
      await pglite?.close();
    });

    it('publishes every declared append in order without reading the log back', async () => {
      pglite = await PGlite.create();
      store = await createPgliteEventStore({ pglite });
      await pglite.exec(
        'create function agentledger_project_probe(p jsonb) returns void language sql as $$ select $$',
      );
      const logReads: number[] = [];
      const counted = {
        ...store,
        readPage: (options?: ReadAllOptions) => {
          logReads.push(options?.after ?? 0);
          return store!.readPage(options);
        },
      };
      const feed = createAppendedFeed(counted);
      const unwatch = store.onCommit((own) => {
        if (own !== undefined) feed.record(own);
      });
      const bus = createInProcessEventBus();
      const received: EventEnvelope[] = [];
      await bus.subscribe('consumer', async ({ envelope: e }) => void received.push(e), {
        fromBeginning: true,
      });
      relay = createOutboxRelay({ store: { ...store, readPage: feed.readPage }, bus, idlePollMs: 10_000 });
      relay.start();
      await eventually('the first, empty read', () => (logReads.length === 1 ? true : undefined));
      const sessions = ['a', 'b', 'c'];
      for (let round = 0; round < 4; round += 1)
        await Promise.all(
          sessions.map((id) =>
            store!.append(
              `session-${id}`,
              [
                { type: 'Probe', data: { round } },
                { type: 'Probe', data: { round } },
              ],
              {
                tenantId: 't',
                expectedVersion: round * 2,
                declared: () => ({ name: 'probe', argument: {} }),
              },
            ),
          ),
        );
      relay.wake();
      await eventually('all published', () => (received.length === 24 ? true : undefined));
      expect(positionsOf(received).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 24 }, (_, i) => i + 1),
      );
      for (const id of sessions)
        expect(received.filter((e) => e.streamId === `session-${id}`).map((e) => e.version)).toEqual([
          1, 2, 3, 4, 5, 6, 7, 8,
        ]);
      expect(logReads).toEqual([0]);
      unwatch();
    }, 60_000);
  });
});
