import { deltaKeyOf, type DeltaChannel, type SessionDelta } from '@agentledger/events';

/**
 * Model-output deltas of the sessions this gateway's clients watch (SSE, gRPC StreamEvents). One
 * channel subscription per process, from "now": a watcher gets the deltas published after it
 * registered. Matched on tenant and session, so a client only ever sees its own tenant's.
 */
export type LiveDeltas = Readonly<{
  /** Registers `handler` for the session's deltas; call the result to stop. */
  watch: (tenantId: string, sessionId: string, handler: (delta: SessionDelta) => void) => () => void;
  close: () => Promise<void>;
}>;

/** Subscribes to `channel` (resolves once live) and fans its deltas out to the watchers. */
export const createLiveDeltas = async (channel: DeltaChannel): Promise<LiveDeltas> => {
  const watchers = new Map<string, Set<(delta: SessionDelta) => void>>();
  const subscription = await channel.subscribe((delta) => {
    for (const handler of watchers.get(deltaKeyOf(delta)) ?? []) handler(delta);
  });
  return {
    watch: (tenantId, sessionId, handler) => {
      const key = deltaKeyOf({ tenantId, sessionId });
      const own = (delta: SessionDelta) => handler(delta);
      watchers.set(key, (watchers.get(key) ?? new Set()).add(own));
      return () => {
        const set = watchers.get(key);
        set?.delete(own);
        if (set?.size === 0) watchers.delete(key);
      };
    },
    close: () => subscription.stop(),
  };
};
