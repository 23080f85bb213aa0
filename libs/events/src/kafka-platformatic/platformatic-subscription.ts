import {
  Consumer,
  stringDeserializers,
  type BaseOptions,
  type Message,
  type MessagesStream,
} from '@platformatic/kafka';
import {
  DEFAULT_PARTITIONS,
  type DeliveryHandler,
  type Logger,
  type SubscribeOptions,
  type Subscription,
} from '../bus.ts';
import type { EventEnvelope } from '../envelope.ts';
import { delay, pendingCommits, serialCallbacks } from '../bus/bus-support.ts';
import { routeClientLogs } from './platformatic-client.ts';
import { createPartitionQueues } from './partition-queues.ts';

export type PlatformaticConsumerSettings = Readonly<{
  topic: string;
  logger: Logger;
  base: BaseOptions;
  sessionTimeout: number;
  heartbeatInterval: number;
  maxWaitTime: number;
  /** How long a handled offset may wait for its commit (see `createPlatformaticSubscription`). */
  commitIntervalMs: number;
}>;

type StringMessage = Message<string, string, string, string>;
type StringConsumer = Consumer<string, string, string, string>;
type StringStream = MessagesStream<string, string, string, string>;

const traceOf = (message: StringMessage): { traceparent?: string } => {
  const traceparent = message.headers.get('traceparent');
  return traceparent ? { traceparent } : {};
};

/**
 * One group member on `@platformatic/kafka` (classic protocol, round-robin assignor: eager, like
 * kafkajs, so `onAssigned` always reports the whole assignment).
 *
 * Delivery: the client's message stream feeds one queue per partition; each partition hands one
 * delivery at a time to the handler (at most `concurrency` partitions at once). A handler that
 * throws is retried in place after `retryDelayMs`, holding back the rest of its partition. An
 * offset is committed only after its handler returned: within `commitIntervalMs`, the newest
 * handled offset of each partition (the client coalesces commits, one request in flight), and at
 * `stop` and when a rebalance is learnt; a crash redelivers what was handled since. After a rejoin
 * the stream fetches again from the committed offsets, so deliveries below the next unhandled
 * offset of a still-owned partition are skipped.
 *
 * Assignment: a rebalance (learnt from a heartbeat) revokes everything and drops buffered
 * messages before this member re-joins; the join reports the new assignment. `stop` waits for the
 * in-flight deliveries and their commits, calls `onRevoked`, and only then leaves the group.
 *
 * Broker loss: the client retries; if the stream ends or the consumer gives up, this member
 * builds a new consumer and joins again until stopped.
 */
