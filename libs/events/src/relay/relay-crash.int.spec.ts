import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, eventually, type TestDatabase } from '@agentledger/testing';
import { createKafkaClient } from '../kafka/kafka-client.ts';
import { createKafkaEventBus } from '../kafka/kafka-event-bus.ts';
import { ensureKafkaTopic } from '../kafka/kafka-topics.ts';
import { createPostgresEventStore, type PostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { EventBus } from '../bus.ts';
import { appendConcurrently, dedupingConsumer } from './testing/relay-test-support.ts';

const brokers = inject('kafkaBrokers').split(',');
const runId = inject('runId');
const runner = fileURLToPath(new URL('./testing/relay-process.ts', import.meta.url));

type Line = Readonly<{ event: string; pid: number; first?: number; last?: number }>;

/** A relay process and the JSON lines it printed. */
const startRelay = (config: object) => {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=@agentledger/source', runner, JSON.stringify(config)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: Line[] = [];
  const errors: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('{')) lines.push(JSON.parse(line) as Line);
  });
  child.stderr!.on('data', (chunk: Buffer) => errors.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, errors, exited };
};

describe('outbox relay killed with SIGKILL in the middle of a batch', () => {
  const topic = `relay-crash.${runId}`;
  let database: TestDatabase;
  let store: PostgresEventStore;
  let bus: EventBus;
  const children: ReturnType<typeof startRelay>[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'relay_crash');
    store = await createPostgresEventStore({
      connectionString: database.url,
      migrate: true,
      maxConnections: 10,
    });
    await ensureKafkaTopic({ brokers, topic, partitions: 6 });
    bus = createKafkaEventBus({ brokers, topic, heartbeatIntervalMs: 300 });
  });

  afterAll(async () => {
    for (const { child, exited } of children) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    }
    await bus?.close();
    await store?.close();
    await database?.drop();
    const admin = createKafkaClient({ brokers }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('delivers every event at least once, and after dedupe each consumer applied each event exactly once', async () => {
    const consumers = [
      await dedupingConsumer(bus, `relay-crash-a-${runId}`),
      await dedupingConsumer(bus, `relay-crash-b-${runId}`),
    ];
    const before = await appendConcurrently(store, {
      prefix: 'crash-1',
      streams: 20,
      events: 50,
      perAppend: 5,
    });
    const config = {
      databaseUrl: database.url,
      brokers,
      topic,
      lockKey: '2001',
      batchSize: 100,
    };

    const first = startRelay({ ...config, stallAtBatch: 4 });
    children.push(first);
    // The fourth batch is acknowledged by the broker and its checkpoint not yet saved.
    await eventually('a batch published and not checkpointed', () =>
      first.lines.filter((line) => line.event === 'published').length >= 4 ? true : undefined,
    );
    const standby = startRelay(config);
    children.push(standby);
    await eventually('the standby to start', () =>
      standby.lines.some((l) => l.event === 'started') ? true : undefined,
    );
    first.child.kill('SIGKILL');
    await first.exited;
    const killedBatch = first.lines.filter((line) => line.event === 'published').at(-1)!;
    const checkpointAtKill = (await store.loadCheckpoint('outbox-relay')) ?? 0;
    expect(checkpointAtKill).toBe(killedBatch.first! - 1);

    const after = await appendConcurrently(store, {
      prefix: 'crash-2',
      streams: 10,
      events: 50,
      perAppend: 10,
    });
    const total = before + after;
    await eventually(
      'the standby to take over and publish everything',
      async () => ((await store.loadCheckpoint('outbox-relay')) === total ? true : undefined),
      { timeoutMs: 45_000 },
    );
    const republished = standby.lines.find((line) => line.event === 'published')!;
    expect(republished.first).toBe(checkpointAtKill + 1);

    for (const consumer of consumers) {
      await eventually('every event applied', () =>
        consumer.state.applied.size === total ? true : undefined,
      );
      expect(consumer.state.gaps).toEqual([]);
      expect([...consumer.state.applied.values()].every((count) => count === 1)).toBe(true);
      // The killed batch reached the broker and was published again: delivered twice, applied once.
      expect(consumer.state.duplicates).toBeGreaterThanOrEqual(killedBatch.last! - checkpointAtKill);
      expect(consumer.state.deliveries).toBe(total + consumer.state.duplicates);
    }
    await Promise.all(consumers.map((consumer) => consumer.subscription.stop()));
  }, 90_000);
});
