import { InvalidCursor, LeaseLost } from '../errors.ts';
import { decodeCursor, encodeCursor, type SessionIndex, type SessionRow } from '../session-index.ts';
import type { ToolAttempts } from '../tool-attempts.ts';

/** Rows are keyed by (tenant, session id): two tenants may use one session id. */
const keyOf = (tenantId: string, sessionId: string): string => `${tenantId}\u0000${sessionId}`;

/**
 * The sessions read model in memory, with the same semantics as the SQL one, for the in-memory
 * event store (library use and fast tests). `now` is injectable for lease-expiry tests.
 */
export const createInMemorySessionIndex = (
  now: () => number = Date.now,
): SessionIndex<unknown> & ToolAttempts => {
  const rows = new Map<string, SessionRow>();
  const attempts = new Set<string>();
  const usage = new Map<string, number>();
  /** Kept beside the rows (like the SQL column, not part of a row): the session's nearest deadline. */
  const deadlines = new Map<string, number>();
  const today = (tenantId: string): string =>
    `${tenantId}\u0000${new Date(now()).toISOString().slice(0, 10)}`;
  const stamp = (): string => new Date(now()).toISOString();
  const expired = (row: SessionRow): boolean =>
    row.leaseExpiresAt !== null && Date.parse(row.leaseExpiresAt) < now();
  const update = (key: string, patch: Partial<SessionRow>): void => {
    const row = rows.get(key);
    if (row) rows.set(key, { ...row, ...patch });
  };

  return {
    project: (_tx, row, lease) => {
      const key = keyOf(row.tenantId, row.sessionId);
      const current = rows.get(key);
      if (lease) {
        if (!current || current.leaseOwner !== lease.owner || current.leaseEpoch !== lease.epoch)
          return Promise.reject(new LeaseLost(lease.sessionId, lease.epoch));
      }
      if (row.tokensUsed > 0)
        usage.set(today(row.tenantId), (usage.get(today(row.tenantId)) ?? 0) + row.tokensUsed);
      const { tokensUsed: _tokens, deadlineAt, ...fields } = row;
      if (deadlineAt) deadlines.set(key, Date.parse(deadlineAt));
      else deadlines.delete(key);
      rows.set(key, {
        leaseOwner: null,
        leaseEpoch: 0,
        leaseExpiresAt: null,
        createdAt: stamp(),
        ...current,
        ...fields,
        streamId: current?.streamId ?? fields.streamId,
        lastProgressAt: stamp(),
      });
      return Promise.resolve();
    },
    get: (tenantId, sessionId) => Promise.resolve(rows.get(keyOf(tenantId, sessionId))),
    list: ({ tenantId, status, teamId, createdAfter, createdBefore, limit, cursor }) => {
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      if (cursor !== undefined && after === undefined) return Promise.reject(new InvalidCursor());
      const matching = [...rows.values()]
        .filter(
          (r) =>
            r.tenantId === tenantId &&
            (!status || r.status === status) &&
            (!teamId || r.teamId === teamId) &&
            (!createdAfter || Date.parse(r.createdAt) >= createdAfter.getTime()) &&
            (!createdBefore || Date.parse(r.createdAt) < createdBefore.getTime()),
        )
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.sessionId.localeCompare(b.sessionId))
        .filter(
          (r) => !after || r.createdAt > after[0] || (r.createdAt === after[0] && r.sessionId > after[1]),
        );
      const items = matching.slice(0, limit);
      return Promise.resolve({
        items,
        nextCursor: matching.length > limit ? encodeCursor(items.at(-1)!) : null,
      });
    },
    acquire: (tenantId, sessionId, owner, ttlMs) => {
      const key = keyOf(tenantId, sessionId);
      const row = rows.get(key);
      if (!row || (row.leaseOwner !== null && row.leaseOwner !== owner && !expired(row)))
        return Promise.resolve(undefined);
      const epoch = row.leaseEpoch + 1;
      update(key, {
        leaseOwner: owner,
        leaseEpoch: epoch,
        leaseExpiresAt: new Date(now() + ttlMs).toISOString(),
      });
      return Promise.resolve({ tenantId, sessionId, owner, epoch });
    },
    renew: (leases, ttlMs) => {
      const held = leases.filter((lease) => {
        const row = rows.get(keyOf(lease.tenantId, lease.sessionId));
        return row?.leaseOwner === lease.owner && row.leaseEpoch === lease.epoch;
      });
      const expiresAt = new Date(now() + ttlMs).toISOString();
      for (const lease of held) update(keyOf(lease.tenantId, lease.sessionId), { leaseExpiresAt: expiresAt });
      return Promise.resolve(held);
    },
    release: (lease) => {
      const key = keyOf(lease.tenantId, lease.sessionId);
      const row = rows.get(key);
      if (row?.leaseOwner === lease.owner && row.leaseEpoch === lease.epoch)
        update(key, { leaseOwner: null, leaseExpiresAt: null });
      return Promise.resolve();
    },
    releaseAll: (owner) => {
      const held = [...rows.values()].filter((r) => r.leaseOwner === owner);
      for (const row of held)
        update(keyOf(row.tenantId, row.sessionId), { leaseOwner: null, leaseExpiresAt: null });
      return Promise.resolve(held.length);
    },
    recoverable: (partitions, limit) =>
      Promise.resolve(
        [...rows.values()]
          .filter(
            (r) => r.pendingWork && partitions.includes(r.partition) && (r.leaseOwner === null || expired(r)),
          )
          .sort((a, b) => a.lastProgressAt.localeCompare(b.lastProgressAt))
          .slice(0, limit),
      ),
    orphaned: (limit) =>
      Promise.resolve(
        [...rows.values()]
          .filter((r) => r.pendingWork && r.leaseOwner !== null && expired(r))
          .slice(0, limit),
      ),
    tenantTokensToday: (tenantId) => Promise.resolve(usage.get(today(tenantId)) ?? 0),
    stalled: (before, limit) =>
      Promise.resolve(
        [...rows.values()]
          .filter((r) => r.status === 'running' && Date.parse(r.lastProgressAt) < before.getTime())
          .slice(0, limit),
      ),
    due: (partitions, before, limit) =>
      Promise.resolve(
        [...rows.entries()]
          .filter(([key, r]) => {
            const at = deadlines.get(key);
            return (
              at !== undefined &&
              at <= before.getTime() &&
              (partitions === 'any' || partitions.includes(r.partition)) &&
              (r.leaseOwner === null || expired(r))
            );
          })
          .sort(([a], [b]) => deadlines.get(a)! - deadlines.get(b)!)
          .map(([, r]) => r)
          .slice(0, limit),
      ),
    markAttempt: (lease, toolCallId) => {
      const key = `${keyOf(lease.tenantId, lease.sessionId)}\u0000${toolCallId}`;
      if (attempts.has(key)) return Promise.resolve(false);
      attempts.add(key);
      return Promise.resolve(true);
    },
  };
};
