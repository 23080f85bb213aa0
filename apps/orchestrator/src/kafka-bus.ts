import type { DeltaChannel } from '@agentledger/events';
import type { EventBus, Logger } from '@agentledger/events/bus';
import {
  createKafkaDeltaChannel,
  createKafkaEventBus,
  ensureKafkaDeltasTopic,
  ensureKafkaTopic,
} from '@agentledger/events/kafka';
import { createPlatformaticEventBus, ensurePlatformaticTopic } from '@agentledger/events/kafka-platformatic';
import { kafkaConsumerTimingOf, type OrchestratorConfig } from './orchestrator.config.ts';

type KafkaBusConfig = Pick<
  OrchestratorConfig,
  | 'KAFKA_CLIENT'
  | 'KAFKA_BROKERS'
  | 'KAFKA_TOPIC'
  | 'KAFKA_PARTITIONS'
  | 'KAFKA_SESSION_TIMEOUT_MS'
  | 'REPLICA_ID'
>;

/**
 * The Kafka bus on the client `KAFKA_CLIENT` names, its topic ensured first by that client's admin
 * step. Both clients share topic, keys, headers and partitioning, so replicas on different
 * clients can be mixed during a switch.
 */
export const openKafkaBus = async (config: KafkaBusConfig, logger: Logger): Promise<EventBus> => {
  const brokers = config.KAFKA_BROKERS.split(',').map((b) => b.trim());
  const topic = { brokers, topic: config.KAFKA_TOPIC, partitions: config.KAFKA_PARTITIONS, logger };
  const options = {
    brokers,
    topic: config.KAFKA_TOPIC,
    logger,
    clientId: config.REPLICA_ID,
    ...kafkaConsumerTimingOf(config),
  };
  if (config.KAFKA_CLIENT === 'platformatic') {
    await ensurePlatformaticTopic(topic);
    return createPlatformaticEventBus(options);
  }
  await ensureKafkaTopic(topic);
  return createKafkaEventBus(options);
};

/**
 * The deltas channel (always on kafkajs, whichever client the bus uses: deltas need no
 * consumer-group semantics), its topic ensured with the events topic's partition count.
 */
export const openKafkaDeltas = async (
  config: Pick<
    OrchestratorConfig,
    'KAFKA_BROKERS' | 'KAFKA_DELTAS_TOPIC' | 'KAFKA_PARTITIONS' | 'REPLICA_ID'
  >,
  logger: Logger,
): Promise<DeltaChannel> => {
  const brokers = config.KAFKA_BROKERS.split(',').map((b) => b.trim());
  await ensureKafkaDeltasTopic({
    brokers,
    topic: config.KAFKA_DELTAS_TOPIC,
    partitions: config.KAFKA_PARTITIONS,
    logger,
  });
  return createKafkaDeltaChannel({
    brokers,
    topic: config.KAFKA_DELTAS_TOPIC,
    logger,
    clientId: `${config.REPLICA_ID}-deltas`,
  });
};
