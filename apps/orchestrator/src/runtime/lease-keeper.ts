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
  /** `what` names what failed: a session's lease release, or the heartbeat. */
  onError: (what: string, error: unknown) => void;
}>;

/**
 * The leases of this replica's session runs. One heartbeat renews every lease the keeper holds, a
 * run's or a kept one, in one statement every third of the TTL: however many sessions run, the
 * renewals cost one statement a tick, and no lease goes longer than a third of the TTL without a
 * renewal sent, whenever its run started. A run whose lease the heartbeat finds taken is told
 * (`onLost`) and stops. A run that ends keeps its lease for `lingerMs`, so the next turn of a busy
 * session starts without a release and an acquire (two round trips each turn); a session not run
 * again within that time is released then. Keeping is safe by the fence: a kept lease that expired
 * and was taken by another replica fails its holder's first append (`LeaseLost`) and never writes.
 */
export type LeaseKeeper = Readonly<{
  /**
   * The session's kept lease (renewed first when its last renewal is older than a third of the
   * TTL), else a fresh one; undefined when another owner holds it. `onLost` is called when the
   * heartbeat finds the lease taken while the run holds it.
   */
  take: (tenantId: string, sessionId: string, onLost: (lease: Lease) => void) => Promise<Lease | undefined>;
  /** The run ended with the lease held: keep it for the next run, release it after `lingerMs`. */
  keep: (lease: Lease) => void;
  /** Releases a lease now (a run that failed or lost it). */
  release: (lease: Lease) => Promise<void>;
  /** Releases every kept lease now (partitions revoked). */
  releaseKept: () => Promise<void>;
  /** Starts the heartbeat; `stop` ends it (after the runs have drained). */
  start: () => void;
  stop: () => void;
  /** Kept leases, for metrics and tests. */
  kept: () => number;
}>;

/** A lease the keeper holds: for a run (`onLost` set) or kept after one (`linger` set). */
type Held = { lease: Lease; renewedAt: number; onLost?: (lease: Lease) => void; linger?: NodeJS.Timeout };

export const createLeaseKeeper = (deps: LeaseKeeperDeps): LeaseKeeper => {
  const third = Math.floor(deps.ttlMs / 3);
  const lingerMs = Math.min(deps.lingerMs, third);
  const held = new Map<string, Held>();
  let heartbeat: NodeJS.Timeout | undefined;
  let beating = false;
  const keyOf = (lease: Pick<Lease, 'tenantId' | 'sessionId'>): string =>
    sessionStreamId(lease.tenantId, lease.sessionId);
  const epochKeyOf = (lease: Lease): string => `${keyOf(lease)}@${lease.epoch}`;

  /** Forgets the lease when it is still the one held for its session; true if it was. */
  const drop = (lease: Lease): boolean => {
    const entry = held.get(keyOf(lease));
    if (entry?.lease !== lease) return false;
    clearTimeout(entry.linger);
    held.delete(keyOf(lease));
    return true;
  };

  const release = async (lease: Lease): Promise<void> => {
    drop(lease);
    await deps.leases
      .release(lease)
      .catch((error: unknown) => deps.onError(`lease release of session ${lease.sessionId}`, error));
  };

  const beat = async (): Promise<void> => {
    const entries = [...held.values()];
    if (beating || entries.length === 0) return;
    beating = true;
    const at = deps.now();
    try {
      const renewed = await deps.leases.renew(
        entries.map(({ lease }) => lease),
        deps.ttlMs,
      );
      const still = new Set(renewed.map(epochKeyOf));
      for (const entry of entries) {
        if (held.get(keyOf(entry.lease)) !== entry) continue; // released or replaced meanwhile
        if (still.has(epochKeyOf(entry.lease))) entry.renewedAt = at;
        else if (drop(entry.lease)) entry.onLost?.(entry.lease);
      }
    } catch (error) {
      deps.onError('lease heartbeat', error);
    } finally {
      beating = false;
    }
  };

  return {
    take: async (tenantId, sessionId, onLost) => {
      const key = keyOf({ tenantId, sessionId });
      const kept = held.get(key);
      if (kept?.linger !== undefined) {
        clearTimeout(kept.linger);
        kept.linger = undefined;
        const at = deps.now();
        // Renewed within a third of the TTL (by the heartbeat, as a rule): good as it is.
        const young = at - kept.renewedAt < third;
        const good =
          young ||
          (await deps.leases.renew([kept.lease], deps.ttlMs).then(
            (renewed) => renewed.length > 0,
            () => false,
          ));
        if (good && held.get(key) === kept) {
          kept.onLost = onLost;
          if (!young) kept.renewedAt = at;
          return kept.lease;
        }
        drop(kept.lease);
      }
      const at = deps.now();
      const fresh = await deps.leases.acquire(tenantId, sessionId, deps.owner, deps.ttlMs);
      if (fresh !== undefined) held.set(key, { lease: fresh, renewedAt: at, onLost });
      return fresh;
    },
    keep: (lease) => {
      const entry = held.get(keyOf(lease));
      if (entry?.lease !== lease) return; // the heartbeat found it taken: nothing to keep
      entry.onLost = undefined;
      if (lingerMs <= 0) {
        void release(lease);
        return;
      }
      entry.linger = setTimeout(() => void release(lease), lingerMs);
      entry.linger.unref();
    },
    release,
    releaseKept: async () => {
      const kept = [...held.values()].filter((entry) => entry.linger !== undefined);
      await Promise.all(kept.map(({ lease }) => release(lease)));
    },
    start: () => {
      heartbeat ??= setInterval(() => void beat(), Math.max(50, third));
      heartbeat.unref();
    },
    stop: () => {
      clearInterval(heartbeat);
      heartbeat = undefined;
    },
    kept: () => [...held.values()].filter((entry) => entry.linger !== undefined).length,
  };
};
