import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Lease } from '@agentledger/sessions';
import { createLeaseKeeper, type LeaseKeeperDeps } from './lease-keeper.ts';

const TTL = 30_000;

/** A leases port that hands out epochs and logs every call; `renewable` decides renewals. */
const fakeLeases = () => {
  const log: string[] = [];
  let epoch = 0;
  const state = { renewable: true, free: true };
  const leases: LeaseKeeperDeps['leases'] = {
    acquire: async (tenantId, sessionId, owner) => {
      log.push(`acquire ${sessionId}`);
      return state.free ? { tenantId, sessionId, owner, epoch: ++epoch } : undefined;
    },
    renew: async (lease) => {
      log.push(`renew ${lease.sessionId}@${lease.epoch}`);
      return state.renewable;
    },
    release: async (lease) => {
      log.push(`release ${lease.sessionId}@${lease.epoch}`);
    },
  };
  return { leases, log, state };
};

describe('lease keeper', () => {
  let now = 0;
  beforeEach(() => {
    vi.useFakeTimers();
    now = 0;
  });
  afterEach(() => vi.useRealTimers());

  const keeperOf = (leases: LeaseKeeperDeps['leases'], lingerMs = 1_000) =>
    createLeaseKeeper({
      leases,
      owner: 'r1',
      ttlMs: TTL,
      lingerMs,
      now: () => now,
      onError: () => undefined,
    });

  it('gives a kept lease to the session’s next run: no release and no acquire between busy turns', async () => {
    const { leases, log } = fakeLeases();
    const keeper = keeperOf(leases);
    const first = (await keeper.take('t', 's'))!;
    keeper.keep(first);
    expect(keeper.kept()).toBe(1);
    now += 500;
    await vi.advanceTimersByTimeAsync(500);
    expect(await keeper.take('t', 's')).toBe(first);
    expect(keeper.kept()).toBe(0);
    keeper.keep(first);
    expect(log).toEqual(['acquire s']);
  });

  it('releases a kept lease once the linger passes; the next run acquires a fresh one', async () => {
    const { leases, log } = fakeLeases();
    const keeper = keeperOf(leases);
    const first = (await keeper.take('t', 's'))!;
    keeper.keep(first);
    await vi.advanceTimersByTimeAsync(999);
    expect(log).toEqual(['acquire s']);
    await vi.advanceTimersByTimeAsync(1);
    expect(log).toEqual(['acquire s', 'release s@1']);
    expect(keeper.kept()).toBe(0);
    expect((await keeper.take('t', 's'))?.epoch).toBe(2);
  });

  it('renews a kept lease last renewed a third of the TTL ago before giving it out; a lost one is replaced', async () => {
    const { leases, log, state } = fakeLeases();
    const keeper = keeperOf(leases, 60_000);
    const first = (await keeper.take('t', 's'))!;
    now += TTL / 3 - 1;
    keeper.keep(first);
    expect(await keeper.take('t', 's')).toBe(first);
    now += 2;
    keeper.keep(first);
    expect(await keeper.take('t', 's')).toBe(first);
    expect(log).toEqual(['acquire s', 'renew s@1']);
    // Renewed just now: good for another third of the TTL without asking.
    keeper.keep(first);
    now += TTL / 3 - 1;
    expect(await keeper.take('t', 's')).toBe(first);
    keeper.keep(first);
    now += TTL;
    state.renewable = false;
    const second = await keeper.take('t', 's');
    expect(second?.epoch).toBe(2);
    expect(log).toEqual(['acquire s', 'renew s@1', 'renew s@1', 'acquire s']);
  });

  it('keeps at most a third of the TTL, releases every kept lease on request, and takes none another owner holds', async () => {
    const { leases, log, state } = fakeLeases();
    const keeper = keeperOf(leases, 60 * TTL);
    const [a, b] = [(await keeper.take('t', 'a'))!, (await keeper.take('t', 'b'))!];
    keeper.keep(a);
    keeper.keep(b);
    await vi.advanceTimersByTimeAsync(TTL / 3);
    expect(log.filter((line) => line.startsWith('release'))).toEqual(['release a@1', 'release b@2']);
    const c = (await keeper.take('t', 'c'))!;
    keeper.keep(c);
    await keeper.releaseKept();
    expect(log.at(-1)).toBe('release c@3');
    expect(keeper.kept()).toBe(0);
    await vi.advanceTimersByTimeAsync(TTL);
    expect(log.filter((line) => line === 'release c@3')).toHaveLength(1);
    state.free = false;
    expect(await keeper.take('t', 'd')).toBeUndefined();
  });

  it('releases at once with no linger, and releases a lease a run lost or failed with', async () => {
    const { leases, log } = fakeLeases();
    const keeper = keeperOf(leases, 0);
    const lease: Lease = (await keeper.take('t', 's'))!;
    keeper.keep(lease);
    await vi.advanceTimersByTimeAsync(0);
    expect(log).toEqual(['acquire s', 'release s@1']);
    const next = (await keeper.take('t', 's'))!;
    await keeper.release(next);
    expect(log.at(-1)).toBe('release s@2');
    expect(keeper.kept()).toBe(0);
  });
});
