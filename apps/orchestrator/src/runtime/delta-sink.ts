import type { DeltaSink } from '@agentledger/agents';
import type { DeltaChannel, SessionDelta } from '@agentledger/events';
import type { Logger } from '@agentledger/events/bus';

/** How long the outcome of a call waits for its deltas to be handed over (a slow or lost broker). */
const FLUSH_TIMEOUT_MS = 1_000;

/** Deltas waiting for a stuck broker beyond this are dropped (memory stays bounded in an outage). */
const MAX_BUFFERED = 10_000;

/**
 * Publishes model-output deltas to the channel as they come, one send in flight at a time (what
 * arrives meanwhile goes in the next send, so order holds and a slow broker batches). A failed
 * send is logged and dropped: deltas are a view, the recorded events are the truth. `flush` waits
 * at most `flushTimeoutMs`, so a broker outage never holds a call's outcome back for long.
 */
export const createDeltaSink = (
  channel: DeltaChannel,
  logger: Logger,
  flushTimeoutMs = FLUSH_TIMEOUT_MS,
): DeltaSink => {
  let buffer: SessionDelta[] = [];
  let sending: Promise<void> | undefined;
  const drain = async (): Promise<void> => {
    while (buffer.length > 0) {
      const batch = buffer;
      buffer = [];
      await channel.publish(batch).catch((error: unknown) => {
        logger.warn('model output deltas dropped', { count: batch.length, error: String(error) });
      });
    }
  };
  const kick = (): Promise<void> => {
    sending ??= drain().finally(() => {
      sending = undefined;
    });
    return sending;
  };
  return {
    publish: (delta) => {
      if (buffer.length >= MAX_BUFFERED) return;
      buffer.push(delta);
      void kick();
    },
    flush: async () => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, flushTimeoutMs)));
      const drained = (async () => {
        while (sending !== undefined || buffer.length > 0) await kick();
      })();
      await Promise.race([drained, late]).finally(() => clearTimeout(timer));
    },
  };
};
