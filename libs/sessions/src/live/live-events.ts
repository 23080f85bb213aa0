import type { EventEnvelope, EventStore } from '@agentledger/events';
import type { EventBus } from '@agentledger/events/bus';

/**
 * A follower's registration, open until `cancel`. `news()` settles once it holds events of its
 * stream committed since it was registered (at once when it holds some already, or never: then
 * the follower's poll decides); `take(after)` hands them over, those past version `after`, and
 * starts collecting anew; undefined when it kept too many (1,000) and dropped some. It may miss
 * events (delivery is at least once, and it saw nothing before it was registered): a follower
 * reads the store whenever what it was handed does not continue its stream.
 */
export type Watch = Readonly<{
  news: () => Promise<void>;
  take: (after: number) => readonly EventEnvelope[] | undefined;
  cancel: () => void;
}>;

/**
 * Wakes followers of a stream (SSE, gRPC StreamEvents, `?wait`) when an event of it past a version
 * is committed, and hands them the events, so they read the store only to catch up.
 */
export type LiveEvents = Readonly<{
  watch: (streamId: string, afterVersion: number) => Watch;
  close: () => Promise<void>;
}>;

/** Events a watch keeps between takes; past that it hands over none and the follower reads. */
const MAX_KEPT = 1_000;

type Waiter = {
  afterVersion: number;
  events: EventEnvelope[];
  overflow: boolean;
  wake: (() => void) | undefined;
};

/** The watchers of each stream, and the events a source hands them. */
const createWatchers = () => {
  const waiters = new Map<string, Set<Waiter>>();
  const deliver = (event: EventEnvelope): void => {
    for (const waiter of waiters.get(event.streamId) ?? []) {
      if (event.version <= waiter.afterVersion) continue;
      if (waiter.events.length < MAX_KEPT) waiter.events.push(event);
      else waiter.overflow = true;
      waiter.wake?.();
      waiter.wake = undefined;
    }
  };
  const watch = (streamId: string, afterVersion: number): Watch => {
    const waiter: Waiter = { afterVersion, events: [], overflow: false, wake: undefined };
    waiters.set(streamId, (waiters.get(streamId) ?? new Set()).add(waiter));
    return {
      news: () =>
        waiter.events.length > 0 || waiter.overflow
          ? Promise.resolve()
          : new Promise<void>((resolve) => (waiter.wake = resolve)),
      take: (after) => {
        const taken = waiter.overflow ? undefined : waiter.events.filter((event) => event.version > after);
        waiter.events = [];
        waiter.overflow = false;
        return taken;
      },
      cancel: () => {
        waiter.wake?.();
        const set = waiters.get(streamId);
        set?.delete(waiter);
        if (set?.size === 0) waiters.delete(streamId);
      },
    };
  };
  return { deliver, watch };
};

/**
 * One store subscription per gateway process (`subscriberId`, from the head at every start) fans
 * committed events out to the watchers of their streams. Delivery is at least once and a watch
 * registered late only misses events, never loses them: followers read the store to fill any gap
 * and still poll as a fallback. `observe` sees each event first (the gateway's session engine, so
 * its cached sessions follow what the orchestrators append); an observer that throws wakes nobody
 * less.
 */
export const createStoreLiveEvents = (
  store: EventStore,
  subscriberId: string,
  observe?: (event: EventEnvelope) => void,
): LiveEvents => {
  const watchers = createWatchers();
  const subscription = store.subscribe({
    subscriberId,
    from: 'end',
    // Wake-ups only: after a restart there is nobody to wake for what came before.
    checkpoints: false,
    handler: (event) => {
      try {
        observe?.(event);
      } catch {
        // The observer's loss (its next load reads the store); never the followers'.
      }
      watchers.deliver(event);
    },
  });
  return { watch: watchers.watch, close: () => subscription.stop() };
};

/**
 * The same from the event bus, as a consumer group of its own (`groupId`): where the gateway runs
 * beside the relay (the embedded product), the events the relay already read reach the watchers
 * without another read of the log.
 */
export const createBusLiveEvents = async (
  bus: Pick<EventBus, 'subscribe'>,
  groupId: string,
): Promise<LiveEvents> => {
  const watchers = createWatchers();
  const subscription = await bus.subscribe(groupId, async ({ envelope }) => watchers.deliver(envelope));
  return { watch: watchers.watch, close: () => subscription.stop() };
};
