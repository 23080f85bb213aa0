import type { Checkpoint, CheckpointStore } from './checkpoints.ts';

/** Checkpoints in process memory (tests, the in-memory event store). */
export const createInMemoryCheckpointStore = (): CheckpointStore => {
  const byStream = new Map<string, Checkpoint[]>();
  const keyOf = (tenant: string, streamId: string): string => JSON.stringify([tenant, streamId]);
  return {
    save: async (checkpoint) => {
      const key = keyOf(checkpoint.tenant, checkpoint.streamId);
      const list = byStream.get(key) ?? [];
      if (list.some((c) => c.version === checkpoint.version && c.keyId === checkpoint.keyId)) return;
      byStream.set(
        key,
        [...list, checkpoint].sort((a, b) => a.version - b.version),
      );
    },
    list: async (tenant, streamId) => [...(byStream.get(keyOf(tenant, streamId)) ?? [])],
  };
};
