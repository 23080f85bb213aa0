import type { EventEnvelope, EventStore } from '@agentledger/events';

export type FollowOptions = Readonly<{
  tenantId: string;
  streamId: string;
  /** Exclusive version. */
  after: number;
  signal: AbortSignal;
  pollIntervalMs: number;
  pageSize?: number;
}>;

const pause = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * The stream's committed events after `after`, in version order, then each new one as it commits,
 * until `signal` aborts. Versions have no gaps, so resuming after the last version seen misses
 * nothing and repeats nothing. Live events are found by reading again every `pollIntervalMs`.
 */
export async function* followStream(
  store: EventStore,
  options: FollowOptions,
): AsyncGenerator<EventEnvelope> {
  const { tenantId, streamId, signal, pollIntervalMs, pageSize = 500 } = options;
  let after = options.after;
  while (!signal.aborted) {
    const events = await store.readStream(streamId, { tenantId, fromVersion: after + 1, limit: pageSize });
    for (const event of events) {
      if (signal.aborted) return;
      yield event;
      after = event.version;
    }
    if (events.length < pageSize) await pause(pollIntervalMs, signal);
  }
}
