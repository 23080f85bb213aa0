import { randomUUID } from 'node:crypto';
import { Partitioners, type Consumer, type Producer } from 'kafkajs';
import type { Logger } from '../bus.ts';
import { delay, quietLogger } from '../bus/bus-support.ts';
import {
  SESSION_DELTAS_TOPIC,
  deltaKeyOf,
  parseSessionDelta,
  type DeltaChannel,
  type DeltaHandler,
} from '../deltas/session-delta.ts';
import { createKafkaClient, type KafkaClientOptions } from './kafka-client.ts';

export type KafkaDeltaChannelOptions = KafkaClientOptions &
  Readonly<{
    /** Default `agentledger.session-deltas` (see `ensureKafkaDeltasTopic`). */
    topic?: string;
    /** Prefix of each subscriber's own consumer group (a unique suffix is added). */
    groupPrefix?: string;
  }>;

/**
 * `DeltaChannel` on Kafka (kafkajs). Publishing: keyed by tenant and session (one partition per
 * session, so in order), leader acknowledgement only — a lost delta costs nothing, the recorded
 * event is whole. Each subscriber is a consumer group of its own that commits nothing and starts at
 * the partitions' ends as they were when it subscribed.
 */
export const createKafkaDeltaChannel = (options: KafkaDeltaChannelOptions): DeltaChannel => {
  const topic = options.topic ?? SESSION_DELTAS_TOPIC;
  const logger: Logger = options.logger ?? quietLogger;
  const kafka = createKafkaClient(options);
  const consumers = new Set<Consumer>();
  let producer: Promise<Producer> | undefined;
  let tail: Promise<void> = Promise.resolve();

  const connectedProducer = (): Promise<Producer> => {
    producer ??= (async () => {
      const created = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await created.connect();
      return created;
    })().catch((error: unknown) => {
      producer = undefined; // the next publish connects again
      throw error;
    });
    return producer;
  };

  /** The partitions' ends; retried while a new topic's leaders are still being elected. */
  const partitionEnds = async (): Promise<readonly Readonly<{ partition: number; offset: string }>[]> => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          return await admin.fetchTopicOffsets(topic);
        } catch (error) {
          const retriable = (error as { retriable?: boolean }).retriable === true;
          if (!retriable || attempt >= 20) throw error;
          await delay(250);
        }
      }
    } finally {
      await admin.disconnect();
    }
  };

  const subscribe = async (handler: DeltaHandler) => {
    // "Now" is the partitions' ends before joining; the first join seeks there (nothing committed).
    const ends = await partitionEnds();
    const consumer = kafka.consumer({
      groupId: `${options.groupPrefix ?? 'agentledger-deltas'}-${randomUUID()}`,
      maxWaitTimeInMs: 1_000,
    });
    let seeked = false;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (seeked) return;
      seeked = true;
      for (const { partition, offset } of ends) consumer.seek({ topic, partition, offset });
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    consumers.add(consumer);
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        const delta = message.value ? parseSessionDelta(message.value.toString('utf8')) : undefined;
        if (!delta) return;
        try {
          handler(delta);
        } catch (error) {
          logger.warn('delta handler failed', { error: String(error) });
        }
      },
    });
    return {
      stop: async () => {
        consumers.delete(consumer);
        await consumer.disconnect();
      },
    };
  };

  return {
    publish: (deltas) => {
      if (deltas.length === 0) return tail;
      // Chained: a session's deltas reach the broker in the order they were published.
      tail = tail
        .catch(() => undefined)
        .then(async () => {
          await (
            await connectedProducer()
          ).send({
            topic,
            acks: 1,
            messages: deltas.map((delta) => ({ key: deltaKeyOf(delta), value: JSON.stringify(delta) })),
          });
        });
      return tail;
    },
    subscribe,
    close: async () => {
      await Promise.all([...consumers].map((c) => c.disconnect()));
      consumers.clear();
      await tail.catch(() => undefined);
      if (producer) await (await producer).disconnect();
    },
  };
};
