import type { SessionStatus } from '@agentledger/agents';
import type { DeclaredProjection } from '@agentledger/events';

/** What an append writes into the read model, computed from the session's state after it. */
export type SessionProjection = Readonly<{
  tenantId: string;
  sessionId: string;
  /** The session's event stream (`sessionStreamId`, or `session-<id>` for sessions older than migration 0010). */
  streamId: string;
  teamId: string;
  status: SessionStatus;
  version: number;
  /** The session has work an effect runner can do now (model, selector or tool calls). */
  pendingWork: boolean;
  /** The bus partition of the session's key, so a replica recovers only what it owns. */
  partition: number;
  /** Model tokens recorded by this append (counted into the tenant's daily usage). */
  tokensUsed: number;
  /** The session's nearest deadline (`nextDeadline`: turn timeout, approval deadline); absent: none. */
  deadlineAt?: string | null;
}>;

/** One row of the `sessions` read model: what lists, leases, recovery and the watchdog query. */
export type SessionRow = Omit<SessionProjection, 'tokensUsed'> &
  Readonly<{
    leaseOwner: string | null;
    leaseEpoch: number;
    leaseExpiresAt: string | null;
    lastProgressAt: string;
    createdAt: string;
  }>;

/** A worker's claim on a session. `epoch` is the fencing token every one of its appends carries. */
export type Lease = Readonly<{ tenantId: string; sessionId: string; owner: string; epoch: number }>;

export type ListSessionsQuery = Readonly<{
  tenantId: string;
  status?: SessionStatus;
  teamId?: string;
  /** Sessions created at or after this instant (inclusive). */
  createdAfter?: Date;
  /** Sessions created before this instant (exclusive). */
  createdBefore?: Date;
  limit: number;
  /** Opaque: the `nextCursor` of the previous page. */
  cursor?: string;
}>;

export type SessionPage = Readonly<{ items: readonly SessionRow[]; nextCursor: string | null }>;

/**
 * Role 1, the read model: the `sessions` rows, keyed by (tenant, session id): two tenants may use
 * one session id. `project` runs inside the event store's append transaction (the inline
 * projection) with that transaction as `tx`, so the row and the events commit together; with a
 * lease it is also the fencing check: it throws `LeaseLost` when the lease's epoch is no longer
 * current, and the append writes nothing. The tokens a projection carries are added to the
 * tenant's usage of the day in the same transaction (read back through `TenantUsage`).
 */
export type SessionReadModel<Tx = unknown> = Readonly<{
  project: (tx: Tx, row: SessionProjection, lease?: Lease) => Promise<void>;
  /**
   * The same write as `project`, as data for a store that runs it in the database with the append
   * (one statement: SQL adapters; `LeaseLost` is its refusal). Absent: the engine uses `project`.
   */
  declare?: (row: SessionProjection, lease?: Lease) => DeclaredProjection;
  get: (tenantId: string, sessionId: string) => Promise<SessionRow | undefined>;
  list: (query: ListSessionsQuery) => Promise<SessionPage>;
}>;

/** Role 2, leases: one worker at a time per session, fenced by epoch (`project` checks it). */
export type SessionLeases = Readonly<{
  /**
   * Takes the lease when it is free, expired or already this owner's. Every acquisition gets a
   * fresh epoch, so whatever an earlier acquisition still appends is fenced. `owner` names one
   * process incarnation (the orchestrator's is `<REPLICA_ID>/<uuid per start>`), so two processes
   * started with the same replica id never share a lease.
   */
  acquire: (tenantId: string, sessionId: string, owner: string, ttlMs: number) => Promise<Lease | undefined>;
  /**
   * Extends every lease of `leases` still held (one statement however many: a replica's heartbeat)
   * and returns the held ones; the others were taken or released. A held lease whose row an append
   * locks at that instant is left as it is, not waited for (the next call extends it).
   */
  renew: (leases: readonly Lease[], ttlMs: number) => Promise<readonly Lease[]>;
  /** Frees the lease if this epoch still holds it; a stale lease frees nothing. */
  release: (lease: Lease) => Promise<void>;
  /** Releases every lease `owner` holds (shutdown): any append still fenced by them is then rejected. */
  releaseAll: (owner: string) => Promise<number>;
}>;

/** Role 3, recovery: what a worker scans for (all tenants; each row names its tenant). */
export type SessionRecovery = Readonly<{
  /** Sessions with runnable work whose lease is free or expired, in the given partitions. */
  recoverable: (partitions: readonly number[], limit: number) => Promise<readonly SessionRow[]>;
  /**
   * Sessions with runnable work whose owner's lease expired (the owner died), in any partition:
   * any replica may take them over at once instead of waiting for the group to rebalance.
   */
  orphaned: (limit: number) => Promise<readonly SessionRow[]>;
  /** Sessions in `running` with no progress since `before` (for the watchdog). */
  stalled: (before: Date, limit: number) => Promise<readonly SessionRow[]>;
  /**
   * Sessions of the given partitions (`'any'`: of every partition) with a deadline at or before
   * `before` and no live lease (a session being stepped has its deadline watched by its lease
   * holder): what a replica arms timers for after a restart or a rebalance, waiting sessions
   * (approval, input) included; with `'any'`, deadlines long past whose partition's owner died.
   */
  due: (partitions: readonly number[] | 'any', before: Date, limit: number) => Promise<readonly SessionRow[]>;
}>;

/** Role 4, usage: model tokens per tenant per UTC day, written by `SessionReadModel.project`. */
export type TenantUsage = Readonly<{
  /** Model tokens the tenant's sessions recorded today (UTC). */
  tenantTokensToday: (tenantId: string) => Promise<number>;
}>;

/**
 * Every role at once: what the memory and SQL adapters implement. Consumers ask for the roles
 * they use (the engine `project` + `get`, the gateway the read model, the worker leases,
 * recovery and usage), not for this.
 */
export type SessionIndex<Tx = unknown> = SessionReadModel<Tx> & SessionLeases & SessionRecovery & TenantUsage;

export const encodeCursor = (row: Pick<SessionRow, 'createdAt' | 'sessionId'>): string =>
  Buffer.from(JSON.stringify([row.createdAt, row.sessionId])).toString('base64url');

export const decodeCursor = (cursor: string): readonly [string, string] | undefined => {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === 'string'))
      return [value[0] as string, value[1] as string];
  } catch {
    // an undecodable cursor is reported as undefined
  }
  return undefined;
};
