import { describe, expect, it } from 'vitest';
import type { SessionRow } from '../session-index.ts';
import { expiredLease, freshId, projection, write, type HarnessRef } from './harness.ts';

const TTL = 30_000;
const ALL = 10_000;
const keysOf = (rows: readonly SessionRow[]): string[] =>
  rows.map((row) => `${row.tenantId}/${row.sessionId}`);

/**
 * `SessionRecovery`: the scans a worker runs across tenants (each row names its tenant). Other
 * cases share the database, so these assert on their own sessions only.
 */
export const sessionRecoveryContract = (harness: HarnessRef): void => {
  describe('SessionRecovery', () => {
    it('lists sessions with work and a free or expired lease, in the given partitions only', async () => {
      const tenant = freshId('tenant');
      const [work, idle, leased] = [freshId('work'), freshId('idle'), freshId('leased')];
      await write(harness(), projection(tenant, work, { pendingWork: true, partition: 5 }));
      await write(harness(), projection(tenant, idle, { pendingWork: false, partition: 5 }));
      await write(harness(), projection(tenant, leased, { pendingWork: true, partition: 5 }));
      await harness().index.acquire(tenant, leased, 'owner-live', TTL);
      const inFive = keysOf(await harness().index.recoverable([4, 5], ALL));
      expect(inFive).toContain(`${tenant}/${work}`);
      expect(inFive).not.toContain(`${tenant}/${idle}`);
      expect(inFive).not.toContain(`${tenant}/${leased}`);
      expect(keysOf(await harness().index.recoverable([6, 7], ALL))).not.toContain(`${tenant}/${work}`);
      expect(await harness().index.recoverable([], ALL)).toEqual([]);
      await expiredLease(harness(), tenant, work, 'owner-dead');
      expect(keysOf(await harness().index.recoverable([5], ALL))).toContain(`${tenant}/${work}`);
      expect((await harness().index.recoverable([5], 1)).length).toBeLessThanOrEqual(1);
    });

    it('lists sessions with work whose owner’s lease expired as orphans in any partition, until taken over', async () => {
      const tenant = freshId('tenant');
      const [orphan, live, done] = [freshId('orphan'), freshId('live'), freshId('done')];
      await write(harness(), projection(tenant, orphan, { pendingWork: true, partition: 9 }));
      await write(harness(), projection(tenant, live, { pendingWork: true, partition: 9 }));
      await write(harness(), projection(tenant, done, { pendingWork: false, partition: 9 }));
      await harness().index.acquire(tenant, live, 'owner-live', TTL);
      await expiredLease(harness(), tenant, orphan, 'owner-dead');
      await expiredLease(harness(), tenant, done, 'owner-dead');
      const orphans = keysOf(await harness().index.orphaned(ALL));
      expect(orphans).toContain(`${tenant}/${orphan}`);
      expect(orphans).not.toContain(`${tenant}/${live}`);
      expect(orphans).not.toContain(`${tenant}/${done}`);
      const taken = await harness().index.acquire(tenant, orphan, 'owner-alive', TTL);
      expect(taken?.owner).toBe('owner-alive');
      expect(keysOf(await harness().index.orphaned(ALL))).not.toContain(`${tenant}/${orphan}`);
    });

    it('lists one session id of two tenants as two sessions, each under its own tenant', async () => {
      const [a, b] = [freshId('tenant-a'), freshId('tenant-b')];
      const id = freshId('same');
      await write(harness(), projection(a, id, { pendingWork: true, partition: 2 }));
      await write(harness(), projection(b, id, { pendingWork: true, partition: 2 }));
      await harness().index.acquire(b, id, 'owner-b', TTL);
      const rows = await harness().index.recoverable([2], ALL);
      expect(keysOf(rows)).toContain(`${a}/${id}`);
      expect(keysOf(rows)).not.toContain(`${b}/${id}`);
    });

    it('lists sessions with a deadline by then, in the given partitions or any, without a live lease, until it is cleared', async () => {
      const tenant = freshId('tenant');
      const [waiting, later, leased, none] = [
        freshId('waiting'),
        freshId('later'),
        freshId('leased'),
        freshId('none'),
      ];
      const at = (ms: number) => new Date(harness().now() + ms).toISOString();
      const base = { status: 'awaiting_approval', partition: 3 } as const;
      await write(harness(), projection(tenant, waiting, { ...base, deadlineAt: at(-1_000) }));
      await write(harness(), projection(tenant, later, { ...base, deadlineAt: at(600_000) }));
      await write(harness(), projection(tenant, leased, { ...base, deadlineAt: at(-1_000) }));
      await write(harness(), projection(tenant, none, { ...base, deadlineAt: null }));
      await harness().index.acquire(tenant, leased, 'owner-live', TTL);
      const now = new Date(harness().now());
      const due = keysOf(await harness().index.due([3], now, ALL));
      expect(due).toContain(`${tenant}/${waiting}`);
      expect(due).not.toContain(`${tenant}/${later}`);
      expect(due).not.toContain(`${tenant}/${leased}`);
      expect(due).not.toContain(`${tenant}/${none}`);
      expect(keysOf(await harness().index.due([3], new Date(now.getTime() + 700_000), ALL))).toContain(
        `${tenant}/${later}`,
      );
      expect(keysOf(await harness().index.due([4], now, ALL))).not.toContain(`${tenant}/${waiting}`);
      expect(await harness().index.due([], now, ALL)).toEqual([]);
      const anyPartition = keysOf(await harness().index.due('any', now, ALL));
      expect(anyPartition).toContain(`${tenant}/${waiting}`);
      expect(anyPartition).not.toContain(`${tenant}/${later}`);
      expect(anyPartition).not.toContain(`${tenant}/${leased}`);
      const orphan = freshId('orphan');
      await write(harness(), projection(tenant, orphan, { ...base, deadlineAt: at(-1_000) }));
      await expiredLease(harness(), tenant, orphan, 'owner-dead');
      const afterExpiry = new Date(harness().now());
      expect(keysOf(await harness().index.due([3], afterExpiry, ALL))).toContain(`${tenant}/${orphan}`);
      await write(harness(), projection(tenant, waiting, { ...base, status: 'idle' }));
      expect(keysOf(await harness().index.due([3], now, ALL))).not.toContain(`${tenant}/${waiting}`);
      expect((await harness().index.due([3], now, 1)).length).toBeLessThanOrEqual(1);
    });

    it('lists running sessions without progress since a time as stalled, and no others', async () => {
      const tenant = freshId('tenant');
      const [running, waiting] = [freshId('running'), freshId('waiting')];
      await write(harness(), projection(tenant, running, { status: 'running', pendingWork: true }));
      await write(harness(), projection(tenant, waiting, { status: 'awaiting_input' }));
      const later = new Date(harness().now() + 60_000);
      const stalled = keysOf(await harness().index.stalled(later, ALL));
      expect(stalled).toContain(`${tenant}/${running}`);
      expect(stalled).not.toContain(`${tenant}/${waiting}`);
      const progressedAt = Date.parse((await harness().index.get(tenant, running))!.lastProgressAt);
      expect(keysOf(await harness().index.stalled(new Date(progressedAt - 60_000), ALL))).not.toContain(
        `${tenant}/${running}`,
      );
      expect((await harness().index.stalled(later, 1)).length).toBeLessThanOrEqual(1);
    });
  });
};
