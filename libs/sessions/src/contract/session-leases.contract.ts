import { describe, expect, it } from 'vitest';
import { LeaseLost } from '../errors.ts';
import { eventsOf, expiredLease, freshId, projection, write, type HarnessRef } from './harness.ts';

const TTL = 30_000;

/** `SessionLeases`: one holder per session, a fresh epoch per acquisition, stale epochs fenced. */
export const sessionLeasesContract = (harness: HarnessRef): void => {
  describe('SessionLeases', () => {
    const session = async (label: string) => {
      const tenant = freshId('tenant');
      const id = freshId(label);
      const row = projection(tenant, id, { pendingWork: true });
      await write(harness(), row);
      return { tenant, id, row };
    };

    it('takes a free lease with the next epoch and records it on the row; a missing session has none', async () => {
      const { tenant, id } = await session('free');
      const lease = await harness().index.acquire(tenant, id, 'owner-1', TTL);
      expect(lease).toEqual({ tenantId: tenant, sessionId: id, owner: 'owner-1', epoch: 1 });
      const row = await harness().index.get(tenant, id);
      expect(row).toMatchObject({ leaseOwner: 'owner-1', leaseEpoch: 1 });
      expect(Date.parse(row!.leaseExpiresAt!)).toBeGreaterThan(harness().now());
      expect(await harness().index.acquire(tenant, freshId('missing'), 'owner-1', TTL)).toBeUndefined();
    });

    it('gives a free lease to exactly one of many owners racing for it', async () => {
      const { tenant, id } = await session('race');
      const claims = await Promise.all(
        Array.from({ length: 20 }, (_, i) => harness().index.acquire(tenant, id, `owner-${i}`, TTL)),
      );
      const winners = claims.filter((claim) => claim !== undefined);
      expect(winners).toHaveLength(1);
      expect(winners[0]!.epoch).toBe(1);
      expect(await harness().index.get(tenant, id)).toMatchObject({
        leaseOwner: winners[0]!.owner,
        leaseEpoch: 1,
      });
    });

    it('refuses a held lease to another owner; the same owner gets a fresh epoch that fences its earlier one', async () => {
      const { tenant, id, row } = await session('held');
      const first = (await harness().index.acquire(tenant, id, 'owner-1', TTL))!;
      expect(await harness().index.acquire(tenant, id, 'owner-2', TTL)).toBeUndefined();
      const second = (await harness().index.acquire(tenant, id, 'owner-1', TTL))!;
      expect(second.epoch).toBe(first.epoch + 1);
      const before = await eventsOf(harness(), row);
      await expect(write(harness(), { ...row, version: 9 }, { lease: first })).rejects.toBeInstanceOf(
        LeaseLost,
      );
      expect(await eventsOf(harness(), row)).toBe(before);
      expect(await harness().index.renew([first], TTL)).toEqual([]);
      await write(harness(), { ...row, version: 2 }, { lease: second });
      expect(await harness().index.get(tenant, id)).toMatchObject({ version: 2, leaseEpoch: second.epoch });
    });

    it('lets another owner take an expired lease; the stale holder can neither append, renew nor release', async () => {
      const { tenant, id, row } = await session('expired');
      const stale = await expiredLease(harness(), tenant, id, 'owner-dead');
      const current = (await harness().index.acquire(tenant, id, 'owner-alive', TTL))!;
      expect(current.epoch).toBe(stale.epoch + 1);
      const before = await eventsOf(harness(), row);
      await expect(write(harness(), { ...row, version: 9 }, { lease: stale })).rejects.toBeInstanceOf(
        LeaseLost,
      );
      expect(await eventsOf(harness(), row)).toBe(before);
      expect(await harness().index.renew([stale], TTL)).toEqual([]);
      await harness().index.release(stale);
      expect(await harness().index.get(tenant, id)).toMatchObject({
        leaseOwner: 'owner-alive',
        leaseEpoch: current.epoch,
        version: 1,
      });
      await write(harness(), { ...row, version: 2 }, { lease: current });
      expect((await harness().index.get(tenant, id))?.version).toBe(2);
    });

    it('gives an expired lease to exactly one of many owners racing to take it over', async () => {
      const { tenant, id } = await session('takeover');
      const stale = await expiredLease(harness(), tenant, id, 'owner-dead');
      const claims = await Promise.all(
        Array.from({ length: 10 }, (_, i) => harness().index.acquire(tenant, id, `owner-${i}`, TTL)),
      );
      const winners = claims.filter((claim) => claim !== undefined);
      expect(winners).toHaveLength(1);
      expect(winners[0]!.epoch).toBe(stale.epoch + 1);
    });

    it('fences a stale holder’s appends racing the new holder’s: every stale one fails, every current one lands', async () => {
      const { tenant, id, row } = await session('fenced-race');
      const stale = await expiredLease(harness(), tenant, id, 'owner-dead');
      const current = (await harness().index.acquire(tenant, id, 'owner-alive', TTL))!;
      const before = await eventsOf(harness(), row);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          write(harness(), { ...row, version: 2 + i }, { lease: i % 2 === 0 ? stale : current }),
        ),
      );
      const staleOutcomes = outcomes.filter((_, i) => i % 2 === 0);
      const currentOutcomes = outcomes.filter((_, i) => i % 2 === 1);
      expect(staleOutcomes.every((o) => o.status === 'rejected' && o.reason instanceof LeaseLost)).toBe(true);
      expect(currentOutcomes.map((o) => o.status)).toEqual(Array(5).fill('fulfilled'));
      expect(await eventsOf(harness(), row)).toBe(before + 5);
      expect(await harness().index.get(tenant, id)).toMatchObject({
        leaseOwner: 'owner-alive',
        leaseEpoch: current.epoch,
      });
    });

    it('fences a stale lease the same way whether the write is declared to the database or run inline', async () => {
      const { tenant, id, row } = await session('fenced-both');
      const stale = (await harness().index.acquire(tenant, id, 'owner-1', TTL))!;
      const current = (await harness().index.acquire(tenant, id, 'owner-1', TTL))!;
      const before = await eventsOf(harness(), row);
      for (const via of ['inline', 'declared'] as const) {
        await expect(write(harness(), { ...row, version: 7 }, { lease: stale, via })).rejects.toBeInstanceOf(
          LeaseLost,
        );
        await write(harness(), { ...row, version: 2 }, { lease: current, via });
      }
      expect(await eventsOf(harness(), row)).toBe(before + 2);
      expect(await harness().index.get(tenant, id)).toMatchObject({ version: 2, leaseEpoch: current.epoch });
    });

    it('renews a held lease forward and refuses a renewal after it was taken', async () => {
      const { tenant, id } = await session('renew');
      const lease = (await harness().index.acquire(tenant, id, 'owner-1', 1_000))!;
      const before = Date.parse((await harness().index.get(tenant, id))!.leaseExpiresAt!);
      expect(await harness().index.renew([lease], 600_000)).toEqual([lease]);
      const after = Date.parse((await harness().index.get(tenant, id))!.leaseExpiresAt!);
      expect(after).toBeGreaterThan(before);
      expect(after).toBeGreaterThan(harness().now() + 500_000);
      await harness().index.release(lease);
      const next = (await harness().index.acquire(tenant, id, 'owner-2', TTL))!;
      expect(await harness().index.renew([lease], TTL)).toEqual([]);
      expect((await harness().index.get(tenant, id))?.leaseOwner).toBe(next.owner);
    });

    it('renews many leases at once: each one still held, in two tenants, and none taken, released or stale', async () => {
      const held = await session('many-held');
      const other = await session('many-other');
      const taken = await session('many-taken');
      const released = await session('many-released');
      const owned = async ({ tenant, id }: { tenant: string; id: string }, ttl = 1_000) =>
        (await harness().index.acquire(tenant, id, 'owner-1', ttl))!;
      const [a, b, r] = [await owned(held), await owned(other), await owned(released)];
      // Same session id in another tenant: its lease is a different row.
      await write(harness(), projection(other.tenant, held.id));
      const twin = (await harness().index.acquire(other.tenant, held.id, 'owner-1', 1_000))!;
      const stale = await expiredLease(harness(), taken.tenant, taken.id, 'owner-1');
      await harness().index.acquire(taken.tenant, taken.id, 'owner-2', TTL);
      await harness().index.release(r);
      const renewed = await harness().index.renew(
        [a, stale, b, r, twin, { ...a, epoch: a.epoch + 1 }],
        600_000,
      );
      expect(renewed).toEqual([a, b, twin]);
      for (const [tenant, id] of [
        [held.tenant, held.id],
        [other.tenant, other.id],
        [other.tenant, held.id],
      ] as const)
        expect(Date.parse((await harness().index.get(tenant, id))!.leaseExpiresAt!)).toBeGreaterThan(
          harness().now() + 500_000,
        );
      expect(await harness().index.get(taken.tenant, taken.id)).toMatchObject({ leaseOwner: 'owner-2' });
      expect((await harness().index.get(released.tenant, released.id))?.leaseOwner).toBeNull();
      expect(await harness().index.renew([], TTL)).toEqual([]);
    });

    it('releases a lease but keeps its epoch; an append without a lease leaves a held lease alone', async () => {
      const { tenant, id, row } = await session('release');
      const lease = (await harness().index.acquire(tenant, id, 'owner-1', TTL))!;
      await write(harness(), { ...row, version: 2 });
      expect(await harness().index.get(tenant, id)).toMatchObject({ leaseOwner: 'owner-1', leaseEpoch: 1 });
      await harness().index.release(lease);
      const released = await harness().index.get(tenant, id);
      expect(released).toMatchObject({ leaseOwner: null, leaseExpiresAt: null, leaseEpoch: 1 });
      await expect(write(harness(), { ...row, version: 3 }, { lease })).rejects.toBeInstanceOf(LeaseLost);
      expect((await harness().index.acquire(tenant, id, 'owner-2', TTL))?.epoch).toBe(2);
    });

    it('releases every lease of one owner, in any tenant, and no one else’s', async () => {
      const owner = freshId('owner-stopping');
      const mine = [await session('all-1'), await session('all-2')];
      const theirs = await session('all-3');
      for (const { tenant, id } of mine) await harness().index.acquire(tenant, id, owner, TTL);
      await harness().index.acquire(theirs.tenant, theirs.id, 'owner-other', TTL);
      expect(await harness().index.releaseAll(owner)).toBe(2);
      for (const { tenant, id } of mine)
        expect((await harness().index.get(tenant, id))?.leaseOwner).toBeNull();
      expect((await harness().index.get(theirs.tenant, theirs.id))?.leaseOwner).toBe('owner-other');
      expect(await harness().index.releaseAll(owner)).toBe(0);
    });

    it('keeps the leases of one session id in two tenants apart', async () => {
      const [a, b] = [freshId('tenant-a'), freshId('tenant-b')];
      const id = freshId('same');
      await write(harness(), projection(a, id));
      await write(harness(), projection(b, id));
      const leaseA = (await harness().index.acquire(a, id, 'owner-a', TTL))!;
      const leaseB = (await harness().index.acquire(b, id, 'owner-b', TTL))!;
      expect([leaseA.epoch, leaseB.epoch]).toEqual([1, 1]);
      // A's lease fences nothing of B's, and releasing or renewing it touches only A.
      await expect(
        write(harness(), projection(b, id, { version: 2 }), { lease: { ...leaseA, tenantId: b } }),
      ).rejects.toBeInstanceOf(LeaseLost);
      await harness().index.release(leaseA);
      expect((await harness().index.get(b, id))?.leaseOwner).toBe('owner-b');
      expect(await harness().index.renew([{ ...leaseA, tenantId: b }], TTL)).toEqual([]);
      await write(harness(), projection(b, id, { version: 2 }), { lease: leaseB });
      expect((await harness().index.get(a, id))?.version).toBe(1);
      expect((await harness().index.get(b, id))?.version).toBe(2);
    });
  });
};
