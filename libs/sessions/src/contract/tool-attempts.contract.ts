import { describe, expect, it } from 'vitest';
import { freshId, projection, write, type HarnessRef } from './harness.ts';

/** `ToolAttempts`: one marker per (tenant, session, tool call), whichever lease writes it. */
export const toolAttemptsContract = (harness: HarnessRef): void => {
  describe('ToolAttempts', () => {
    it('marks a tool call’s first attempt only, even from a later lease', async () => {
      const tenant = freshId('tenant');
      const id = freshId('s');
      await write(harness(), projection(tenant, id, { pendingWork: true }));
      const first = (await harness().index.acquire(tenant, id, 'owner-1', 30_000))!;
      expect(await harness().index.markAttempt(first, 'call-1')).toBe(true);
      expect(await harness().index.markAttempt(first, 'call-1')).toBe(false);
      expect(await harness().index.markAttempt(first, 'call-2')).toBe(true);
      await harness().index.release(first);
      const second = (await harness().index.acquire(tenant, id, 'owner-2', 30_000))!;
      expect(await harness().index.markAttempt(second, 'call-1')).toBe(false);
    });

    it('keeps markers of one session id and tool call id in two tenants apart', async () => {
      const [a, b] = [freshId('tenant-a'), freshId('tenant-b')];
      const id = freshId('same');
      await write(harness(), projection(a, id));
      await write(harness(), projection(b, id));
      const leaseA = (await harness().index.acquire(a, id, 'owner-a', 30_000))!;
      const leaseB = (await harness().index.acquire(b, id, 'owner-b', 30_000))!;
      expect(await harness().index.markAttempt(leaseA, 'same-call')).toBe(true);
      expect(await harness().index.markAttempt(leaseB, 'same-call')).toBe(true);
    });
  });
};
