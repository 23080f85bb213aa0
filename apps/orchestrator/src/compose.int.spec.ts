import { Consumer } from '@platformatic/kafka';
import { Kafka } from 'kafkajs';
import { afterEach, beforeAll, afterAll, describe, expect, inject, it, vi } from 'vitest';
import { createTestDatabase, eventually, type TestDatabase } from '@agentledger/testing';
import { composeDistributed, type DistributedOrchestrator } from './compose.ts';
import { parseOrchestratorConfig } from './orchestrator.config.ts';

// The crash e2e test's premise (takeover by lease, not by a Kafka rebalance) needs the configured
// session timeout to reach the consumer the chosen client creates; this composes a real replica to see it.
describe('the distributed orchestrator composition', () => {
  let database: TestDatabase;
  let composed: DistributedOrchestrator | undefined;
  const kafkajsConsumer = vi.spyOn(Kafka.prototype, 'consumer');
  const platformaticConsume = vi.spyOn(Consumer.prototype, 'consume');

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'orchestrator_compose');
  });
  afterEach(async () => {
    await composed?.runtime.stop();
    await composed?.close();
    composed = undefined;
    kafkajsConsumer.mockClear();
    platformaticConsume.mockClear();
  });
  afterAll(async () => {
    await database?.drop();
    kafkajsConsumer.mockRestore();
    platformaticConsume.mockRestore();
  });

  const compose = async (client: string | undefined) => {
    const run = `${inject('runId')}-${Math.random().toString(36).slice(2, 8)}`;
    const config = parseOrchestratorConfig({
      DATABASE_URL: database.url,
      KAFKA_BROKERS: inject('kafkaBrokers'),
      KAFKA_TOPIC: `compose-${run}`,
      KAFKA_PARTITIONS: '2',
      ORCHESTRATOR_GROUP: `compose-${run}`,
      KAFKA_SESSION_TIMEOUT_MS: '45000',
      KAFKA_CLIENT: client,
    });
    composed = await composeDistributed(config, {});
    await composed.runtime.start();
    return run;
  };

  it('creates its kafkajs consumer (the default) with KAFKA_SESSION_TIMEOUT_MS and heartbeats within it', async () => {
    const run = await compose(undefined);
    const settings = await eventually('the consumer to be created', () => kafkajsConsumer.mock.calls[0]?.[0]);
    expect(settings).toMatchObject({
      groupId: `compose-${run}`,
      sessionTimeout: 45_000,
      heartbeatInterval: 1_000,
    });
    expect(platformaticConsume).not.toHaveBeenCalled();
  });

  it('uses @platformatic/kafka with KAFKA_CLIENT=platformatic, with the same group timing', async () => {
    const run = await compose('platformatic');
    const consumer = await eventually(
      'the consumer to consume',
      () => platformaticConsume.mock.contexts[0] as Consumer | undefined,
    );
    expect(consumer.groupId).toBe(`compose-${run}`);
    expect(platformaticConsume.mock.calls[0]?.[0]).toMatchObject({
      sessionTimeout: 45_000,
      heartbeatInterval: 1_000,
    });
    expect(kafkajsConsumer).not.toHaveBeenCalled();
  });
});
