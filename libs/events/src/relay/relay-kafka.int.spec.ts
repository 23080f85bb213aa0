import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, eventually, type TestDatabase } from '@agentledger/testing';
import { createKafkaClient } from '../kafka/kafka-client.ts';
import { createKafkaEventBus } from '../kafka/kafka-event-bus.ts';
import { ensureKafkaTopic } from '../kafka/kafka-topics.ts';
import { createPostgresEventStore, type PostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { EventBus } from '../bus.ts';
import { createOutboxRelay, type OutboxRelay } from './outbox-relay.ts';
import { createPostgresGapResolver } from './position-gaps.ts';
import { createAdvisoryLockLeadership } from './relay-leadership.ts';
import { appendConcurrently, dedupingConsumer } from './testing/relay-test-support.ts';

const brokers = inject('kafkaBrokers').split(',');
const runId = inject('runId');

describe('outbox relay on Postgres and Kafka', () => {
  const topic = `relay-order.${runId}`;
  let database: TestDatabase;
  let store: PostgresEventStore;
  let bus: EventBus;
  const relays: OutboxRelay[] = [];

  const leadership = (lockKey: string, name = `relay-${lockKey}`) =>
    createAdvisoryLockLeadership({
      lockKey,
      checkIntervalMs: 200,
      connect: async () => {
        const client = new pg.Client({
          connectionString: database.url,
          application_name: name,
        });
        await client.connect();
        return client;
      },
    });

  const gapResolver = () => createPostgresGapResolver((text, values) => store.pool.query(text, values));

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'relay_kafka');
    store = await createPostgresEventStore({
      connectionString: database.url,
      migrate: true,
      maxConnections: 24,
    });
    await ensureKafkaTopic({ brokers, topic, partitions: 12 });
    bus = createKafkaEventBus({ brokers, topic, heartbeatIntervalMs: 300 });
  });

  afterAll(async () => {
    await Promise.all(relays.map((relay) => relay.stop()));
    await bus?.close();
    await store?.close();
    await database?.drop();
    const admin = createKafkaClient({ brokers }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('100 streams × 100 events appended concurrently reach Kafka, every stream in version order, none missing', async () => {
    const consumer = await dedupingConsumer(bus, `relay-order-${runId}`);
    const relay = createOutboxRelay({
      store,
      bus,
      leadership: leadership('1001'),
      relayId: 'order',
      gaps: gapResolver(),
    });
    relays.push(relay);
    relay.start();
    const appended = await appendConcurrently(store, {
      prefix: 'order',
      streams: 100,
      events: 100,
      perAppend: 2,
    });
    await eventually(
      'every event applied',
      () => (consumer.state.applied.size === appended ? true : undefined),
      {
        timeoutMs: 60_000,
      },
    );
    expect(consumer.state.gaps).toEqual([]);
    for (let s = 0; s < 100; s++) expect(consumer.dedupe.lastApplied(`session-order-${s}`)).toBe(100);
    expect([...consumer.state.applied.values()].every((count) => count === 1)).toBe(true);
    await eventually('the relay to report no lag', () =>
      relay.status().lagEvents === 0 && relay.status().checkpoint === appended ? true : undefined,
    );
    // The last batch's checkpoint save overlaps the relay's next read: it is stored soon after.
    expect(
      await eventually('the checkpoint to be stored', async () => {
        const stored = await store.loadCheckpoint('order');
        return stored === appended ? stored : undefined;
      }),
    ).toBe(appended);
    await consumer.subscription.stop();
  }, 90_000);

  it('one relay is active at a time; a standby takes over within seconds when the holder’s session dies', async () => {
    const lockKey = '1002';
    const first = createOutboxRelay({
      store,
      bus,
      leadership: leadership(lockKey, 'relay-failover-first'),
      gaps: gapResolver(),
      relayId: 'failover',
    });
    const second = createOutboxRelay({
      store,
      bus,
      leadership: leadership(lockKey, 'relay-failover-second'),
      gaps: gapResolver(),
      relayId: 'failover',
      standbyPollMs: 200,
    });
    relays.push(first, second);
    first.start();
    await eventually('the first relay to lead', () => (first.status().leader ? true : undefined));
    second.start();
    await appendConcurrently(store, { prefix: 'failover-a', streams: 5, events: 10, perAppend: 5 });
    await eventually('the first relay to publish', () =>
      first.status().publishedEvents >= 50 ? true : undefined,
    );
    expect(second.status()).toMatchObject({ leader: false, publishedEvents: 0 });

    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    // This database's only: a second test run on the same server has a relay of the same name.
    await admin.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
       where application_name = $1 and datname = current_database()`,
      ['relay-failover-first'],
    );
    await admin.end();
    // Generous on a loaded machine: the claim is that the standby takes over, not how fast.
    await eventually('the standby to take over', () => (second.status().leader ? true : undefined), {
      timeoutMs: 30_000,
    });
    await appendConcurrently(store, { prefix: 'failover-b', streams: 5, events: 10, perAppend: 5 });
    await eventually('the new leader to publish', () =>
      second.status().publishedEvents >= 50 ? true : undefined,
    );
    expect(first.status().leader).toBe(false);
  });
});
