import { Admin } from '@platformatic/kafka';
import { DEFAULT_PARTITIONS, SESSION_EVENTS_TOPIC } from '../bus.ts';
import type { EnsureTopicOptions } from '../kafka/kafka-topics.ts';
import {
  baseOptionsOf,
  leveledLogger,
  routeClientLogs,
  type PlatformaticClientOptions,
} from './platformatic-client.ts';

export type EnsurePlatformaticTopicOptions = PlatformaticClientOptions &
  Pick<EnsureTopicOptions, 'topic' | 'partitions' | 'replicationFactor'>;

/**
 * The admin step that creates the session-events topic, on `@platformatic/kafka`: idempotent, an
 * existing topic is left as it is (adding partitions would move keys and break per-session order).
 */
export const ensurePlatformaticTopic = async (
  options: EnsurePlatformaticTopicOptions,
): Promise<Readonly<{ topic: string; created: boolean; partitions: number }>> => {
  const topic = options.topic ?? SESSION_EVENTS_TOPIC;
  const numPartitions = options.partitions ?? DEFAULT_PARTITIONS;
  const admin = new Admin(baseOptionsOf(options, options.clientId ?? 'agentledger-admin'));
  routeClientLogs(admin, leveledLogger(options.logger, options.logLevel));
  try {
    const exists = (await admin.listTopics()).includes(topic);
    if (!exists) {
      await admin.createTopics({
        topics: [topic],
        partitions: numPartitions,
        replicas: options.replicationFactor ?? 1,
      });
    }
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    const partitions = metadata.topics.get(topic)?.partitionsCount ?? 0;
    if (partitions !== numPartitions) {
      options.logger?.warn('topic exists with a different partition count; left unchanged', {
        topic,
        partitions,
        requested: numPartitions,
      });
    }
    return { topic, created: !exists, partitions };
  } finally {
    await admin.close();
  }
};
