import { afterAll, describe, expect, inject, it } from 'vitest';
import { deltaChannelContract } from '../deltas/delta-channel.contract.ts';
import { SESSION_DELTAS_RETENTION_MS } from '../deltas/session-delta.ts';
import { createKafkaClient } from './kafka-client.ts';
import { createKafkaDeltaChannel } from './kafka-delta-channel.ts';
import { ensureKafkaDeltasTopic } from './kafka-topics.ts';

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

deltaChannelContract('kafka', async () => {
  const topic = `deltas-contract.${runId}.${++count}`;
  topics.push(topic);
  await ensureKafkaDeltasTopic({ brokers, topic, partitions: 3, logLevel: 'nothing' });
  const channel = createKafkaDeltaChannel({ brokers, topic, logLevel: 'nothing' });
  return { channel, close: channel.close };
});

describe('Kafka deltas topic', () => {
  it('is created with a short retention, so deltas never pile up', async () => {
    const topic = `deltas-retention.${runId}`;
    topics.push(topic);
    await ensureKafkaDeltasTopic({ brokers, topic, partitions: 2, logLevel: 'nothing' });
    const admin = createKafkaClient({ brokers, logLevel: 'nothing' }).admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: topic, configNames: ['retention.ms'] }],
      });
      expect(resources[0]?.configEntries[0]?.configValue).toBe(String(SESSION_DELTAS_RETENTION_MS));
    } finally {
      await admin.disconnect();
    }
  });
});
