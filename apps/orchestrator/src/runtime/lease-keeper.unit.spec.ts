import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Lease } from '@agentledger/sessions';
import { createLeaseKeeper, type LeaseKeeperDeps } from './lease-keeper.ts';

const TTL = 30_000;

/** A leases port that hands out epochs and logs every call; `state` decides renewals. */
const fakeLeases = () => {
  const log: string[] = [];
  let epoch = 0;
  const state = {
    renewable: true,
    free: true,
    /** Sessions another owner has taken: their renewals fail. */
    taken: new Set<string>(),
    /** Set: renewals throw it. */
    failure: undefined as Error | undefined,
    /** Set: renewals wait for it. */
    gate: undefined as Promise<void> | undefined,
  };
  const leases: LeaseKeeperDeps['leases'] = {
    acquire: async (tenantId, sessionId, owner) => {
      log.push(`acquire ${sessionId}`);
      return state.free ? { tenantId, sessionId, owner, epoch: ++epoch } : undefined;
    },
    renew: async (many) => {
      log.push(`renew ${many.map((lease) => `${lease.sessionId}@${lease.epoch}`).join(',')}`);
      await state.gate;
      if (state.failure) throw state.failure;
      return state.renewable ? many.filter((lease) => !state.taken.has(lease.sessionId)) : [];
    },
    release: async (lease) => {
      log.push(`release ${lease.sessionId}@${lease.epoch}`);
    },
  };
  return { leases, log, state };
};

const ignore = (): void => undefined;

