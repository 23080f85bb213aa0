import type { EventEnvelope, EventStore, SessionDelta } from '@agentledger/events';
import type { LiveEvents, Watch } from './live-events.ts';
import { pause } from '../pause.ts';

export type FollowOptions = Readonly<{
  tenantId: string;
  streamId: string;
  /** Exclusive version. */
  after: number;
  signal: AbortSignal;
  /** How long to wait before reading again without news (with `live`, a fallback). */
  pollIntervalMs: number;
  /** Wake-ups on commits of this stream; without it, the stream is read every `pollIntervalMs`. */
  live?: LiveEvents;
  /**
   * A watch of `live` registered on this stream before the events up to `after` were written:
   * it holds every event past them, so the follow waits for it instead of reading first. The
   * follow cancels it when it ends.
   */
  watching?: Watch;
  pageSize?: number;
}>;

/** `events` are the versions right after `after`, without a hole. */
const continues = (after: number, events: readonly EventEnvelope[]): boolean =>
  events.length > 0 && events.every((event, index) => event.version === after + 1 + index);

/**
 * The stream's committed events after `after`, in version order, then each new one as it commits,
 * until `signal` aborts. Versions have no gaps, so resuming after the last version seen misses
 * nothing and repeats nothing. With `live`, the events it hands over are yielded without reading
 * the store when they continue the stream (else the store is read); without news it reads again
 * after `pollIntervalMs`.
 */
export async function* followStream(
  store: EventStore,
  options: FollowOptions,
): AsyncGenerator<EventEnvelope> {
  const { tenantId, streamId, signal, pollIntervalMs, live, pageSize = 500 } = options;
  let after = options.after;
  const read = (): Promise<readonly EventEnvelope[]> =>
    store.readStream(streamId, { tenantId, fromVersion: after + 1, limit: pageSize });
  // Watch before the first read: a commit between a read and the wait still wakes us. A watch
  // registered before `after` was written needs no first read.
  const watch = options.watching ?? live?.watch(streamId, after);
  try {
    let events = options.watching === undefined ? await read() : [];
    while (!signal.aborted) {
      for (const event of events) {
        if (signal.aborted) return;
        yield event;
        after = event.version;
      }
      if (events.length < pageSize) {
        const woken = await pause(pollIntervalMs, signal, watch?.news());
        const handed = watch?.take(after);
        if (handed !== undefined && continues(after, handed)) {
          events = handed; // the stream's next events, as the live source saw them
          continue;
        }
        if (woken && handed?.length === 0) {
          events = []; // news of events already yielded (the follower's own append): wait again
          continue;
        }
      }
      if (!signal.aborted) events = await read();
    }
  } finally {
    watch?.cancel();
  }
}

/** What a live stream carries: the session's committed events, and model output as it streams. */
export type StreamItem =
  Readonly<{ kind: 'event'; event: EventEnvelope }> | Readonly<{ kind: 'delta'; delta: SessionDelta }>;

/** A watcher too slow to take deltas this far behind loses the newest ones (the events stay whole). */
const MAX_PENDING_DELTAS = 10_000;

/**
 * `events` with the deltas `watch` hands over merged in as they arrive. Events keep their
 * backpressure (one read ahead at most); deltas wait in a bounded queue. Stops watching when the
 * consumer stops or `events` ends.
 */
export async function* withDeltas(
  events: AsyncIterable<EventEnvelope>,
  watch: (handler: (delta: SessionDelta) => void) => () => void,
): AsyncGenerator<StreamItem> {
  const pending: SessionDelta[] = [];
  let wake: (() => void) | undefined;
  const unwatch = watch((delta) => {
    if (pending.length < MAX_PENDING_DELTAS) pending.push(delta);
    wake?.();
  });
  const iterator = events[Symbol.asyncIterator]();
  try {
    let next = iterator.next();
    for (;;) {
      while (pending.length > 0) yield { kind: 'delta', delta: pending.shift()! };
      const arrived = new Promise<'delta'>((resolve) => (wake = () => resolve('delta')));
      const result = await Promise.race([next, arrived]);
      wake = undefined;
      if (result === 'delta') continue;
      if (result.done) return;
      yield { kind: 'event', event: result.value };
      next = iterator.next();
    }
  } finally {
    unwatch();
    await iterator.return?.();
  }
}
