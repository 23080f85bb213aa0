import type { DeltaChannel, DeltaHandler } from './session-delta.ts';

/** The embedded channel: publish hands each delta to every subscriber, in order, synchronously. */
export const createInProcessDeltaChannel = (): DeltaChannel => {
  const handlers = new Set<DeltaHandler>();
  return {
    publish: async (deltas) => {
      for (const delta of deltas) for (const handler of [...handlers]) handler(delta);
    },
    subscribe: async (handler) => {
      const own: DeltaHandler = (delta) => handler(delta);
      handlers.add(own);
      return { stop: async () => void handlers.delete(own) };
    },
    close: async () => handlers.clear(),
  };
};
