import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, eventually, type TestDatabase } from '@agentledger/testing';
import { createKafkaEventBus } from '../kafka/kafka-event-bus.ts';
import { ensureKafkaTopic } from '../kafka/kafka-topics.ts';
import { createPostgresEventStore, type PostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { EventBus } from '../bus.ts';
import { createOutboxRelay, type OutboxRelay } from './outbox-relay.ts';
import { createPostgresGapResolver } from './position-gaps.ts';
import { dedupingConsumer } from './testing/relay-test-support.ts';

const run = promisify(execFile);
const runId = inject('runId');
const script = fileURLToPath(new URL('../../../../scripts/kafka.sh', import.meta.url));

/** A port nothing listens on now (the OS picks it), so concurrent runs never share a broker. */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });

// A second, private broker: stopping it disturbs no other spec using the shared one.
const port = await freePort();
const controllerPort = await freePort();
const brokers = [`127.0.0.1:${port}`];
const kafkaDir = join(tmpdir(), `agentledger-kafka-outage-${runId}`);
const env = {
  ...process.env,
  KAFKA_DIR: kafkaDir,
  KAFKA_PORT: String(port),
  KAFKA_CONTROLLER_PORT: String(controllerPort),
};
const broker = async (command: 'up' | 'down'): Promise<void> => {
  await run('bash', [script, command], { env, timeout: 90_000 });
};

describe('outbox relay across a Kafka broker outage', () => {
  const topic = `relay-outage.${runId}`;
  let database: TestDatabase;
  let store: PostgresEventStore;
  let bus: EventBus;
  let relay: OutboxRelay | undefined;
  let restarted: Promise<void> | undefined;

  beforeAll(async () => {
    const [created] = await Promise.all([
      createTestDatabase(inject('databaseUrl'), 'relay_outage'),
      broker('up'),
    ]);
    database = created;
    store = await createPostgresEventStore({
      connectionString: database.url,
      migrate: true,
      maxConnections: 6,
    });
    await ensureKafkaTopic({ brokers, topic, partitions: 6 });
    bus = createKafkaEventBus({ brokers, topic, heartbeatIntervalMs: 300 });
  }, 120_000);

  afterAll(async () => {
    await relay?.stop();
    await bus?.close();
    await store?.close();
    await database?.drop();
    await restarted?.catch(() => undefined);
    await broker('down').catch(() => undefined);
    await rm(kafkaDir, { recursive: true, force: true });
  }, 60_000);

  it('loses nothing while the broker is down for 10 s, and catches up by itself', async () => {
    const consumer = await dedupingConsumer(bus, `relay-outage-${runId}`);
    relay = createOutboxRelay({
      store,
      bus,
      relayId: 'outage',
      gaps: createPostgresGapResolver((text, values) => store.pool.query(text, values)),
    });
    relay.start();
    let appending = true;
    let appended = 0;
    const appender = (async () => {
      const versions = new Map<number, number>();
      while (appending) {
        const s = appended % 10;
        const version = versions.get(s) ?? 0;
        await store.append(`session-outage-${s}`, [{ type: 'UserMessageReceived', data: { appended } }], {
          tenantId: 'tenant-a',
          expectedVersion: version,
        });
        versions.set(s, version + 1);
        appended++;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();

    await eventually('events flowing', () => (consumer.state.applied.size >= 50 ? true : undefined));
    await broker('down');
    const downAt = appended;
    await new Promise((resolve) => setTimeout(resolve, 10_000)); // the outage itself
    expect(appended).toBeGreaterThan(downAt + 100);
    expect(relay.status().lagEvents).toBeGreaterThan(0);
    // Not awaited: the script's readiness probe is slow; the relay and consumer must find the
    // broker by themselves anyway. afterAll waits for it.
    restarted = broker('up');
    const upAt = appended;
    await eventually('appends after the restart', () => (appended > upAt + 50 ? true : undefined));
    appending = false;
    await appender;

    await eventually(
      'every event applied',
      () => (consumer.state.applied.size === appended ? true : undefined),
      {
        timeoutMs: 45_000,
      },
    );
    expect(consumer.state.gaps).toEqual([]);
    expect([...consumer.state.applied.values()].every((count) => count === 1)).toBe(true);
    await eventually('the relay caught up', () => (relay!.status().lagEvents === 0 ? true : undefined));
    expect(relay.status().failures).toBe(0);
    await consumer.subscription.stop();
  }, 150_000);
});
