import { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createTestDatabase, eventually, type TestDatabase } from '@agentledger/testing';
import { composeDistributed, type DistributedOrchestrator } from './compose.ts';
import { parseOrchestratorConfig } from './orchestrator.config.ts';

// The crash e2e test's premise (takeover by lease, not by a Kafka rebalance) needs the configured
// session timeout to reach the consumer kafkajs creates; this composes a real replica to see it.
describe('the distributed orchestrator composition', () => {
  let database: TestDatabase;
  let composed: DistributedOrchestrator | undefined;
  const consumer = vi.spyOn(Kafka.prototype, 'consumer');

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'orchestrator_compose');
  });
  afterAll(async () => {
    await composed?.orchestrator.stop();
    await composed?.close();
    await database?.drop();
    consumer.mockRestore();
  });

  it('creates its Kafka consumer with KAFKA_SESSION_TIMEOUT_MS and heartbeats within it', async () => {
    const run = `${inject('runId')}-${Math.random().toString(36).slice(2, 8)}`;
    const config = parseOrchestratorConfig({
      DATABASE_URL: database.url,
      KAFKA_BROKERS: inject('kafkaBrokers'),
      KAFKA_TOPIC: `compose-${run}`,
      KAFKA_PARTITIONS: '2',
      ORCHESTRATOR_GROUP: `compose-${run}`,
      KAFKA_SESSION_TIMEOUT_MS: '45000',
    });
    composed = await composeDistributed(config, {});
    await composed.orchestrator.start();
    const settings = await eventually('the consumer to be created', () => consumer.mock.calls[0]?.[0]);
    expect(settings).toMatchObject({
      groupId: `compose-${run}`,
      sessionTimeout: 45_000,
      heartbeatInterval: 1_000,
    });
  });
});
