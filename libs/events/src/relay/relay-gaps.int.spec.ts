import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, eventually, type TestDatabase } from '@agentledger/testing';
import type { EventEnvelope } from '../envelope.ts';
import { createInProcessEventBus } from '../bus/in-process-event-bus.ts';
import { createPostgresEventStore, type PostgresEventStore } from '../postgres/postgres-event-store.ts';
import { createOutboxRelay, type OutboxRelay } from './outbox-relay.ts';

// Positions are taken inside append transactions, and transaction ids are taken earlier (at the
// first write), so a committed event can sit at a higher position than one still in flight, with
// a lower transaction id: the xid8 guard of readAll alone lets the later one through first.
describe('outbox relay and gaps in the global positions', () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  let relay: OutboxRelay;
  const received: EventEnvelope[] = [];
  const published: string[] = [];
  let reads = 0;

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'relay_gaps');
    store = await createPostgresEventStore({
      connectionString: database.url,
      migrate: true,
      maxConnections: 6,
    });
    const bus = createInProcessEventBus();
    await bus.subscribe('consumer', async ({ envelope }) => void received.push(envelope), {
      fromBeginning: true,
    });
    // No `gaps`: the relay picks the exact Postgres resolver from the store's pool by itself.
    relay = createOutboxRelay({
      store: {
        pool: store.pool,
        readPage: async (options) => {
          reads++;
          return store.readPage(options);
        },
        loadCheckpoint: store.loadCheckpoint,
        saveCheckpoint: store.saveCheckpoint,
      } as Parameters<typeof createOutboxRelay>[0]['store'],
      bus,
      onPublished: (batch) => void published.push(...batch.map((event) => event.streamId)),
    });
    relay.start();
  });

  afterAll(async () => {
    await relay?.stop();
    await store?.close();
    await database?.drop();
  });

  it('never publishes past a position whose transaction is still in flight', async () => {
    const early = new pg.Client({ connectionString: database.url });
    await early.connect();
    await early.query('begin');
    await early.query('select pg_current_xact_id()'); // the older transaction id

    let release: () => void = () => undefined;
    let inserted: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const insertedSignal = new Promise<void>((resolve) => (inserted = resolve));
    const slow = store.append('session-slow', [{ type: 'UserMessageReceived', data: { n: 1 } }], {
      tenantId: 't',
      expectedVersion: 'no_stream',
      inline: async () => {
        inserted();
        await gate; // holds the lower position, with the newer transaction id, uncommitted
      },
    });
    await insertedSignal;
    await early.query(
      `insert into events (stream_id, tenant_id, version, event_id, type, schema_version, data, metadata, recorded_at, prev_hash, hash)
       values ('session-fast', 't', 1, gen_random_uuid(), 'UserMessageReceived', 1, '{}', '{}', now(), repeat('0', 64), repeat('1', 64))`,
    );
    await early.query('commit');
    await early.end();

    // The store may hide the later position itself (its readAll stops at open holes too); either
    // way, several reads after the commit nothing may have been published.
    const readsAtCommit = reads;
    await eventually('the relay to read a few times', () => (reads >= readsAtCommit + 3 ? true : undefined));
    expect(received).toEqual([]);
    release();
    await slow;
    await eventually('both published', () => (received.length === 2 ? true : undefined));
    expect(published).toEqual(['session-slow', 'session-fast']);
  });

  it('skips a position whose append rolled back, once no transaction can still commit it', async () => {
    const failed = store.append('session-rolled-back', [{ type: 'UserMessageReceived', data: {} }], {
      tenantId: 't',
      expectedVersion: 'no_stream',
      inline: () => {
        throw new Error('projection failed: the append rolls back');
      },
    });
    await expect(failed).rejects.toThrow('projection failed');
    const after = await store.append('session-after', [{ type: 'UserMessageReceived', data: {} }], {
      tenantId: 't',
      expectedVersion: 'no_stream',
    });
    const position = after.globalPositions[0]!;
    // The bus delivers a batch before the relay records it (checkpoint, counters): wait for the
    // relay's own account of the step, not for the delivery, before reading its counters.
    await eventually('the relay past the later event', () =>
      relay.status().checkpoint >= position ? true : undefined,
    );
    expect(received.map((event) => event.globalPosition)).toContain(position);
    expect(received.map((event) => event.globalPosition)).not.toContain(position - 1);
    // The rolled-back append took exactly the position before; nothing else in this file skips.
    expect(relay.status().skippedPositions).toBe(1);
  });
});
