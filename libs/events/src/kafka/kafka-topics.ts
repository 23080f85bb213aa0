import { DEFAULT_PARTITIONS, SESSION_EVENTS_TOPIC } from '../bus.ts';
import { delay } from '../bus/bus-support.ts';
import { SESSION_DELTAS_RETENTION_MS, SESSION_DELTAS_TOPIC } from '../deltas/session-delta.ts';
import { createKafkaClient, type KafkaClientOptions } from './kafka-client.ts';

export type EnsureTopicOptions = KafkaClientOptions &
  Readonly<{
    topic?: string;
    /** Default 12. */
    partitions?: number;
    /** Default 1 (single broker); use 3 in production. */
    replicationFactor?: number;
    /** Topic settings applied when the topic is created (e.g. `retention.ms`). */
    configEntries?: Readonly<Record<string, string>>;
  }>;

/** The broker does not host the topic (yet): on a loaded broker a topic just created can be unknown to its metadata for a moment. */
const unknownTopic = (error: unknown): boolean =>
  (error as { type?: unknown }).type === 'UNKNOWN_TOPIC_OR_PARTITION';

/** Runs `ask` again (every 200 ms, `attempts` times at most) while the broker does not know the topic. */
const untilKnown = async <T>(ask: () => Promise<T>, attempts = 50): Promise<T> => {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await ask();
    } catch (error) {
      if (!unknownTopic(error) || attempt >= attempts) throw error;
      await delay(200);
    }
  }
};

/**
 * The admin step that creates the session-events topic (brokers run with
 * auto.create.topics.enable=false). Idempotent. An existing topic is left as it is: adding
 * partitions would move keys to other partitions and break per-session order.
 */
export const ensureKafkaTopic = async (
  options: EnsureTopicOptions,
): Promise<Readonly<{ topic: string; created: boolean; partitions: number }>> => {
  const topic = options.topic ?? SESSION_EVENTS_TOPIC;
  const numPartitions = options.partitions ?? DEFAULT_PARTITIONS;
  const admin = createKafkaClient({ ...options, clientId: options.clientId ?? 'agentledger-admin' }).admin();
  await admin.connect();
  try {
    // Listing first: creating an existing topic makes kafkajs log an error on every start.
    const exists = (await admin.listTopics()).includes(topic);
    const created =
      !exists &&
      // kafkajs' wait for leaders retries a missing leader, not an unknown topic: the create itself
      // succeeded, and the metadata read below waits until the broker knows the topic.
      (await admin
        .createTopics({
          waitForLeaders: true,
          topics: [
            {
              topic,
              numPartitions,
              replicationFactor: options.replicationFactor ?? 1,
              configEntries: Object.entries(options.configEntries ?? {}).map(([name, value]) => ({
                name,
                value,
              })),
            },
          ],
        })
        .catch((error: unknown) => (unknownTopic(error) ? true : Promise.reject(error))));
    const metadata = await untilKnown(() => admin.fetchTopicMetadata({ topics: [topic] }));
    const partitions = metadata.topics[0]?.partitions.length ?? 0;
    if (partitions !== numPartitions) {
      options.logger?.warn('topic exists with a different partition count; left unchanged', {
        topic,
        partitions,
        requested: numPartitions,
      });
    }
    return { topic, created, partitions };
  } finally {
    await admin.disconnect();
  }
};

/**
 * The deltas topic beside the events topic: same partition count, deleted after a minute (a
 * delta is worth nothing later; nothing replays it).
 */
export const ensureKafkaDeltasTopic = (
  options: EnsureTopicOptions,
): Promise<Readonly<{ topic: string; created: boolean; partitions: number }>> =>
  ensureKafkaTopic({
    ...options,
    topic: options.topic ?? SESSION_DELTAS_TOPIC,
    configEntries: {
      'retention.ms': String(SESSION_DELTAS_RETENTION_MS),
      'cleanup.policy': 'delete',
      ...options.configEntries,
    },
  });
