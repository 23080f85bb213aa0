export { createKafkaEventBus, type KafkaEventBusOptions } from './kafka-event-bus.ts';
export { ensureKafkaTopic, type EnsureTopicOptions } from './kafka-topics.ts';
export {
  createKafkaClient,
  kafkaLogCreator,
  type KafkaClientOptions,
  type KafkaLogLevel,
} from './kafka-client.ts';
