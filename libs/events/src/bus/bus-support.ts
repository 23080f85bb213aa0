import type { Logger, PublishOptions, SubscribeOptions, Subscription } from '../bus.ts';
import type { EventEnvelope } from '../envelope.ts';

/** Drops everything: the default when no logger is injected. */
export const quietLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** The headers of an envelope's Kafka message, the same for every client: id, type, tenant, trace. */
export const messageHeadersOf = (
  envelope: EventEnvelope,
  options: PublishOptions = {},
): Record<string, string> => {
  const headers: Record<string, string> = {
    'event-id': envelope.eventId,
    type: envelope.type,
    tenant: envelope.tenantId,
  };
  const traceparent = options.traceparentOf?.(envelope) ?? envelope.metadata.traceparent;
  if (traceparent) headers.traceparent = traceparent;
  return headers;
};

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A broadcast wake-up: `wait` resolves at the next `notify`. */
export const createSignal = () => {
  let wake: () => void = () => undefined;
  let next = new Promise<void>((resolve) => (wake = resolve));
  return {
    wait: (): Promise<void> => next,
    notify: (): void => {
      const current = wake;
      next = new Promise<void>((resolve) => (wake = resolve));
      current();
    },
  };
};

/**
 * Runs a subscription's assignment callbacks one after another, in the order the changes
 * happened; a failing callback is logged, never allowed to stop the consumer.
 */
export type SerialCallbacks = Readonly<{
  push: (kind: 'assigned' | 'revoked', partitions: readonly number[]) => void;
  /** Resolves when every callback pushed so far has finished. */
  idle: () => Promise<void>;
}>;

export const serialCallbacks = (options: SubscribeOptions, logger: Logger): SerialCallbacks => {
  let chain = Promise.resolve();
  return {
    push: (kind, partitions) => {
      const callback = kind === 'assigned' ? options.onAssigned : options.onRevoked;
      const copy = [...partitions].sort((a, b) => a - b);
      chain = chain.then(async () => {
        try {
          await callback?.(copy);
        } catch (error) {
          logger.error(`on${kind === 'assigned' ? 'Assigned' : 'Revoked'} callback failed`, {
            partitions: copy,
            error: String(error),
          });
        }
      });
    },
    idle: () => chain,
  };
};

/**
 * The subscriptions a bus handed out: each leaves the set when stopped, and `stopAll` (the bus's
 * close) stops whatever is left.
 */
export const liveSubscriptions = () => {
  const live = new Set<Subscription>();
  return {
    track: (subscription: Subscription): Subscription => {
      live.add(subscription);
      return {
        ...subscription,
        stop: async () => {
          live.delete(subscription);
          await subscription.stop();
        },
      };
    },
    stopAll: async (): Promise<void> => {
      await Promise.all([...live].map((subscription) => subscription.stop()));
      live.clear();
    },
  };
};

export type PendingCommits<T> = Readonly<{
  /** `item` (what commits the partition's newest handled offset) waits for the next commit. */
  add: (partition: number, item: T) => void;
  /** Commits what waits, now. */
  flush: () => Promise<void>;
  /** Drops what waits for partitions not in `owned` (another member reads them now). */
  keepOnly: (owned: readonly number[]) => void;
}>;

/**
 * Handled offsets of a Kafka group member waiting for their commit: the newest of each partition,
 * all committed together `intervalMs` after the first of them (or at `flush`), never one whose
 * handler has not returned. One commit a second instead of one a batch or a message.
 */
export const pendingCommits = <T>(
  intervalMs: number,
  commit: (newest: readonly T[]) => Promise<void> | void,
): PendingCommits<T> => {
  let waiting = new Map<number, T>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = async (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    const newest = [...waiting.values()];
    waiting = new Map();
    if (newest.length > 0) await commit(newest);
  };
  return {
    add: (partition, item) => {
      waiting.set(partition, item);
      timer ??= setTimeout(() => void flush(), intervalMs);
    },
    flush,
    keepOnly: (owned) => {
      for (const partition of waiting.keys()) if (!owned.includes(partition)) waiting.delete(partition);
    },
  };
};