export const createPlatformaticSubscription = async (
  settings: PlatformaticConsumerSettings,
  groupId: string,
  handler: DeliveryHandler,
  options: SubscribeOptions,
): Promise<Subscription> => {
  const { topic, logger } = settings;
  const retryDelayMs = options.retryDelayMs ?? 500;
  const callbacks = serialCallbacks(options, logger);
  let owned: number[] = [];
  let paused = false;
  let stopped = false;
  let rebalancing = false;
  let consumer: StringConsumer | undefined;
  let stream: StringStream | undefined;
  let joined: () => void = () => undefined;
  const firstJoin = new Promise<void>((resolve) => (joined = resolve));
  const next = new Map<number, bigint>();
  const committing = new Set<Promise<void>>();

  const canDeliver = (partition: number): boolean =>
    !stopped && !paused && !rebalancing && owned.includes(partition);

  const commit = (message: StringMessage): void => {
    const pending = Promise.resolve(message.commit()).catch((error: unknown) =>
      logger.warn('offset commit failed; the offset is committed again later or redelivered', {
        groupId,
        partition: message.partition,
        error: String(error),
      }),
    );
    committing.add(pending);
    void pending.finally(() => committing.delete(pending));
  };

  // Per partition, its newest handled message: its offset is not committed yet.
  const commits = pendingCommits<StringMessage>(settings.commitIntervalMs, (newest) =>
    newest.forEach(commit),
  );

  /** Hands one message to the handler until it succeeds; false when the partition may no longer deliver. */
  const deliver = async (message: StringMessage): Promise<boolean> => {
    const { partition } = message;
    if (message.offset < (next.get(partition) ?? -1n)) return true; // fetched again after a rejoin
    await callbacks.idle();
    if (!canDeliver(partition)) return false;
    for (;;) {
      try {
        await handler({
          envelope: JSON.parse(message.value) as EventEnvelope,
          key: message.key,
          partition,
          offset: message.offset.toString(),
          ...traceOf(message),
        });
        break;
      } catch (error) {
        logger.warn('handler failed; redelivering', {
          groupId,
          partition,
          offset: message.offset.toString(),
          error: String(error),
        });
        await delay(retryDelayMs);
        if (!canDeliver(partition)) return false;
      }
    }
    next.set(partition, message.offset + 1n);
    commits.add(partition, message);
    return true;
  };

  const queues = createPartitionQueues<StringMessage>({
    concurrency: options.concurrency ?? DEFAULT_PARTITIONS,
    canDeliver,
    deliver,
    onBacklog: (full) => {
      if (full) stream?.pause();
      else if (!paused && !stopped) stream?.resume();
    },
  });

  const revokeAll = (): void => {
    queues.clear();
    if (owned.length > 0) callbacks.push('revoked', owned);
    owned = [];
  };

  const onJoin = (created: StringConsumer): void => {
    rebalancing = false;
    revokeAll();
    const assignment = created.assignments?.find((a) => a.topic === topic)?.partitions ?? [];
    owned = [...assignment].sort((a, b) => a - b);
    for (const partition of next.keys()) if (!owned.includes(partition)) next.delete(partition);
    // Another member reads the partitions this one lost from their committed offsets now.
    commits.keepOnly(owned);
    callbacks.push('assigned', owned);
    joined();
    queues.kick(owned);
  };

  const start = async (): Promise<void> => {
    const created: StringConsumer = new Consumer({
      ...settings.base,
      groupId,
      sessionTimeout: settings.sessionTimeout,
      heartbeatInterval: settings.heartbeatInterval,
      deserializers: stringDeserializers,
      autocommit: false,
    });
    consumer = created;
    routeClientLogs(created, logger);
    created.on('consumer:group:rebalance', () => {
      if (consumer !== created) return;
      rebalancing = true;
      // Before the member re-joins, so the next owner starts after what this one handled.
      void commits.flush();
      revokeAll();
    });
    created.on('consumer:group:join', () => {
      if (consumer === created) onJoin(created);
    });
    created.on('error', () => {
      if (consumer === created && !stopped && !created.isActive()) void restart(created);
    });
    const consuming: StringStream = await created.consume({
      topics: [topic],
      mode: 'committed',
      fallbackMode: options.fromBeginning ? 'earliest' : 'latest',
      autocommit: false,
      maxWaitTime: settings.maxWaitTime,
      sessionTimeout: settings.sessionTimeout,
      heartbeatInterval: settings.heartbeatInterval,
    });
    stream = consuming;
    if (paused) consuming.pause();
    consuming.on('data', (message: StringMessage) => {
      if (stream === consuming && owned.includes(message.partition)) queues.push(message.partition, message);
    });
    consuming.on('error', (error: Error) =>
      logger.warn('message stream failed', { groupId, error: String(error) }),
    );
    consuming.on('close', () => {
      if (stream === consuming && !stopped) void restart(created);
    });
  };

  const restart = async (failed: StringConsumer): Promise<void> => {
    if (consumer !== failed) return;
    consumer = undefined;
    stream = undefined;
    revokeAll();
    logger.error('consumer failed; rejoining', { groupId });
    await failed.close(true).catch(() => undefined);
    while (!stopped) {
      await delay(1_000);
      if (stopped) return;
      try {
        await start();
        return;
      } catch (error) {
        logger.warn('consumer restart failed; retrying', { groupId, error: String(error) });
        const current = consumer as StringConsumer | undefined; // set by the failed start
        consumer = undefined;
        await current?.close(true).catch(() => undefined);
      }
    }
  };

  await start();
  const joinTimeout = setTimeout(() => logger.warn('still waiting to join the group', { groupId }), 30_000);
  await firstJoin.finally(() => clearTimeout(joinTimeout));
  queues.kick(owned);
  let stopping: Promise<void> | undefined;
  return {
    pause: () => {
      paused = true;
      stream?.pause();
    },
    resume: () => {
      paused = false;
      if (!queues.full()) stream?.resume();
      queues.kick(owned);
    },
    isPaused: () => paused,
    assignment: () => [...owned],
    stop: () => {
      // Hand over cleanly: no new deliveries, the in-flight ones finish and their offsets are
      // committed, onRevoked runs, and only then the member leaves the group.
      stopping ??= (async () => {
        stopped = true;
        const current = { consumer, stream };
        current.stream?.pause();
        await queues.idle();
        await commits.flush();
        await Promise.all(committing);
        revokeAll();
        await callbacks.idle();
        consumer = undefined;
        await (stream ?? current.stream)?.close().catch(() => undefined);
        await (current.consumer ?? consumer)?.close();
      })();
      return stopping;
    },
  };
};
