import { describe, expect, it } from 'vitest';
import { freshId, projection, write, type HarnessRef } from './harness.ts';

/** `TenantUsage`: model tokens per tenant per UTC day, counted by the projections that carry them. */
export const tenantUsageContract = (
  harness: HarnessRef,
  { transactional }: { transactional: boolean },
): void => {
  describe('TenantUsage', () => {
    it('adds up the tokens of a tenant’s appends across its sessions, and no other tenant’s', async () => {
      const [tenant, other] = [freshId('tenant'), freshId('other')];
      const [s1, s2] = [freshId('s1'), freshId('s2')];
      expect(await harness().index.tenantTokensToday(tenant)).toBe(0);
      await write(harness(), projection(tenant, s1, { tokensUsed: 42 }));
      await write(harness(), projection(tenant, s1, { version: 2, tokensUsed: 0 }));
      await write(harness(), projection(tenant, s2, { tokensUsed: 8 }));
      await write(harness(), projection(other, s1, { tokensUsed: 1000 }));
      expect(await harness().index.tenantTokensToday(tenant)).toBe(50);
      expect(await harness().index.tenantTokensToday(other)).toBe(1000);
    });

    it('adds the tokens of concurrent appends of many sessions of one tenant, declared or inline', async () => {
      const tenant = freshId('tenant');
      const ids = Array.from({ length: 12 }, (_, i) => freshId(`c${i}`));
      await Promise.all(
        ids.flatMap((id, i) => [
          write(harness(), projection(tenant, id, { tokensUsed: i + 1 }), {
            via: i % 2 ? 'inline' : 'declared',
          }),
          write(harness(), projection(tenant, id, { version: 2 })),
          write(harness(), projection(tenant, id, { version: 3, tokensUsed: 100 })),
        ]),
      );
      expect(await harness().index.tenantTokensToday(tenant)).toBe(78 + 1_200);
    });

    it('counts by UTC day: after a day passes, today starts from zero', async () => {
      const tenant = freshId('tenant');
      const id = freshId('s');
      await write(harness(), projection(tenant, id, { tokensUsed: 30 }));
      expect(await harness().index.tenantTokensToday(tenant)).toBe(30);
      await harness().passDay();
      expect(await harness().index.tenantTokensToday(tenant)).toBe(0);
      await write(harness(), projection(tenant, id, { version: 2, tokensUsed: 5 }));
      await write(harness(), projection(tenant, id, { version: 3, tokensUsed: 7 }));
      expect(await harness().index.tenantTokensToday(tenant)).toBe(12);
    });

    if (transactional)
      it('counts nothing of an append that rolled back', async () => {
        const tenant = freshId('tenant');
        const id = freshId('s');
        await write(harness(), projection(tenant, id, { tokensUsed: 10 }));
        await expect(
          write(harness(), projection(tenant, id, { version: 2, tokensUsed: 1000 }), { fail: true }),
        ).rejects.toThrow('rolled back');
        expect(await harness().index.tenantTokensToday(tenant)).toBe(10);
      });
  });
};
