import { describe, expect, it } from 'vitest';
import { InvalidCursor } from '../errors.ts';
import type { SessionRow } from '../session-index.ts';
import { eventsOf, freshId, projection, until, write, type HarnessRef } from './harness.ts';

const idsOf = (rows: readonly SessionRow[]): string[] => rows.map((row) => row.sessionId);

/** `SessionReadModel`: rows written by `project` inside appends, read by tenant, paged by cursor. */
export const sessionReadModelContract = (
  harness: HarnessRef,
  { transactional }: { transactional: boolean },
): void => {
  describe('SessionReadModel', () => {
    it('writes the row with its append and updates it on the next, keeping stream, creation and lease', async () => {
      const tenant = freshId('tenant');
      const id = freshId('s');
      await write(harness(), projection(tenant, id, { teamId: 'team-x', partition: 3 }));
      const first = await harness().index.get(tenant, id);
      expect(first).toMatchObject({
        tenantId: tenant,
        sessionId: id,
        streamId: projection(tenant, id).streamId,
        teamId: 'team-x',
        status: 'idle',
        version: 1,
        pendingWork: false,
        partition: 3,
        leaseOwner: null,
        leaseEpoch: 0,
        leaseExpiresAt: null,
      });
      expect(first).not.toHaveProperty('tokensUsed');
      await write(
        harness(),
        projection(tenant, id, {
          status: 'running',
          version: 2,
          pendingWork: true,
          teamId: 'team-x',
          partition: 3,
          streamId: 'session-elsewhere',
        }),
      );
      const second = await harness().index.get(tenant, id);
      expect(second).toMatchObject({ status: 'running', version: 2, pendingWork: true });
      expect(second?.streamId).toBe(first?.streamId);
      expect(second?.createdAt).toBe(first?.createdAt);
      expect(Date.parse(second!.lastProgressAt)).toBeGreaterThanOrEqual(Date.parse(first!.lastProgressAt));
    });

    it('keys rows by tenant: one session id in two tenants is two rows, and a third tenant sees none', async () => {
      const [a, b, c] = [freshId('tenant-a'), freshId('tenant-b'), freshId('tenant-c')];
      const id = freshId('same');
      await write(harness(), projection(a, id, { version: 5, teamId: 'team-a' }));
      await write(harness(), projection(b, id, { version: 1, teamId: 'team-b' }));
      expect(await harness().index.get(a, id)).toMatchObject({ tenantId: a, version: 5, teamId: 'team-a' });
      expect(await harness().index.get(b, id)).toMatchObject({ tenantId: b, version: 1, teamId: 'team-b' });
      expect(await harness().index.get(c, id)).toBeUndefined();
      expect((await harness().index.list({ tenantId: c, limit: 10 })).items).toEqual([]);
    });

    it('pages a tenant’s sessions by cursor in creation order: every row once, the last page without a cursor', async () => {
      const tenant = freshId('tenant');
      const ids = Array.from({ length: 5 }, (_, i) => `p${i}-${freshId('s')}`);
      for (const id of ids) await write(harness(), projection(tenant, id));
      // Updating a listed row between pages neither moves it nor repeats it.
      const first = await harness().index.list({ tenantId: tenant, limit: 2 });
      await write(harness(), projection(tenant, ids[0]!, { version: 2, status: 'running' }));
      const second = await harness().index.list({ tenantId: tenant, limit: 2, cursor: first.nextCursor! });
      const third = await harness().index.list({ tenantId: tenant, limit: 2, cursor: second.nextCursor! });
      expect([idsOf(first.items), idsOf(second.items), idsOf(third.items)]).toEqual([
        ids.slice(0, 2),
        ids.slice(2, 4),
        ids.slice(4),
      ]);
      expect(third.nextCursor).toBeNull();
      const whole = await harness().index.list({ tenantId: tenant, limit: 5 });
      expect(idsOf(whole.items)).toEqual(ids);
      expect(whole.nextCursor).toBeNull();
    });

    it('pages rows created in one transaction (same creation time) without losing or repeating any', async () => {
      const tenant = freshId('tenant');
      const ids = Array.from({ length: 10 }, (_, i) => `t-${String(i).padStart(2, '0')}-${freshId('s')}`);
      await harness().store.append(projection(tenant, ids[0]!).streamId, [{ type: 'Probe', data: {} }], {
        tenantId: tenant,
        expectedVersion: 'any',
        inline: async ({ tx }) => {
          for (const id of ids) await harness().index.project(tx, projection(tenant, id));
        },
      });
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 12; page += 1) {
        const result = await harness().index.list({
          tenantId: tenant,
          limit: 1,
          ...(cursor ? { cursor } : {}),
        });
        seen.push(...idsOf(result.items));
        if (result.nextCursor === null) break;
        cursor = result.nextCursor;
      }
      expect(seen).toEqual(ids);
    });

    it('filters by status and team within the tenant only', async () => {
      const [tenant, other] = [freshId('tenant'), freshId('other')];
      const [runningX, idleX, runningY] = [freshId('rx'), freshId('ix'), freshId('ry')];
      await write(harness(), projection(tenant, runningX, { status: 'running', teamId: 'team-x' }));
      await write(harness(), projection(tenant, idleX, { status: 'idle', teamId: 'team-x' }));
      await write(harness(), projection(tenant, runningY, { status: 'running', teamId: 'team-y' }));
      await write(harness(), projection(other, freshId('o'), { status: 'running', teamId: 'team-x' }));
      const list = (filter: { status?: 'running'; teamId?: string }) =>
        harness()
          .index.list({ tenantId: tenant, limit: 10, ...filter })
          .then((page) => idsOf(page.items).sort());
      expect(await list({ status: 'running' })).toEqual([runningX, runningY].sort());
      expect(await list({ teamId: 'team-x' })).toEqual([runningX, idleX].sort());
      expect(await list({ status: 'running', teamId: 'team-x' })).toEqual([runningX]);
      expect(await list({})).toHaveLength(3);
    });

    it('filters by creation time (after inclusive, before exclusive) and pages the filtered rows by cursor', async () => {
      const [tenant, other] = [freshId('tenant'), freshId('other')];
      const ids = Array.from({ length: 6 }, (_, i) => `d${i}-${freshId('s')}`);
      for (const id of ids) {
        // Distinct milliseconds on the adapter's clock, so each row's listed time orders it alone.
        const before = harness().now();
        await until('the adapter clock to move', () =>
          Promise.resolve(harness().now() > before + 1 ? true : undefined),
        );
        await write(harness(), projection(tenant, id));
      }
      await write(harness(), projection(other, freshId('o')));
      const created = (await harness().index.list({ tenantId: tenant, limit: 10 })).items.map(
        (row) => new Date(row.createdAt),
      );
      expect(created).toHaveLength(6);
      const walk = async (filter: { createdAfter?: Date; createdBefore?: Date }): Promise<string[]> => {
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 10; page += 1) {
          const result = await harness().index.list({
            tenantId: tenant,
            limit: 2,
            ...filter,
            ...(cursor ? { cursor } : {}),
          });
          seen.push(...idsOf(result.items));
          if (result.nextCursor === null) return seen;
          cursor = result.nextCursor;
        }
        throw new Error('the cursor never ended');
      };
      expect(await walk({ createdAfter: created[2]! })).toEqual(ids.slice(2));
      expect(await walk({ createdBefore: created[4]! })).toEqual(ids.slice(0, 4));
      expect(await walk({ createdAfter: created[1]!, createdBefore: created[5]! })).toEqual(ids.slice(1, 5));
      expect(await walk({ createdAfter: new Date(created[5]!.getTime() + 60_000) })).toEqual([]);
      const page = await harness().index.list({
        tenantId: tenant,
        limit: 10,
        createdAfter: created[3]!,
        status: 'running',
      });
      expect(page).toEqual({ items: [], nextCursor: null });
    });

    it('never lets a cursor reach another tenant’s rows', async () => {
      const [a, b] = [freshId('tenant-a'), freshId('tenant-b')];
      for (const id of ['a1', 'a2', 'a3']) await write(harness(), projection(a, `${id}-${freshId('s')}`));
      const bOnly = freshId('b1');
      await write(harness(), projection(b, bOnly));
      const pageOfA = await harness().index.list({ tenantId: a, limit: 1 });
      const asB = await harness().index.list({ tenantId: b, limit: 10, cursor: pageOfA.nextCursor! });
      expect(asB.items.every((row) => row.tenantId === b)).toBe(true);
    });

    it('refuses an undecodable cursor', async () => {
      const tenant = freshId('tenant');
      for (const cursor of ['not-a-cursor', Buffer.from('[1,2]').toString('base64url')])
        await expect(harness().index.list({ tenantId: tenant, limit: 10, cursor })).rejects.toBeInstanceOf(
          InvalidCursor,
        );
    });

    if (transactional)
      it('writes nothing when the append rolls back after the projection', async () => {
        const tenant = freshId('tenant');
        const id = freshId('s');
        const row = projection(tenant, id);
        await expect(write(harness(), row, { fail: true })).rejects.toThrow('rolled back');
        expect(await harness().index.get(tenant, id)).toBeUndefined();
        expect(await eventsOf(harness(), row)).toBe(0);
        await write(harness(), row);
        await expect(
          write(harness(), { ...row, version: 2, status: 'running' }, { fail: true }),
        ).rejects.toThrow('rolled back');
        expect(await harness().index.get(tenant, id)).toMatchObject({ version: 1, status: 'idle' });
      });
  });
};
