import { describe, expect, it } from 'vitest';
import type { Checkpoint, CheckpointStore } from './checkpoints.ts';

const checkpoint = (over: Partial<Checkpoint> = {}): Checkpoint => ({
  tenant: 'tenant-a',
  streamId: 'session-tenant-a/s1',
  version: 3,
  hash: 'a'.repeat(64),
  keyId: 'k1',
  signature: 'c2lnbmF0dXJl',
  signedAt: '2026-01-01T00:00:01.000Z',
  ...over,
});

/** One suite for every CheckpointStore adapter. */
export const checkpointStoreContract = (name: string, open: () => Promise<CheckpointStore>): void => {
  describe(`CheckpointStore contract: ${name}`, () => {
    it('lists a stream’s checkpoints oldest version first, exactly as saved', async () => {
      const store = await open();
      const streamId = `s-order-${name}`;
      await store.save(checkpoint({ streamId, version: 9 }));
      await store.save(checkpoint({ streamId, version: 2, hash: 'b'.repeat(64) }));
      expect(await store.list('tenant-a', streamId)).toEqual([
        checkpoint({ streamId, version: 2, hash: 'b'.repeat(64) }),
        checkpoint({ streamId, version: 9 }),
      ]);
    });

    it('keeps the first of two saves of one version and key', async () => {
      const store = await open();
      const streamId = `s-twice-${name}`;
      await store.save(checkpoint({ streamId }));
      await store.save(checkpoint({ streamId, signature: 'b3RoZXI=' }));
      expect((await store.list('tenant-a', streamId)).map((c) => c.signature)).toEqual(['c2lnbmF0dXJl']);
    });

    it('never lists another tenant’s checkpoints', async () => {
      const store = await open();
      const streamId = `s-tenant-${name}`;
      await store.save(checkpoint({ streamId, tenant: 'tenant-b' }));
      expect(await store.list('tenant-a', streamId)).toEqual([]);
      expect(await store.list('tenant-b', streamId)).toHaveLength(1);
    });
  });
};