describe('lease keeper', () => {
  let now = 0;
  beforeEach(() => {
    vi.useFakeTimers();
    now = 0;
  });
  afterEach(() => vi.useRealTimers());

  const keeperOf = (
    leases: LeaseKeeperDeps['leases'],
    lingerMs = 1_000,
    onError: LeaseKeeperDeps['onError'] = ignore,
  ) =>
    createLeaseKeeper({
      leases,
      owner: 'r1',
      ttlMs: TTL,
      lingerMs,
      now: () => now,
      onError,
    });
  /** Moves the keeper's clock and its timers together. */
  const advance = async (ms: number) => {
    now += ms;
    await vi.advanceTimersByTimeAsync(ms);
  };

  it('gives a kept lease to the session’s next run: no release and no acquire between busy turns', async () => {
    const { leases, log } = fakeLeases();
    const keeper = keeperOf(leases);
    const first = (await keeper.take('t', 's', ignore))!;
    keeper.keep(first);
    expect(keeper.kept()).toBe(1);
    now += 500;
    await vi.advanceTimersByTimeAsync(500);
    expect(await keeper.take('t', 's', ignore)).toBe(first);
    expect(keeper.kept()).toBe(0);
    keeper.keep(first);
    expect(log).toEqual(['acquire s']);
  });

  it('releases a kept lease once the linger passes; the next run acquires a fresh one', async () => {
    const { leases, log } = fakeLeases();
    const keeper = keeperOf(leases);
    const first = (await keeper.take('t', 's', ignore))!;
    keeper.keep(first);
    await vi.advanceTimersByTimeAsync(999);
    expect(log).toEqual(['acquire s']);
    await vi.advanceTimersByTimeAsync(1);
    expect(log).toEqual(['acquire s', 'release s@1']);
    expect(keeper.kept()).toBe(0);
    expect((await keeper.take('t', 's', ignore))?.epoch).toBe(2);
  });

  it('renews a kept lease last renewed a third of the TTL ago before giving it out; a lost one is replaced', async () => {
    const { leases, log, state } = fakeLeases();
    const keeper = keeperOf(leases, 60_000);
    const first = (await keeper.take('t', 's', ignore))!;
    now += TTL / 3 - 1;
    keeper.keep(first);
    expect(await keeper.take('t', 's', ignore)).toBe(first);
    now += 2;
    keeper.keep(first);
    expect(await keeper.take('t', 's', ignore)).toBe(first);
    expect(log).toEqual(['acquire s', 'renew s@1']);
    // Renewed just now: good for another third of the TTL without asking.
    keeper.keep(first);
    now += TTL / 3 - 1;
    expect(await keeper.take('t', 's', ignore)).toBe(first);
    keeper.keep(first);
    now += TTL;
    state.renewable = false;
    const second = await keeper.take('t', 's', ignore);
    expect(second?.epoch).toBe(2);
    expect(log).toEqual(['acquire s', 'renew s@1', 'renew s@1', 'acquire s']);
  });

  it('keeps at most a third of the TTL, releases every kept lease on request, and takes none another owner holds', async () => {
    const { leases, log, state } = fakeLeases();
    const keeper = keeperOf(leases, 60 * TTL);
    const [a, b] = [(await keeper.take('t', 'a', ignore))!, (await keeper.take('t', 'b', ignore))!];
    keeper.keep(a);
    keeper.keep(b);
    await vi.advanceTimersByTimeAsync(TTL / 3);
    expect(log.filter((line) => line.startsWith('release'))).toEqual(['release a@1', 'release b@2']);
    const c = (await keeper.take('t', 'c', ignore))!;
    keeper.keep(c);
    await keeper.releaseKept();
    expect(log.at(-1)).toBe('release c@3');
    expect(keeper.kept()).toBe(0);
    await vi.advanceTimersByTimeAsync(TTL);
    expect(log.filter((line) => line === 'release c@3')).toHaveLength(1);
    state.free = false;
    expect(await keeper.take('t', 'd', ignore)).toBeUndefined();
  });

  it('releases at once with no linger, and releases a lease a run lost or failed with', async () => {
    const { leases, log } = fakeLeases();
    const keeper = keeperOf(leases, 0);
    const lease: Lease = (await keeper.take('t', 's', ignore))!;
    keeper.keep(lease);
    await vi.advanceTimersByTimeAsync(0);
    expect(log).toEqual(['acquire s', 'release s@1']);
    const next = (await keeper.take('t', 's', ignore))!;
    await keeper.release(next);
    expect(log.at(-1)).toBe('release s@2');
    expect(keeper.kept()).toBe(0);
  });
  it('renews every lease it holds, the runs’ and the kept, in one call each third of the TTL, whenever each run began', async () => {
    const { leases, log } = fakeLeases();
    const keeper = keeperOf(leases);
    keeper.start();
    await advance(TTL / 3);
    expect(log).toEqual([]); // nothing held: no statement
    const a = (await keeper.take('t', 'a', ignore))!;
    await advance(TTL / 3 - 10);
    // b's run takes a's kept lease when it is almost a third of the TTL old: no renewal yet...
    keeper.keep(a);
    const b = (await keeper.take('t', 'b', ignore))!;
    expect(await keeper.take('t', 'a', ignore)).toBe(a);
    await advance(9);
    expect(log).toEqual(['acquire a', 'acquire b']);
    // ...and the heartbeat renews both within that third, not a third after the run began.
    await advance(1);
    expect(log).toEqual(['acquire a', 'acquire b', 'renew a@1,b@2']);
    keeper.keep(b);
    await advance(TTL / 3);
    expect(log.at(-1)).toBe('renew a@1');
    expect(log.filter((line) => line.startsWith('renew'))).toHaveLength(2);
    keeper.stop();
    await advance(TTL);
    expect(log.filter((line) => line.startsWith('renew'))).toHaveLength(2);
  });

  it('tells a run the heartbeat finds its lease taken, once, and forgets it: nothing to keep, the next run acquires', async () => {
    const { leases, log, state } = fakeLeases();
    const keeper = keeperOf(leases, TTL);
    keeper.start();
    const lost: Lease[] = [];
    const a = (await keeper.take('t', 'a', (lease) => lost.push(lease)))!;
    const b = (await keeper.take('t', 'b', (lease) => lost.push(lease)))!;
    const c = (await keeper.take('t', 'c', ignore))!;
    await advance(5);
    keeper.keep(c);
    expect(keeper.kept()).toBe(1);
    state.taken = new Set(['a', 'c']);
    await advance(TTL / 3 - 5);
    expect(lost).toEqual([a]);
    expect(keeper.kept()).toBe(0);
    await advance(TTL / 3);
    expect(lost).toEqual([a]);
    expect(log.slice(-2)).toEqual(['renew a@1,b@2,c@3', 'renew b@2']);
    keeper.keep(a);
    expect(keeper.kept()).toBe(0);
    state.taken = new Set();
    expect((await keeper.take('t', 'a', ignore))?.epoch).toBe(4);
    expect(b.epoch).toBe(2);
  });

  it('reports a failed heartbeat and keeps its leases for the next; a slow one is never overlapped', async () => {
    const { leases, log, state } = fakeLeases();
    const errors: string[] = [];
    const keeper = keeperOf(leases, 1_000, (what, error) =>
      errors.push(`${what}: ${(error as Error).message}`),
    );
    keeper.start();
    const lost: Lease[] = [];
    await keeper.take('t', 'a', (lease) => lost.push(lease));
    state.failure = new Error('connection reset');
    await advance(TTL / 3);
    expect(errors).toEqual(['lease heartbeat: connection reset']);
    state.failure = undefined;
    let open = (): void => undefined;
    state.gate = new Promise((resolve) => (open = resolve));
    await advance(TTL / 3);
    await advance(TTL / 3);
    expect(log.filter((line) => line.startsWith('renew'))).toHaveLength(2);
    open();
    state.gate = undefined;
    await advance(TTL / 3);
    expect(log.filter((line) => line.startsWith('renew'))).toHaveLength(3);
    expect(lost).toEqual([]);
  });
});
