import { Partitioners, type IHeaders, type Kafka, type Producer } from 'kafkajs';
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
import { liveSubscriptions, messageHeadersOf, quietLogger } from '../bus/bus-support.ts';
import { createKafkaClient, type KafkaClientOptions } from './kafka-client.ts';
import { createKafkaSubscription, type ConsumerSettings } from './kafka-subscription.ts';

export type KafkaEventBusOptions = KafkaClientOptions &
  Readonly<{
    /** Default `agentledger.session-events`; create it first with `ensureKafkaTopic`. */
    topic?: string;
    /** Consumer session timeout: a member silent this long is removed from its group. Default 10 s. */
    sessionTimeoutMs?: number;
    /** Default 1 s; rebalances are noticed within about this long. */
    heartbeatIntervalMs?: number;
    /** Longest idle fetch wait; also bounds how long `stop` waits for an idle consumer. Default 500 ms. */
    maxWaitTimeMs?: number;
    /**
     * A handled offset is committed within this long, one commit for every partition handled
     * meanwhile (and at a subscription's stop). A crash or a rebalance redelivers what was handled
     * since the last commit. Default 1 s.
     */
    commitIntervalMs?: number;
    /**
     * A publish is split into produce requests of about this many bytes, sent in order, so a
     * batch of large events never exceeds the broker's message.max.bytes (1 MiB by default).
     * Default 512 KiB. A single event larger than the broker's limit cannot be published.
     */
    maxRequestBytes?: number;
  }>;

type OutgoingMessage = Readonly<{ key: string; value: string; headers: IHeaders }>;

const toMessage = (envelope: EventEnvelope, options?: PublishOptions): OutgoingMessage => ({
  key: partitionKeyOf(envelope),
  value: JSON.stringify(envelope),
  headers: messageHeadersOf(envelope, options),
});

/** Consecutive runs of messages whose values add up to at most `maxBytes` (one message may exceed it). */
export const chunkBySize = <M extends Readonly<{ key: string; value: string }>>(
  messages: readonly M[],
  maxBytes: number,
): M[][] => {
  const chunks: M[][] = [];
  let current: M[] = [];
  let size = 0;
  for (const message of messages) {
    const bytes = Buffer.byteLength(message.value) + message.key.length + 64;
    if (current.length > 0 && size + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(message);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
};

/**
 * `EventBus` on Kafka (kafkajs). Publishing: idempotent producer, acks from all in-sync replicas,
 * one request in flight, Java-compatible murmur2 partitioning by session id; a failed send drops
 * the producer so the next publish starts a fresh one (new producer id, clean sequence numbers).
 * Subscribing: one consumer per subscription, see `createKafkaSubscription`.
 */
export const createKafkaEventBus = (options: KafkaEventBusOptions): EventBus => {
  const topic = options.topic ?? SESSION_EVENTS_TOPIC;
  const logger = options.logger ?? quietLogger;
  const kafka: Kafka = createKafkaClient(options);
  const settings: ConsumerSettings = {
    topic,
    logger,
    sessionTimeout: options.sessionTimeoutMs ?? 10_000,
    heartbeatInterval: options.heartbeatIntervalMs ?? 1_000,
    maxWaitTimeInMs: options.maxWaitTimeMs ?? 500,
    commitIntervalMs: options.commitIntervalMs ?? 1_000,
  };
  const maxRequestBytes = options.maxRequestBytes ?? 512 * 1024;
  const subscriptions = liveSubscriptions();
  let producer: Promise<Producer> | undefined;
  let closed = false;

  const connectProducer = async (): Promise<Producer> => {
    const created = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await created.connect();
    return created;
  };

  const dropProducer = async (): Promise<void> => {
    const current = producer;
    producer = undefined;
    await current?.then((p) => p.disconnect()).catch(() => undefined);
  };

  const publish = async (envelopes: readonly EventEnvelope[], options?: PublishOptions): Promise<void> => {
    if (closed) throw new Error('the Kafka bus is closed');
    if (envelopes.length === 0) return;
    producer ??= connectProducer();
    try {
      const connected = await producer;
      // One send per chunk, in order: a produce request stays under the broker's size limits.
      for (const messages of chunkBySize(
        envelopes.map((envelope) => toMessage(envelope, options)),
        maxRequestBytes,
      )) {
        await connected.send({ topic, acks: -1, messages });
      }
    } catch (error) {
      logger.warn('publish failed; the producer will be recreated', { topic, error: String(error) });
      await dropProducer();
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
      await createKafkaSubscription(kafka, settings, groupId, handler, subscribeOptions),
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
