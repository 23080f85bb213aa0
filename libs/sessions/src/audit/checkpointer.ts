import type { EventEnvelope, EventStore, EventSubscription } from '@agentledger/events';
import type { CheckpointSigner, CheckpointStore, StreamHead } from './checkpoints.ts';

export const TURN_END_EVENTS: readonly string[] = ['TurnCompleted', 'TurnCancelled', 'TurnFailed'];

export type CheckpointerDeps = Readonly<{
  store: EventStore;
  checkpoints: CheckpointStore;
  signer: CheckpointSigner;
  clock?: () => Date;
  /** Heads changed since the last checkpoint are signed this often (default 60 s; 0 = never). */
  intervalMs?: number;
  subscriberId?: string;
  /** The subscription's fallback polling period. */
  pollIntervalMs?: number;
  onError?: (error: unknown) => void;
}>;

export type Checkpointer = Readonly<{
  /** Resolves once every event committed at start has been seen. */
  caughtUp: Promise<void>;
  /** Signs every head changed since its last checkpoint (what the timer does). */
  flush: () => Promise<number>;
  stop: () => Promise<void>;
}>;

const headOf = (e: EventEnvelope): StreamHead => ({
  tenant: e.tenantId,
  streamId: e.streamId,
  version: e.version,
  hash: e.hash,
});

/**
 * Signs each stream's head when a turn ends (TurnCompleted/Cancelled/Failed committed) and, on a
 * timer, the heads that moved since: a subscription on the event store, so every replica's turns
 * are covered once the checkpoint of this subscriber is shared.
 */
export const startCheckpointer = ({
  store,
  checkpoints,
  signer,
  clock = () => new Date(),
  intervalMs = 60_000,
  subscriberId = 'audit-checkpoints',
  pollIntervalMs,
  onError,
}: CheckpointerDeps): Checkpointer => {
  const dirty = new Map<string, StreamHead>();
  const signHead = async (head: StreamHead): Promise<void> => {
    await checkpoints.save(signer.sign(head, clock()));
  };
  const subscription: EventSubscription = store.subscribe({
    subscriberId,
    ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }),
    ...(onError === undefined ? {} : { onError }),
    handler: async (event) => {
      const key = JSON.stringify([event.tenantId, event.streamId]);
      if (TURN_END_EVENTS.includes(event.type)) {
        await signHead(headOf(event));
        dirty.delete(key);
      } else dirty.set(key, headOf(event));
    },
  });
  const flush = async (): Promise<number> => {
    const heads = [...dirty.entries()];
    for (const [key, head] of heads) {
      await signHead(head);
      if (dirty.get(key) === head) dirty.delete(key);
    }
    return heads.length;
  };
  const timer =
    intervalMs > 0
      ? setInterval(() => {
          flush().catch((error: unknown) => onError?.(error));
        }, intervalMs)
      : undefined;
  timer?.unref();
  return {
    caughtUp: subscription.caughtUp,
    flush,
    stop: async () => {
      if (timer !== undefined) clearInterval(timer);
      await subscription.stop();
    },
  };
};
