import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, eventually, type TestDatabase } from '@agentledger/testing';
import type { EventEnvelope } from '../envelope.ts';
import type { ReadAllOptions } from '../store.ts';
import { createInProcessEventBus } from '../bus/in-process-event-bus.ts';
import { createPostgresEventStore, type PostgresEventStore } from '../postgres/postgres-event-store.ts';
import { createAppendedFeed, feedRelayOnCommit } from './appended-feed.ts';
import { createOutboxRelay, type OutboxRelay } from './outbox-relay.ts';

// The distributed relay publishes what its own process appended from memory, while other
// processes (the gateway, other replicas) append to the same log: two stores on one database
// stand for two processes.
describe('outbox relay fed by its own appends, with another writer on the log', () => {
  let database: TestDatabase;
  let own: PostgresEventStore;
  let other: PostgresEventStore;
  let relay: OutboxRelay;
  let unwatch: () => void = () => undefined;
  let stopProbe: () => void = () => undefined;
  let readsAtConnect: number | undefined;
  const received: EventEnvelope[] = [];
  const logReads: ReadAllOptions[] = [];
  const publishedPositions: number[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'relay_feed');
    own = await createPostgresEventStore({
      connectionString: database.url,
      migrate: true,
      maxConnections: 6,
    });
    other = await createPostgresEventStore({ connectionString: database.url, maxConnections: 6 });
    await own.pool.query(
      'create function agentledger_project_probe(p jsonb) returns void language sql as $$ select $$',
    );
    const bus = createInProcessEventBus();
    await bus.subscribe('consumer', async ({ envelope }) => void received.push(envelope), {
      fromBeginning: true,
    });
    const feed = createAppendedFeed({
      readPage: (options) => {
        logReads.push(options ?? {});
        return own.readPage(options);
      },
    });
    // As the orchestrator runtime wires it; the idle poll is out of reach, so only wakes publish.
    relay = createOutboxRelay({
      store: { ...own, readPage: feed.readPage },
      bus,
      idlePollMs: 600_000,
      onPublished: (batch) => void publishedPositions.push(...batch.map((event) => event.globalPosition)),
    });
    // The store's listener tells its listeners once when it connects (as after any reconnect):
    // the read that follows is the store's. Noted here, registered first, to wait for it below.
    stopProbe = own.onCommit((result) => {
      if (result === undefined) readsAtConnect ??= logReads.length;
    });
    unwatch = feedRelayOnCommit(own, feed, relay);
    relay.start();
    await eventually('the relay leads', () => (relay.status().leader ? true : undefined));
  });

  afterAll(async () => {
    unwatch();
    stopProbe();
    await relay?.stop();
    await own?.close();
    await other?.close();
    await database?.drop();
  });

  const probe = (store: PostgresEventStore, streamId: string, expectedVersion: number) =>
    store.append(streamId, [{ type: 'Probe', data: { expectedVersion } }], {
      tenantId: 't',
      expectedVersion,
      declared: () => ({ name: 'probe', argument: {} }),
    });

  const publishedOf = (streamId: string): number[] =>
    received.filter((event) => event.streamId === streamId).map((event) => event.version);

  it("publishes its own appends without reading them back, and another process' at its notification", async () => {
    // Own appends are published from memory once the listener's connect has been answered by a
    // read of the store (before that, the next read is the store's whatever memory holds).
    await eventually('the listener connected and a read followed', () =>
      readsAtConnect !== undefined && logReads.length > readsAtConnect ? true : undefined,
    );
    const readsBefore = logReads.length;
    for (let version = 0; version < 5; version += 1) {
      await probe(own, 'session-own', version);
      await eventually(`own event ${version + 1} published`, () =>
        publishedOf('session-own').length === version + 1 ? true : undefined,
      );
    }
    expect(logReads).toHaveLength(readsBefore);
    await probe(other, 'session-other', 0);
    await eventually("the other process' event published", () =>
      publishedOf('session-other').length === 1 ? true : undefined,
    );
    expect(logReads.length).toBeGreaterThan(readsBefore);
  });

  it("publishes another process' event held back by an older transaction once that one ends, which sends no wake", async () => {
    // A transaction of this database with an xid older than the append's, still running: reads
    // stop short of the append (it may yet commit below it), and its end notifies nobody.
    const blocker = new pg.Client({ connectionString: database.url });
    await blocker.connect();
    try {
      await blocker.query('begin');
      await blocker.query('select pg_current_xact_id()');
      const readsBefore = logReads.length;
      await probe(other, 'session-held', 0);
      await eventually('the read the commit woke', () => (logReads.length > readsBefore ? true : undefined));
      expect(publishedOf('session-held')).toEqual([]);
      await blocker.query('rollback');
      await eventually('the held-back event published', () =>
        publishedOf('session-held').length === 1 ? true : undefined,
      );
    } finally {
      await blocker.end();
    }
  });

  it('publishes every event of both writers once, each stream in order, when they append together', async () => {
    const start = received.length;
    const writers = [own, other];
    const rounds = 8;
    await Promise.all(
      Array.from({ length: 6 }, async (_, index) => {
        const writer = writers[index % 2]!;
        for (let version = 0; version < rounds; version += 1)
          await probe(writer, `session-mix-${index}`, version);
      }),
    );
    await eventually('all published', () => (received.length - start >= 6 * rounds ? true : undefined));
    const mixed = received.slice(start);
    expect(new Set(mixed.map((event) => event.globalPosition)).size).toBe(6 * rounds);
    for (let index = 0; index < 6; index += 1)
      expect(publishedOf(`session-mix-${index}`)).toEqual(Array.from({ length: rounds }, (_, v) => v + 1));
    // The relay published the whole log in global order, each position once.
    const log = (await own.readAll()).map((event) => event.globalPosition);
    expect(publishedPositions).toEqual(log);
  });
});
