import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import {
  DEFAULT_PARTITIONS,
  type DeliveryHandler,
  type Logger,
  type SubscribeOptions,
  type Subscription,
} from '../bus.ts';
import type { EventEnvelope } from '../envelope.ts';
import { delay, pendingCommits, serialCallbacks } from '../bus/bus-support.ts';

export type ConsumerSettings = Readonly<{
  topic: string;
  logger: Logger;
  sessionTimeout: number;
  heartbeatInterval: number;
  maxWaitTimeInMs: number;
  /** How long a handled offset may wait for its commit (see `createKafkaSubscription`). */
  commitIntervalMs: number;
}>;

/**
 * One group member on kafkajs (eager rebalancing, the only protocol kafkajs has).
 *
 * Delivery: `eachBatch` with manual resolution; one message at a time per partition; an offset is
 * resolved after its handler returns. A handler that throws ends the batch unresolved, so the fetch
 * after `retryDelayMs` starts again at that message. Pausing stops at the next message boundary;
 * the rest is fetched again on resume.
 *
 * Commits: a handled offset is committed within `commitIntervalMs` (one request for every
 * partition handled meanwhile), and at `stop` before the member leaves, never before its handler
 * returned. kafkajs' own auto-commit is off: it sent a commit after every batch of every
 * partition, which at a message or two a batch was the broker's largest load. A crash, a lost
 * session or a rebalance redelivers what was handled since the last commit (at least once, as
 * always: handlers are idempotent).
 *
 * Assignment, and how precise it is: on `stop`, `onRevoked(all owned)` completes after the last
 * in-flight delivery and before the member leaves the group, so the hand-over is exact. During a
 * rebalance it fires when this member learns of it (the REBALANCING event, raised when a fetch or
 * heartbeat meets REBALANCE_IN_PROGRESS, before it re-joins) and on a crash (after kafkajs has
 * already left the group); `onAssigned(new assignment)` fires on GROUP_JOIN, after the sync.
 * Neither blocks the protocol: a slow `onRevoked` may still be running when another member already
 * received the partition, so ownership must be fenced (the orchestrator's session leases), not
 * inferred from the callbacks alone. A member that loses its session without
 * noticing (a long GC pause) learns only at its next heartbeat. Deliveries wait until every
 * callback fired so far has returned.
 *
 * Broker loss: kafkajs retries and restarts the consumer on retriable errors; when it gives up
 * (restart: false), this member builds a new consumer and joins again until stopped.
 */
export const createKafkaSubscription = async (
  kafka: Kafka,
  settings: ConsumerSettings,
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
  const inFlight = new Set<Promise<void>>();
  let consumer: Consumer | undefined;
  // Per partition, the next offset to read there: handled, not committed yet.
  const commits = pendingCommits<{ partition: number; offset: string }>(
    settings.commitIntervalMs,
    async (offsets) => {
      try {
        await consumer?.commitOffsets(offsets.map((offset) => ({ topic, ...offset })));
      } catch (error) {
        logger.warn('offset commit failed; what it covered may be delivered again', {
          groupId,
          error: String(error),
        });
      }
    },
  );
  let joined: () => void = () => undefined;
  const firstJoin = new Promise<void>((resolve) => (joined = resolve));

  /** kafkajs throws when the consumer is between runs (after a crash); the flag covers that gap. */
  const setPaused = (target: Consumer, pause: boolean): void => {
    try {
      if (pause) target.pause([{ topic }]);
      else target.resume([{ topic }]);
    } catch (error) {
      logger.debug('consumer not running; pause state applies on the next join', { error: String(error) });
    }
  };

  const revokeAll = (): void => {
    if (owned.length > 0) callbacks.push('revoked', owned);
    owned = [];
  };

  const eachBatch = async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
    await callbacks.idle();
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || paused || stopped) return;
      const envelope = JSON.parse(message.value?.toString() ?? 'null') as EventEnvelope;
      const header = message.headers?.traceparent;
      const traceparent =
        typeof header === 'string' || Buffer.isBuffer(header) ? header.toString() : undefined;
      const handled = handler({
        envelope,
        key: message.key?.toString() ?? '',
        partition: batch.partition,
        offset: message.offset,
        highWatermark: batch.highWatermark,
        ...(traceparent ? { traceparent } : {}),
      });
      const tracked = handled.then(
        () => undefined,
        () => undefined,
      );
      inFlight.add(tracked);
      try {
        await handled;
      } catch (error) {
        logger.warn('handler failed; redelivering', {
          groupId,
          partition: batch.partition,
          offset: message.offset,
          error: String(error),
        });
        await delay(retryDelayMs);
        return;
      } finally {
        inFlight.delete(tracked);
      }
      resolveOffset(message.offset);
      const partition = batch.partition;
      commits.add(partition, { partition, offset: (BigInt(message.offset) + 1n).toString() });
      await heartbeat();
    }
  };

  const start = async (): Promise<void> => {
    const created = kafka.consumer({
      groupId,
      sessionTimeout: settings.sessionTimeout,
      heartbeatInterval: settings.heartbeatInterval,
      maxWaitTimeInMs: settings.maxWaitTimeInMs,
    });
    consumer = created;
    created.on(created.events.GROUP_JOIN, ({ payload }) => {
      revokeAll();
      owned = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
      // Another member reads the partitions this one lost from their committed offsets now; a late
      // commit of this member's would move those back.
      commits.keepOnly(owned);
      callbacks.push('assigned', owned);
      if (paused) setPaused(created, true);
      joined();
    });
    created.on(created.events.REBALANCING, () => {
      revokeAll();
      // Before the member re-joins, so the next owner starts after what this one handled.
      void commits.flush();
    });
    created.on(created.events.CRASH, ({ payload }) => {
      revokeAll();
      logger.error('consumer crashed', { groupId, error: String(payload.error), restart: payload.restart });
      if (!payload.restart && !stopped && consumer === created) void restart(created);
    });
    await created.connect();
    await created.subscribe({ topic, fromBeginning: options.fromBeginning ?? false });
    await created.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.concurrency ?? DEFAULT_PARTITIONS,
      eachBatch,
    });
  };

  const restart = async (crashed: Consumer): Promise<void> => {
    await crashed.disconnect().catch(() => undefined);
    while (!stopped) {
      await delay(1_000);
      if (stopped) return;
      try {
        await start();
        logger.info('consumer rejoining after a crash', { groupId });
        return;
      } catch (error) {
        logger.warn('consumer restart failed; retrying', { groupId, error: String(error) });
        await consumer?.disconnect().catch(() => undefined);
      }
    }
  };

  await start();
  const joinTimeout = setTimeout(() => logger.warn('still waiting to join the group', { groupId }), 30_000);
  await firstJoin.finally(() => clearTimeout(joinTimeout));
  let stopping: Promise<void> | undefined;
  return {
    pause: () => {
      paused = true;
      if (consumer) setPaused(consumer, true);
    },
    resume: () => {
      paused = false;
      if (consumer) setPaused(consumer, false);
    },
    isPaused: () => paused,
    assignment: () => [...owned],
    stop: () => {
      // Hand over cleanly: no new deliveries, the in-flight ones finish, onRevoked runs, and only
      // then the member leaves the group, so no other member is assigned these partitions earlier.
      stopping ??= (async () => {
        stopped = true;
        if (consumer) setPaused(consumer, true);
        await Promise.all(inFlight);
        await commits.flush();
        revokeAll();
        await callbacks.idle();
        await consumer?.disconnect();
      })();
      return stopping;
    },
  };
};
