import { afterAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '@agentledger/testing';
import { eventBusContract, testEnvelope } from '../bus/contract/event-bus.contract.ts';
import { createKafkaClient } from './kafka-client.ts';
import { offsetCommitContract } from './offset-commit.contract.ts';
import { createKafkaEventBus } from './kafka-event-bus.ts';
import { ensureKafkaTopic } from './kafka-topics.ts';

const brokers = inject('kafkaBrokers').split(',');
const runId = inject('runId');
const topics: string[] = [];
let count = 0;

afterAll(async () => {
  const admin = createKafkaClient({ brokers, logLevel: 'nothing' }).admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
});

eventBusContract('kafka', async () => {
  const partitions = 6;
  const topic = `bus-contract.${runId}.${++count}`;
  topics.push(topic);
  await ensureKafkaTopic({ brokers, topic, partitions, logLevel: 'nothing' });
  // A session timeout well above a loaded machine's stalls: a member dropped for missed heartbeats learns of it
  // only at its next heartbeat, after another member was given its partitions (see kafka-subscription.ts).
  // Joins and leaves do not wait for it: a leaving member leaves the group, a joining one triggers a rebalance.
  const bus = createKafkaEventBus({ brokers, topic, heartbeatIntervalMs: 300, sessionTimeoutMs: 30_000 });
  return {
    bus,
    partitions,
    groupId: (label) => `bus-contract-${label}-${runId}-${count}`,
    close: bus.close,
    // Seen in a loaded CI run (two clean clones at once): four partitions handed to a member before
    // their starved owner had seen the rebalance.
    handoverOverlaps: true,
  };
});

describe('Kafka bus: large batches', () => {
  it('splits a publish larger than the broker’s request limit into ordered produce requests', async () => {
    const topic = `bus-large.${runId}`;
    topics.push(topic);
    await ensureKafkaTopic({ brokers, topic, partitions: 2, logLevel: 'nothing' });
    const bus = createKafkaEventBus({ brokers, topic });
    try {
      const big = 'x'.repeat(100_000);
      const envelopes = Array.from({ length: 40 }, (_, i) => ({
        ...testEnvelope('session-large', i + 1),
        data: { content: big },
      }));
      await bus.publish(envelopes); // ~4 MB: one request would exceed message.max.bytes (1 MiB)
      const versions: number[] = [];
      await bus.subscribe(
        `bus-large-${runId}`,
        async ({ envelope }) => void versions.push(envelope.version),
        {
          fromBeginning: true,
        },
      );
      await eventually('all large events', () => (versions.length === 40 ? true : undefined));
      expect(versions).toEqual(envelopes.map((envelope) => envelope.version));
    } finally {
      await bus.close();
    }
  });
});

offsetCommitContract('kafkajs', {
  brokers,
  topics,
  runId,
  bus: (topic, commitIntervalMs) => createKafkaEventBus({ brokers, topic, commitIntervalMs }),
});

describe('ensureKafkaTopic', () => {
  it('creates the topic once, leaves an existing one as it is, and logs no error for it', async () => {
    const topic = `ensure.${runId}`;
    topics.push(topic);
    const errors: string[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (m: string) => errors.push(m),
    };
    expect(await ensureKafkaTopic({ brokers, topic, partitions: 3, logger })).toEqual({
      topic,
      created: true,
      partitions: 3,
    });
    expect(await ensureKafkaTopic({ brokers, topic, partitions: 3, logger })).toEqual({
      topic,
      created: false,
      partitions: 3,
    });
    expect(errors).toEqual([]);
  });
});
