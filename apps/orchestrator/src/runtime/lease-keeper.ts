import { sessionStreamId } from '@agentledger/events';
import type { Lease, SessionLeases } from '@agentledger/sessions';

export type LeaseKeeperDeps = Readonly<{
  leases: Pick<SessionLeases, 'acquire' | 'renew' | 'release'>;
  /** This process incarnation's lease owner. */
  owner: string;
  ttlMs: number;
  /** How long a lease is kept after a run ends (at most a third of the TTL). */
  lingerMs: number;
  /** Milliseconds, monotonic enough to age a renewal. */
  now: () => number;
  onError: (sessionId: string, error: unknown) => void;
}>;

/**
 * The leases of this replica's session runs. A run that ends keeps its lease for `lingerMs`, so the
 * next turn of a busy session starts without a release and an acquire (two round trips each turn);
 * a session not run again within that time is released then. Keeping is safe by the fence: a kept
 * lease that expired and was taken by another replica fails its holder's first append
 * (`LeaseLost`) and never writes.
 */
export type LeaseKeeper = Readonly<{
  /**
   * The session's kept lease (renewed first when its last renewal is older than a third of the
   * TTL), else a fresh one; undefined when another owner holds it.
   */
  take: (tenantId: string, sessionId: string) => Promise<Lease | undefined>;
  /** Renews a lease a run holds; false: it was lost. */
  renew: (lease: Lease) => Promise<boolean>;
  /** The run ended with the lease held: keep it for the next run, release it after `lingerMs`. */
  keep: (lease: Lease) => void;
  /** Releases a lease now (a run that failed or lost it). */
  release: (lease: Lease) => Promise<void>;
  /** Releases every kept lease now (partitions revoked); `stop` also forgets them. */
  releaseKept: () => Promise<void>;
  /** Kept leases, for metrics and tests. */
  kept: () => number;
}>;

type Kept = { lease: Lease; timer: NodeJS.Timeout };

export const createLeaseKeeper = (deps: LeaseKeeperDeps): LeaseKeeper => {
  const lingerMs = Math.min(deps.lingerMs, Math.floor(deps.ttlMs / 3));
  const kept = new Map<string, Kept>();
  // When each lease this keeper gave out was last acquired or renewed (by key).
  const renewedAt = new Map<string, number>();
  const keyOf = (lease: Pick<Lease, 'tenantId' | 'sessionId'>): string =>
    sessionStreamId(lease.tenantId, lease.sessionId);

  const release = async (lease: Lease): Promise<void> => {
    renewedAt.delete(keyOf(lease));
    await deps.leases.release(lease).catch((error: unknown) => deps.onError(lease.sessionId, error));
  };

  const renew = async (lease: Lease): Promise<boolean> => {
    const at = deps.now();
    const held = await deps.leases.renew(lease, deps.ttlMs);
    if (held) renewedAt.set(keyOf(lease), at);
    return held;
  };

  const unkeep = (key: string): Lease | undefined => {
    const entry = kept.get(key);
    if (entry === undefined) return undefined;
    kept.delete(key);
    clearTimeout(entry.timer);
    return entry.lease;
  };

  return {
    take: async (tenantId, sessionId) => {
      const key = sessionStreamId(tenantId, sessionId);
      const lease = unkeep(key);
      if (lease !== undefined) {
        const age = deps.now() - (renewedAt.get(key) ?? Number.NEGATIVE_INFINITY);
        if (age < deps.ttlMs / 3 || (await renew(lease))) return lease;
        renewedAt.delete(key);
      }
      const at = deps.now();
      const fresh = await deps.leases.acquire(tenantId, sessionId, deps.owner, deps.ttlMs);
      if (fresh !== undefined) renewedAt.set(key, at);
      return fresh;
    },
    renew,
    keep: (lease) => {
      const key = keyOf(lease);
      unkeep(key);
      if (lingerMs <= 0) {
        void release(lease);
        return;
      }
      const timer = setTimeout(() => {
        if (kept.get(key)?.lease !== lease) return;
        kept.delete(key);
        void release(lease);
      }, lingerMs);
      timer.unref();
      kept.set(key, { lease, timer });
    },
    release,
    releaseKept: async () => {
      const leases = [...kept.keys()].map(unkeep).filter((lease) => lease !== undefined);
      await Promise.all(leases.map(release));
    },
    kept: () => kept.size,
  };
};
