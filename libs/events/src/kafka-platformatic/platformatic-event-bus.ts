import { Producer, stringSerializers } from '@platformatic/kafka';
import {
  SESSION_EVENTS_TOPIC,
  partitionKeyOf,
  type DeliveryHandler,
  type EventBus,
  type PublishOptions,
  type SubscribeOptions,
  type Subscription,
} from '../bus.ts';
import type { EventEnvelope } from '../envelope.ts';
import { liveSubscriptions, messageHeadersOf } from '../bus/bus-support.ts';
import { chunkBySize } from '../kafka/kafka-event-bus.ts';
import type { KafkaEventBusOptions } from '../kafka/kafka-event-bus.ts';
import {
  baseOptionsOf,
  javaCompatiblePartitioner,
  leveledLogger,
  routeClientLogs,
  type PlatformaticClientOptions,
} from './platformatic-client.ts';
import {
  createPlatformaticSubscription,
  type PlatformaticConsumerSettings,
} from './platformatic-subscription.ts';

export type PlatformaticEventBusOptions = PlatformaticClientOptions &
  Pick<
    KafkaEventBusOptions,
    | 'topic'
    | 'sessionTimeoutMs'
    | 'heartbeatIntervalMs'
    | 'maxWaitTimeMs'
    | 'commitIntervalMs'
    | 'maxRequestBytes'
  >;

type StringProducer = Producer<string, string, string, string>;

const toMessage = (topic: string, envelope: EventEnvelope, options?: PublishOptions) => ({
  topic,
  key: partitionKeyOf(envelope),
  value: JSON.stringify(envelope),
  headers: messageHeadersOf(envelope, options),
});

/**
 * `EventBus` on Kafka with `@platformatic/kafka`, interchangeable with the kafkajs adapter: the
 * same topic, keys, headers and partitions (Java-compatible murmur2). Publishing: idempotent
 * producer, acks from all in-sync replicas, produce requests split by size and sent in order; a
 * failed send drops the producer so the next publish starts a fresh one (new producer id).
 * Subscribing: one consumer per subscription, see `createPlatformaticSubscription`.
 */
export const createPlatformaticEventBus = (options: PlatformaticEventBusOptions): EventBus => {
  const topic = options.topic ?? SESSION_EVENTS_TOPIC;
  const logger = leveledLogger(options.logger, options.logLevel);
  const settings: PlatformaticConsumerSettings = {
    topic,
    logger,
    base: baseOptionsOf(options),
    sessionTimeout: options.sessionTimeoutMs ?? 10_000,
    heartbeatInterval: options.heartbeatIntervalMs ?? 1_000,
    maxWaitTime: options.maxWaitTimeMs ?? 500,
    commitIntervalMs: options.commitIntervalMs ?? 1_000,
  };
  const maxRequestBytes = options.maxRequestBytes ?? 512 * 1024;
  const subscriptions = liveSubscriptions();
  let producer: StringProducer | undefined;
  let closed = false;

  const createProducer = (): StringProducer => {
    const created = new Producer({
      ...baseOptionsOf(options),
      idempotent: true,
      acks: -1,
      partitioner: javaCompatiblePartitioner,
      serializers: stringSerializers,
    });
    routeClientLogs(created, logger);
    return created;
  };

  const dropProducer = async (): Promise<void> => {
    const current = producer;
    producer = undefined;
    await current?.close().catch(() => undefined);
  };

  const publish = async (envelopes: readonly EventEnvelope[], options?: PublishOptions): Promise<void> => {
    if (closed) throw new Error('the Kafka bus is closed');
    if (envelopes.length === 0) return;
    producer ??= createProducer();
    const current = producer;
    try {
      const messages = envelopes.map((envelope) => toMessage(topic, envelope, options));
      for (const chunk of chunkBySize(messages, maxRequestBytes)) {
        await current.send({ messages: chunk, acks: -1 });
      }
    } catch (error) {
      logger.warn('publish failed; the producer will be recreated', { topic, error: String(error) });
      if (producer === current) await dropProducer();
      throw error;
    }
  };

  const subscribe = async (
    groupId: string,
    handler: DeliveryHandler,
    subscribeOptions: SubscribeOptions = {},
  ): Promise<Subscription> => {
    if (closed) throw new Error('the Kafka bus is closed');
    return subscriptions.track(
      await createPlatformaticSubscription(settings, groupId, handler, subscribeOptions),
    );
  };

  return {
    publish,
    subscribe,
    close: async () => {
      closed = true;
      await subscriptions.stopAll();
      await dropProducer();
    },
  };
};
