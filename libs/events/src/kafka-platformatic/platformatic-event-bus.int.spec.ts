import { Admin } from '@platformatic/kafka';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '@agentledger/testing';
import type { Delivery } from '../bus.ts';
import { eventBusContract, testEnvelope } from '../bus/contract/event-bus.contract.ts';
import { partitionForKey } from '../bus/murmur2.ts';
import { createKafkaEventBus } from '../kafka/kafka-event-bus.ts';
import { offsetCommitContract } from '../kafka/offset-commit.contract.ts';
import { createPlatformaticEventBus } from './platformatic-event-bus.ts';
import { ensurePlatformaticTopic } from './platformatic-topics.ts';

const brokers = inject('kafkaBrokers').split(',');
const runId = inject('runId');
const topics: string[] = [];
let count = 0;

afterAll(async () => {
  const admin = new Admin({ clientId: 'cleanup', bootstrapBrokers: brokers });
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.close();
});

eventBusContract('kafka (@platformatic/kafka)', async () => {
  const partitions = 6;
  const topic = `bus-contract-pk.${runId}.${++count}`;
  topics.push(topic);
  await ensurePlatformaticTopic({ brokers, topic, partitions });
  const bus = createPlatformaticEventBus({
    brokers,
    topic,
    heartbeatIntervalMs: 300,
    // Well above a loaded machine's stalls (see the kafkajs contract run for why).
    sessionTimeoutMs: 30_000,
  });
  return {
    bus,
    partitions,
    groupId: (label) => `bus-contract-pk-${label}-${runId}-${count}`,
    close: bus.close,
    // The same group protocol as kafkajs: a starved member learns of a hand-over late.
    handoverOverlaps: true,
  };
});

offsetCommitContract('platformatic', {
  brokers,
  topics,
  runId,
  bus: (topic, commitIntervalMs) => createPlatformaticEventBus({ brokers, topic, commitIntervalMs }),
});

describe('@platformatic/kafka bus beside kafkajs', () => {
  it('puts every key on the same partition as kafkajs and the in-process bus', async () => {
    const topic = `bus-same-partition.${runId}`;
    topics.push(topic);
    const partitions = 7;
    await ensurePlatformaticTopic({ brokers, topic, partitions });
    const platformatic = createPlatformaticEventBus({ brokers, topic });
    const kafkajs = createKafkaEventBus({ brokers, topic, logLevel: 'nothing' });
    try {
      const streams = Array.from({ length: 60 }, (_, i) => `session-key-${i}`);
      await platformatic.publish(streams.map((stream) => testEnvelope(stream, 1)));
      await kafkajs.publish(streams.map((stream) => testEnvelope(stream, 2)));
      const deliveries: Delivery[] = [];
      await kafkajs.subscribe(`bus-same-partition-${runId}`, async (d) => void deliveries.push(d), {
        fromBeginning: true,
      });
      await eventually('both copies of every key', () => (deliveries.length === 120 ? true : undefined));
      const partitionOf = (version: number) =>
        new Map(
          deliveries.filter((d) => d.envelope.version === version).map((d) => [d.key, d.partition] as const),
        );
      const byPlatformatic = partitionOf(1);
      const byKafkajs = partitionOf(2);
      expect(new Set(byPlatformatic.values()).size).toBe(partitions);
      for (const [key, partition] of byKafkajs) {
        expect(byPlatformatic.get(key)).toBe(partition);
        expect(partition).toBe(partitionForKey(key, partitions));
      }
    } finally {
      await Promise.all([platformatic.close(), kafkajs.close()]);
    }
  });

  it('ensures the topic once and leaves an existing one as it is', async () => {
    const topic = `ensure-pk.${runId}`;
    topics.push(topic);
    expect(await ensurePlatformaticTopic({ brokers, topic, partitions: 3 })).toEqual({
      topic,
      created: true,
      partitions: 3,
    });
    expect(await ensurePlatformaticTopic({ brokers, topic, partitions: 5 })).toEqual({
      topic,
      created: false,
      partitions: 3,
    });
  });
});
