import type { DeltaSink } from '@agentledger/agents';
import type { DeltaChannel, SessionDelta } from '@agentledger/events';
import type { Logger } from '@agentledger/events/bus';

/**
 * Publishes model-output deltas to the channel as they come, one send in flight at a time (what
 * arrives meanwhile goes in the next send, so order holds and a slow broker batches). A failed
 * send is logged and dropped: deltas are a view, the recorded events are the truth.
 */
export const createDeltaSink = (channel: DeltaChannel, logger: Logger): DeltaSink => {
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
      buffer.push(delta);
      void kick();
    },
    flush: async () => {
      while (sending !== undefined || buffer.length > 0) await kick();
    },
  };
};
