import { createCheckpointPacer } from './checkpoint-pacer.ts';
import type { EventEnvelope } from './envelope.ts';
import type {
  AppendResult,
  EventSubscription,
  EventSubscriptionOptions,
  Page,
  ReadAllOptions,
} from './store.ts';

export type SubscriptionDeps = Readonly<{
  readAll: (options: ReadAllOptions) => Promise<readonly EventEnvelope[]>;
  loadCheckpoint: (subscriberId: string) => Promise<number | undefined>;
  saveCheckpoint: (subscriberId: string, position: number) => Promise<void>;
  /** The position a subscription starting at 'end' starts after. */
  headPosition: () => Promise<number>;
  /** A counter that moves on every append notification. */
  appendCount: () => number;
  /**
   * Resolves once the counter has moved past `seen` (at once if it already has), or after
   * `timeoutMs`, or on abort.
   */
  waitForAppend: (seen: number, timeoutMs: number, signal: AbortSignal) => Promise<void>;
  /**
   * The highest committed position, readable yet or not. A store whose reads can stop short of
   * committed events (Postgres: while an older transaction runs, see `readAll`) provides it; while
   * it is past the subscription's position, the subscription reads again after a short backoff
   * rather than waiting for a notification that the end of that older transaction never sends.
   */
  committedHead?: (options: { tenantId?: string }) => Promise<number>;
  /**
   * A page and the committed head read together (Postgres: one statement, one snapshot), used
   * instead of `readAll` and `committedHead` when given.
   */
  readPage?: (options: ReadAllOptions) => Promise<Page>;
}>;

/**
 * Subscriptions of one store that wake on the same append read the same page once: a read joins
 * one in flight for the same page only if that one started after every wake-up seen so far (so it
 * sees every append those announced). Keyed by position and limit.
 */
export const sharedPageReads = (
  read: (options: ReadAllOptions) => Promise<Page>,
  appendCount: () => number,
): ((options: ReadAllOptions) => Promise<Page>) => {
  const inFlight = new Map<string, Readonly<{ count: number; page: Promise<Page> }>>();
  return (options) => {
    const key = `${options.after ?? 0}/${options.limit ?? ''}/${options.tenantId ?? ''}`;
    const count = appendCount();
    const current = inFlight.get(key);
    if (current !== undefined && current.count === count) return current.page;
    const page = read(options);
    inFlight.set(key, { count, page });
    const settled = (): void => {
      if (inFlight.get(key)?.page === page) inFlight.delete(key);
    };
    page.then(settled, settled);
    return page;
  };
};

/** The first re-read after a read that stopped short; doubles up to the polling period. */
const HELD_BACK_RETRY_MS = 10;

/**
 * Catch-up then live: reads pages after the checkpoint, hands each event to the handler in global
 * order, stores the checkpoint after each handled page, and waits for a notification (or the
 * polling period) when there is nothing new, or reads again soon when the store holds committed
 * events back (`committedHead`). Delivery is at least once: a crash between handling
 * and the checkpoint redelivers the page. Store errors are retried (reported to `onError`).
 */
