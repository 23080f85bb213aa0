import { afterAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '@agentledger/testing';
import { eventBusContract, testEnvelope } from '../bus/contract/event-bus.contract.ts';
import { createKafkaClient } from './kafka-client.ts';
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

describe('Kafka bus: offset commits', () => {
  const committedOf = async (groupId: string, topic: string): Promise<string | undefined> => {
    const admin = createKafkaClient({ brokers, logLevel: 'nothing' }).admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return offsets?.partitions.find((p) => p.partition === 0)?.offset;
    } finally {
      await admin.disconnect();
    }
  };
  const oneTopic = async (label: string): Promise<string> => {
    const topic = `bus-commits-${label}.${runId}`;
    topics.push(topic);
    await ensureKafkaTopic({ brokers, topic, partitions: 1, logLevel: 'nothing' });
    return topic;
  };

  it('commits what was handled once within commitIntervalMs, not after each batch, while it runs', async () => {
    const topic = await oneTopic('interval');
    const bus = createKafkaEventBus({ brokers, topic, commitIntervalMs: 4_000 });
    const groupId = `bus-commits-interval-${runId}`;
    try {
      const handled: number[] = [];
      let firstHandledAt = 0;
      await bus.subscribe(
        groupId,
        async ({ envelope }) => {
          firstHandledAt ||= Date.now();
          handled.push(envelope.version);
        },
        { fromBeginning: true },
      );
      // Three publishes, three batches: before, each was committed as it ended.
      for (const version of [1, 2, 3]) {
        await bus.publish([testEnvelope('session-commits', version)]);
        await eventually(`version ${version} handled`, () => (handled.length === version ? true : undefined));
      }
      // Nothing committed until the interval after the first has passed (a loaded machine may take
      // that long to get here; then only the commit below is checked).
      const early = await committedOf(groupId, topic);
      const beforeInterval = Date.now() - firstHandledAt < 3_500;
      expect(beforeInterval ? early : '-1').toBe('-1');
      await eventually(
        'the commit of all three',
        async () => ((await committedOf(groupId, topic)) === '3' ? true : undefined),
        { intervalMs: 200 },
      );
      expect(handled).toEqual([1, 2, 3]);
    } finally {
      await bus.close();
    }
  });

  it('commits what was handled at stop, however long its interval', async () => {
    const topic = await oneTopic('stop');
    const bus = createKafkaEventBus({ brokers, topic, commitIntervalMs: 600_000 });
    const groupId = `bus-commits-stop-${runId}`;
    try {
      await bus.publish([1, 2, 3].map((version) => testEnvelope('session-commits-stop', version)));
      const handled: number[] = [];
      const subscription = await bus.subscribe(
        groupId,
        async ({ envelope }) => void handled.push(envelope.version),
        { fromBeginning: true },
      );
      await eventually('three handled', () => (handled.length === 3 ? true : undefined));
      await subscription.stop();
      expect(await committedOf(groupId, topic)).toBe('3');
    } finally {
      await bus.close();
    }
  });
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
