import type { EventEnvelope, EventStore } from '@agentledger/events';
import type { LiveEvents } from './live-events.ts';

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
  pageSize?: number;
}>;

/** Resolves after `ms`, on abort, or when `news` settles, whichever comes first. */
const pause = (ms: number, signal: AbortSignal, news?: Promise<void>): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
    void news?.then(done);
  });

/**
 * The stream's committed events after `after`, in version order, then each new one as it commits,
 * until `signal` aborts. Versions have no gaps, so resuming after the last version seen misses
 * nothing and repeats nothing. Without news it reads again after `pollIntervalMs`.
 */
export async function* followStream(
  store: EventStore,
  options: FollowOptions,
): AsyncGenerator<EventEnvelope> {
  const { tenantId, streamId, signal, pollIntervalMs, live, pageSize = 500 } = options;
  let after = options.after;
  while (!signal.aborted) {
    // Watch before reading: a commit between the read and the wait still wakes us.
    const watch = live?.watch(streamId, after);
    const events = await store.readStream(streamId, { tenantId, fromVersion: after + 1, limit: pageSize });
    if (events.length === 0) await pause(pollIntervalMs, signal, watch?.news);
    watch?.cancel();
    for (const event of events) {
      if (signal.aborted) return;
      yield event;
      after = event.version;
    }
  }
}