export const startSubscription = (
  deps: SubscriptionDeps,
  options: EventSubscriptionOptions,
): EventSubscription => {
  const {
    subscriberId,
    handler,
    tenantId,
    batchSize = 500,
    pollIntervalMs = 1_000,
    checkpoints = true,
    checkpointEveryMs = 0,
  } = options;
  const abort = new AbortController();
  let position = 0;
  let markCaughtUp: () => void = () => undefined;
  const caughtUp = new Promise<void>((resolve) => {
    markCaughtUp = resolve;
  });

  const startPosition = async (): Promise<number> => {
    const stored = checkpoints ? await deps.loadCheckpoint(subscriberId) : undefined;
    if (stored !== undefined) return stored;
    const from = options.from ?? 'start';
    if (from === 'start') return 0;
    if (from === 'end') return deps.headPosition();
    return from;
  };

  // Store errors (connection lost, server restarting) are retried with backoff until stopped;
  // only a handler's error ends the subscription.
  const retrying = async <T>(work: () => Promise<T>): Promise<T | undefined> => {
    for (let delay = 100; !abort.signal.aborted; delay = Math.min(delay * 2, 5_000)) {
      try {
        return await work();
      } catch (error) {
        if (abort.signal.aborted) break;
        options.onError?.(error);
        await deps.waitForAppend(deps.appendCount(), delay, abort.signal);
      }
    }
    return undefined;
  };

  const readPage = async (read: ReadAllOptions): Promise<Page> => {
    if (deps.readPage !== undefined) return deps.readPage(read);
    const events = await deps.readAll(read);
    if (events.length >= batchSize || deps.committedHead === undefined) return { events };
    return { events, committedHead: await deps.committedHead(tenantId === undefined ? {} : { tenantId }) };
  };

  // The position handled up to, saved at most every `checkpointEveryMs`.
  const pacer = createCheckpointPacer(checkpointEveryMs, () => performance.now());
  const saveIfDue = async (): Promise<void> => {
    const at = abort.signal.aborted ? undefined : pacer.take();
    if (at !== undefined) await retrying(() => deps.saveCheckpoint(subscriberId, at));
  };

  const run = async (): Promise<void> => {
    const start = await retrying(startPosition);
    if (start === undefined) return;
    position = start;
    let heldBackDelay = HELD_BACK_RETRY_MS;
    while (!abort.signal.aborted) {
      const seen = deps.appendCount();
      const read = await retrying(() =>
        readPage({ after: position, limit: batchSize, ...(tenantId === undefined ? {} : { tenantId }) }),
      );
      if (read === undefined) break;
      const page = read.events;
      let handled = position;
      if (page.length > 0 && !abort.signal.aborted) await options.onPage?.(page);
      for (const event of page) {
        if (abort.signal.aborted) break;
        await handler(event);
        handled = event.globalPosition;
      }
      if (handled !== position) {
        position = handled;
        heldBackDelay = HELD_BACK_RETRY_MS;
        if (checkpoints) pacer.moved(handled);
        await saveIfDue();
      }
      if (page.length < batchSize && !abort.signal.aborted) {
        markCaughtUp();
        await saveIfDue();
        const head = read.committedHead;
        if (head !== undefined && head > position) {
          await deps.waitForAppend(
            seen,
            Math.min(heldBackDelay, pollIntervalMs, pacer.untilDue()),
            abort.signal,
          );
          heldBackDelay = Math.min(heldBackDelay * 2, pollIntervalMs);
        } else {
          heldBackDelay = HELD_BACK_RETRY_MS;
          await deps.waitForAppend(seen, Math.min(pollIntervalMs, pacer.untilDue()), abort.signal);
        }
      }
    }
    // Stopped: what was handled since the last save is saved now (once: the store may be gone).
    const unsaved = pacer.take(true);
    if (unsaved !== undefined)
      await deps.saveCheckpoint(subscriberId, unsaved).catch((error: unknown) => options.onError?.(error));
  };

  const done = run();
  done.catch(() => markCaughtUp());
  return {
    caughtUp,
    done,
    position: () => position,
    stop: async () => {
      abort.abort();
      await done.catch(() => undefined);
    },
  };
};

/**
 * Calls a store's commit listeners (`EventStore.onCommit`) in the order they were added. One that
 * throws fails neither the append that committed nor the listeners after it: its error is thrown
 * again outside the append, where the process sees it as uncaught.
 */
export const tellCommitted = (
  listeners: ReadonlySet<(own?: AppendResult) => void>,
  own?: AppendResult,
): void => {
  for (const listener of listeners) {
    try {
      listener(own);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
};

/** A wake-up source: `notify` wakes every pending wait (in-process appends, LISTEN/NOTIFY). */
export type AppendSignal = Readonly<{
  notify: () => void;
  count: () => number;
  wait: (seen: number, timeoutMs: number, signal: AbortSignal) => Promise<void>;
}>;

export const createAppendSignal = (): AppendSignal => {
  let count = 0;
  let waiters: (() => void)[] = [];
  return {
    notify: () => {
      count += 1;
      const current = waiters;
      waiters = [];
      for (const wake of current) wake();
    },
    count: () => count,
    wait: (seen, timeoutMs, signal) =>
      new Promise<void>((resolve) => {
        if (signal.aborted || count !== seen) return resolve();
        const finish = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', finish);
          waiters = waiters.filter((waiter) => waiter !== finish);
          resolve();
        };
        const timer = setTimeout(finish, timeoutMs);
        signal.addEventListener('abort', finish, { once: true });
        waiters.push(finish);
      }),
  };
};
