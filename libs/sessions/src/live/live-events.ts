import type { EventStore } from '@agentledger/events';

/** A follower's registration: settles when its stream has news, or never (then the poll decides). */
export type Watch = Readonly<{ news: Promise<void>; cancel: () => void }>;

/**
 * Wakes followers of a stream (SSE, gRPC StreamEvents, `?wait`) when an event of it past a version
 * is committed, so they read only when there is something to read.
 */
export type LiveEvents = Readonly<{
  watch: (streamId: string, afterVersion: number) => Watch;
  close: () => Promise<void>;
}>;

type Waiter = { afterVersion: number; wake: () => void };

/**
 * One store subscription per gateway process (`subscriberId`, from the head on first start) fans
 * committed events out to the watchers of their streams. Delivery is at least once and a watch
 * registered late only misses a wake-up, never an event: followers still poll as a fallback.
 */
export const createStoreLiveEvents = (store: EventStore, subscriberId: string): LiveEvents => {
  const waiters = new Map<string, Set<Waiter>>();
  const remove = (streamId: string, waiter: Waiter): void => {
    const set = waiters.get(streamId);
    set?.delete(waiter);
    if (set?.size === 0) waiters.delete(streamId);
  };
  const subscription = store.subscribe({
    subscriberId,
    from: 'end',
    handler: (event) => {
      for (const waiter of waiters.get(event.streamId) ?? []) {
        if (event.version > waiter.afterVersion) waiter.wake();
      }
    },
  });
  return {
    watch: (streamId, afterVersion) => {
      let waiter: Waiter | undefined;
      const news = new Promise<void>((resolve) => {
        const registered: Waiter = {
          afterVersion,
          wake: () => {
            remove(streamId, registered);
            resolve();
          },
        };
        waiter = registered;
        waiters.set(streamId, (waiters.get(streamId) ?? new Set()).add(registered));
      });
      return { news, cancel: () => waiter && remove(streamId, waiter) };
    },
    close: () => subscription.stop(),
  };
};
