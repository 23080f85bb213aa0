import { afterAll, inject } from 'vitest';
import { eventBusContract } from '../bus/contract/event-bus.contract.ts';
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
  const bus = createKafkaEventBus({ brokers, topic, heartbeatIntervalMs: 300, sessionTimeoutMs: 6_000 });
  return { bus, partitions, groupId: (label) => `bus-contract-${label}-${runId}-${count}`, close: bus.close };
});
