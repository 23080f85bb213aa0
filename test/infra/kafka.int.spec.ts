import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type Consumer } from 'kafkajs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '@agentledger/testing';

// Smoke test of the real broker with the client the product uses: an idempotent producer and two
// consumers in one group sharing a 3-partition topic.
describe('Kafka broker', () => {
  const runId = inject('runId');
  const topic = `smoke.${runId}`;
  const groupId = `smoke-${runId}`;
  const kafka = new Kafka({
    clientId: 'smoke',
    brokers: inject('kafkaBrokers').split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  const consumers: Consumer[] = [];

  afterAll(async () => {
    await Promise.all(consumers.map((consumer) => consumer.disconnect()));
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('delivers every message once across two consumers of one group', async () => {
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true })).toBe(
      true,
    );

    const received = new Map<string, number>();
    const partitionsByMember = new Map<number, Set<number>>();
    for (const member of [0, 1]) {
      const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500 });
      consumers.push(consumer);
      partitionsByMember.set(member, new Set());
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          partitionsByMember.get(member)!.add(partition);
          const id = message.value!.toString();
          received.set(id, (received.get(id) ?? 0) + 1);
        },
      });
    }
    // Both members must hold partitions before producing, so each one provably consumes.
    await eventually('both consumers to be assigned', async () => {
      const description = await admin.describeGroups([groupId]);
      const members = description.groups[0]?.members ?? [];
      return members.length === 2 && description.groups[0]?.state === 'Stable' ? true : undefined;
    });

    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const ids = Array.from({ length: 300 }, () => randomUUID());
    await producer.send({
      topic,
      acks: -1,
      messages: ids.map((id, i) => ({ key: `k${i % 30}`, value: id })),
    });
    await producer.disconnect();

    await eventually('all messages to arrive', () => (received.size === ids.length ? true : undefined));
    expect([...received.values()].every((count) => count === 1)).toBe(true);
    expect(new Set(received.keys())).toEqual(new Set(ids));
    expect(partitionsByMember.get(0)!.size).toBeGreaterThan(0);
    expect(partitionsByMember.get(1)!.size).toBeGreaterThan(0);
  });
});
