import type { EventEnvelope } from '../envelope.ts';
import {
  DEFAULT_PARTITIONS,
  partitionKeyOf,
  type DeliveryHandler,
  type EventBus,
  type Logger,
  type SubscribeOptions,
  type Subscription,
} from '../bus.ts';
import { partitionForKey } from './murmur2.ts';
import {
  createSignal,
  delay,
  messageHeadersOf,
  quietLogger,
  serialCallbacks,
  type SerialCallbacks,
} from './bus-support.ts';

export type InProcessEventBusOptions = Readonly<{
  /** Default 12, as the Kafka topic; keys map to the same partition numbers as on Kafka. */
  partitions?: number;
  logger?: Logger;
  /** Records every group has consumed are dropped once this many pile up in a partition. */
  trimThreshold?: number;
}>;

type PartitionLog = { base: number; records: { key: string; value: string; traceparent?: string }[] };

type Member = {
  handler: DeliveryHandler;
  options: SubscribeOptions;
  assigned: number[];
  paused: boolean;
  loops: { stopped: boolean; done: Promise<void> }[];
  callbacks: SerialCallbacks;
};

type Group = { committed: number[]; members: Member[]; queue: Promise<void> };

/**
 * The embedded mode's bus: Kafka's semantics in one process. Partitions by murmur2 of the key,
 * one delivery at a time per partition in offset order, offsets resolved when the handler returns,
 * redelivery after a throw, consumer groups with eager rebalancing on join and leave, pause/resume.
 * Nothing survives the process: the relay republishes from its checkpoint on start.
 */
export const createInProcessEventBus = (options: InProcessEventBusOptions = {}): EventBus => {
  const partitions = options.partitions ?? DEFAULT_PARTITIONS;
  const logger = options.logger ?? quietLogger;
  const trimThreshold = options.trimThreshold ?? 4096;
  const logs: PartitionLog[] = Array.from({ length: partitions }, () => ({ base: 0, records: [] }));
  const groups = new Map<string, Group>();
  const changed = createSignal();
  let closed = false;

  const end = (p: number): number => logs[p]!.base + logs[p]!.records.length;

  const trim = (p: number): void => {
    const log = logs[p]!;
    if (log.records.length < trimThreshold || groups.size === 0) return;
    const consumed = Math.min(...[...groups.values()].map((group) => group.committed[p]!));
    const drop = consumed - log.base;
    if (drop <= 0) return;
    log.records.splice(0, drop);
    log.base += drop;
  };

  const runPartition = async (group: Group, member: Member, p: number, loop: { stopped: boolean }) => {
    const retryDelayMs = member.options.retryDelayMs ?? 500;
    while (!loop.stopped) {
      const offset = group.committed[p]!;
      if (member.paused || offset >= end(p)) {
        await changed.wait();
        continue;
      }
      const record = logs[p]!.records[offset - logs[p]!.base]!;
      const envelope = JSON.parse(record.value) as EventEnvelope;
      try {
        await member.callbacks.idle();
        await member.handler({
          envelope,
          key: record.key,
          partition: p,
          offset: String(offset),
          highWatermark: String(end(p)),
          ...(record.traceparent ? { traceparent: record.traceparent } : {}),
        });
        group.committed[p] = offset + 1;
        trim(p);
      } catch (error) {
        logger.warn('handler failed; redelivering', { partition: p, offset, error: String(error) });
        await delay(retryDelayMs);
      }
    }
  };

  const revokeAll = async (group: Group): Promise<void> => {
    for (const member of group.members) for (const loop of member.loops) loop.stopped = true;
    changed.notify();
    await Promise.all(group.members.flatMap((member) => member.loops.map((loop) => loop.done)));
    for (const member of group.members) {
      member.loops = [];
      if (member.assigned.length > 0) member.callbacks.push('revoked', member.assigned);
      member.assigned = [];
    }
  };

  const assignAll = (group: Group): void => {
    group.members.forEach((member, index) => {
      const owned = Array.from({ length: partitions }, (_, p) => p).filter(
        (p) => p % group.members.length === index,
      );
      member.assigned = owned;
      member.callbacks.push('assigned', owned);
      member.loops = owned.map((p) => {
        const loop = { stopped: false, done: Promise.resolve() };
        loop.done = runPartition(group, member, p, loop);
        return loop;
      });
    });
  };

  /** Eager rebalance, serialised per group: every member gives up everything, then all reassigned. */
  const rebalance = (group: Group, change: () => void): Promise<void> => {
    group.queue = group.queue.then(async () => {
      await revokeAll(group);
      change();
      assignAll(group);
    });
    return group.queue;
  };

  const subscribe = async (
    groupId: string,
    handler: DeliveryHandler,
    subscribeOptions: SubscribeOptions = {},
  ): Promise<Subscription> => {
    if (closed) throw new Error('the in-process bus is closed');
    let group = groups.get(groupId);
    if (!group) {
      const committed = logs.map((log, p) => (subscribeOptions.fromBeginning ? log.base : end(p)));
      group = { committed, members: [], queue: Promise.resolve() };
      groups.set(groupId, group);
    }
    const member: Member = {
      handler,
      options: subscribeOptions,
      assigned: [],
      paused: false,
      loops: [],
      callbacks: serialCallbacks(subscribeOptions, logger),
    };
    const joined = group;
    await rebalance(joined, () => joined.members.push(member));
    let stopping: Promise<void> | undefined;
    return {
      pause: () => void (member.paused = true),
      resume: () => {
        member.paused = false;
        changed.notify();
      },
      isPaused: () => member.paused,
      assignment: () => [...member.assigned],
      stop: () => {
        stopping ??= rebalance(joined, () => {
          joined.members = joined.members.filter((other) => other !== member);
        }).then(() => member.callbacks.idle());
        return stopping;
      },
    };
  };

  return {
    publish: async (envelopes, options) => {
      if (closed) throw new Error('the in-process bus is closed');
      for (const envelope of envelopes) {
        const key = partitionKeyOf(envelope);
        const { traceparent } = messageHeadersOf(envelope, options);
        logs[partitionForKey(key, partitions)]!.records.push({
          key,
          value: JSON.stringify(envelope),
          ...(traceparent ? { traceparent } : {}),
        });
      }
      changed.notify();
    },
    subscribe,
    close: async () => {
      closed = true;
      await Promise.all(
        [...groups.values()].map((group) =>
          rebalance(group, () => {
            group.members = [];
          }),
        ),
      );
    },
  };
};
