export { createKafkaEventBus, type KafkaEventBusOptions } from './kafka-event-bus.ts';
export { ensureKafkaDeltasTopic, ensureKafkaTopic, type EnsureTopicOptions } from './kafka-topics.ts';
export { createKafkaDeltaChannel, type KafkaDeltaChannelOptions } from './kafka-delta-channel.ts';
export {
  createKafkaClient,
  kafkaLogCreator,
  type KafkaClientOptions,
  type KafkaLogLevel,
} from './kafka-client.ts';
