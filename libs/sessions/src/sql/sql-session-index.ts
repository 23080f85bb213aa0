import { sql, type SQL } from 'drizzle-orm';
import type { SessionStatus } from '@agentledger/agents';
import type { DeclaredProjection } from '@agentledger/events';
import {
  type AnyPgDatabase,
  driverErrorOf,
  type SqlTransaction,
  translatingPgErrors,
} from '@agentledger/events/postgres';
import { InvalidCursor, LeaseLost } from '../errors.ts';
import {
  decodeCursor,
  encodeCursor,
  type Lease,
  type SessionIndex,
  type SessionProjection,
  type SessionRow,
} from '../session-index.ts';
import type { ToolAttempts } from '../tool-attempts.ts';

type Executor = Pick<AnyPgDatabase, 'execute'>;

const rowsOf = async (db: Executor, query: SQL): Promise<Record<string, unknown>[]> =>
  ((await db.execute(query)) as unknown as { rows: Record<string, unknown>[] }).rows;

const COLUMNS = sql.raw(
  `session_id, tenant_id, stream_id, team_id, status, version, pending_work, partition, lease_owner, lease_epoch,
   lease_expires_at, last_progress_at, created_at`,
);

const iso = (value: unknown): string => (value instanceof Date ? value.toISOString() : String(value));

const toRow = (r: Record<string, unknown>): SessionRow => ({
  sessionId: String(r.session_id),
  tenantId: String(r.tenant_id),
  streamId: String(r.stream_id),
  teamId: String(r.team_id),
  status: r.status as SessionStatus,
  version: Number(r.version),
  pendingWork: Boolean(r.pending_work),
  partition: Number(r.partition),
  leaseOwner: r.lease_owner === null ? null : String(r.lease_owner),
  leaseEpoch: Number(r.lease_epoch),
  leaseExpiresAt: r.lease_expires_at === null ? null : iso(r.lease_expires_at),
  lastProgressAt: iso(r.last_progress_at),
  createdAt: iso(r.created_at),
});

/** The lease-fenced update that found another epoch (`agentledger_project_session`, migration 0016). */
const LEASE_LOST = 'ALL01';

/**
 * The read model's write for one append, run by `agentledger_project_session` (migration 0016) in
 * the append's statement or, through `project`, its transaction. An append that adds tokens adds
 * them to its session's usage row of the day (migration 0019): every row it writes belongs to its
 * session, so it may share a group commit with any other append. A fenced append moves
 * `last_progress_at` at most once a second (migration 0020): the steps of a turn then update the
 * row in place (HOT), touching none of its indexes.
 */
const sessionProjection = (row: SessionProjection, lease?: Lease): DeclaredProjection => ({
  name: 'session',
  argument: {
    ...row,
    deadlineAt: row.deadlineAt ?? null,
    ...(lease === undefined ? {} : { leaseOwner: lease.owner, leaseEpoch: lease.epoch }),
  },
  refusal: ({ code }) =>
    code === LEASE_LOST && lease !== undefined ? new LeaseLost(lease.sessionId, lease.epoch) : undefined,
});

/**
 * The sessions read model on Postgres or PGlite (any drizzle database). Times come from the
 * database clock, so replicas with skewed clocks still agree on lease expiry.
 */
export const createSqlSessionIndex = (db: AnyPgDatabase): SessionIndex<SqlTransaction> & ToolAttempts =>
  translatingPgErrors({
    project: async (tx, row, lease) => {
      const { argument, refusal } = sessionProjection(row, lease);
      try {
        await tx.execute(sql`select agentledger_project_session(${JSON.stringify(argument)}::jsonb)`);
      } catch (error) {
        throw refusal?.(driverErrorOf(error)) ?? error;
      }
    },

    declare: sessionProjection,

    get: async (tenantId, sessionId) => {
      const [row] = await rowsOf(
        db,
        sql`select ${COLUMNS} from sessions where tenant_id = ${tenantId} and session_id = ${sessionId}`,
      );
      return row && toRow(row);
    },

    list: async ({ tenantId, status, teamId, createdAfter, createdBefore, limit, cursor }) => {
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      if (cursor !== undefined && after === undefined) throw new InvalidCursor();
      const conditions = [sql`tenant_id = ${tenantId}`];
      if (status) conditions.push(sql`status = ${status}`);
      if (teamId) conditions.push(sql`team_id = ${teamId}`);
      if (createdAfter) conditions.push(sql`created_at >= ${createdAfter.toISOString()}::timestamptz`);
      if (createdBefore) conditions.push(sql`created_at < ${createdBefore.toISOString()}::timestamptz`);
      if (after) conditions.push(sql`(created_at, session_id) > (${after[0]}::timestamptz, ${after[1]})`);
      const rows = (
        await rowsOf(
          db,
          sql`select ${COLUMNS} from sessions where ${sql.join(conditions, sql` and `)}
            order by created_at, session_id limit ${limit + 1}`,
        )
      ).map(toRow);
      const items = rows.slice(0, limit);
      return { items, nextCursor: rows.length > limit ? encodeCursor(items.at(-1)!) : null };
    },

    acquire: async (tenantId, sessionId, owner, ttlMs) => {
      const [row] = await rowsOf(
        db,
        sql`update sessions set lease_owner = ${owner},
            lease_epoch = lease_epoch + 1,
            lease_expires_at = clock_timestamp() + make_interval(secs => ${ttlMs / 1000}::double precision)
          where tenant_id = ${tenantId} and session_id = ${sessionId}
            and (lease_owner is null or lease_owner = ${owner} or lease_expires_at < clock_timestamp())
          returning lease_epoch`,
      );
      return row && { tenantId, sessionId, owner, epoch: Number(row.lease_epoch) };
    },

    // A row an append holds at this instant is skipped, not waited for (its lease is in use, and
    // the next beat renews it): a heartbeat never queues behind appends nor deadlocks with them.
    renew: async (leases, ttlMs) => {
      if (leases.length === 0) return [];
      const held = leases.map(({ tenantId, sessionId, owner, epoch }) => ({
        tenantId,
        sessionId,
        owner,
        epoch,
      }));
      const rows = await rowsOf(
        db,
        sql`with held as (
            select * from jsonb_to_recordset(${JSON.stringify(held)}::jsonb)
              as held("tenantId" text, "sessionId" text, owner text, epoch bigint)
          ), free as (
            select sessions.tenant_id, sessions.session_id
            from sessions join held on sessions.tenant_id = held."tenantId" and sessions.session_id = held."sessionId"
              and sessions.lease_owner = held.owner and sessions.lease_epoch = held.epoch
            order by sessions.tenant_id, sessions.session_id
            for update of sessions skip locked
          ), renewed as (
            update sessions set lease_expires_at = clock_timestamp() + make_interval(secs => ${ttlMs / 1000}::double precision)
            from free where sessions.tenant_id = free.tenant_id and sessions.session_id = free.session_id
          )
          select sessions.tenant_id, sessions.session_id, sessions.lease_owner, sessions.lease_epoch
          from sessions join held on sessions.tenant_id = held."tenantId" and sessions.session_id = held."sessionId"
            and sessions.lease_owner = held.owner and sessions.lease_epoch = held.epoch`,
      );
      const keyOf = (tenantId: string, sessionId: string, owner: string, epoch: number): string =>
        JSON.stringify([tenantId, sessionId, owner, epoch]);
      const current = new Set(
        rows.map((r) =>
          keyOf(String(r.tenant_id), String(r.session_id), String(r.lease_owner), Number(r.lease_epoch)),
        ),
      );
      return leases.filter((l) => current.has(keyOf(l.tenantId, l.sessionId, l.owner, l.epoch)));
    },

    release: async (lease) => {
      await db.execute(
        sql`update sessions set lease_owner = null, lease_expires_at = null
          where tenant_id = ${lease.tenantId} and session_id = ${lease.sessionId}
            and lease_owner = ${lease.owner} and lease_epoch = ${lease.epoch}`,
      );
    },

    releaseAll: async (owner) =>
      (
        await rowsOf(
          db,
          sql`update sessions set lease_owner = null, lease_expires_at = null where lease_owner = ${owner}
            returning 1 as ok`,
        )
      ).length,

    recoverable: async (partitions, limit) => {
      if (partitions.length === 0) return [];
      const list = sql.join(
        partitions.map((p) => sql`${p}`),
        sql`, `,
      );
      return (
        await rowsOf(
          db,
          sql`select ${COLUMNS} from sessions
            where pending_work and partition in (${list})
              and (lease_owner is null or lease_expires_at < clock_timestamp())
            order by last_progress_at limit ${limit}`,
        )
      ).map(toRow);
    },

    orphaned: async (limit) =>
      (
        await rowsOf(
          db,
          sql`select ${COLUMNS} from sessions
            where pending_work and lease_owner is not null and lease_expires_at < clock_timestamp()
            order by lease_expires_at limit ${limit}`,
        )
      ).map(toRow),

    tenantTokensToday: async (tenantId) => {
      const [row] = await rowsOf(
        db,
        sql`select coalesce(sum(tokens), 0) as tokens from tenant_usage
          where tenant_id = ${tenantId} and day = (clock_timestamp() at time zone 'utc')::date`,
      );
      return Number(row?.tokens ?? 0);
    },

    stalled: async (before, limit) =>
      (
        await rowsOf(
          db,
          sql`select ${COLUMNS} from sessions where status = 'running' and last_progress_at < ${before.toISOString()}::timestamptz
            order by last_progress_at limit ${limit}`,
        )
      ).map(toRow),

    due: async (partitions, before, limit) => {
      if (partitions !== 'any' && partitions.length === 0) return [];
      const inPartitions =
        partitions === 'any'
          ? sql`true`
          : sql`partition in (${sql.join(
              partitions.map((p) => sql`${p}`),
              sql`, `,
            )})`;
      return (
        await rowsOf(
          db,
          sql`select ${COLUMNS} from sessions
            where deadline_at <= ${before.toISOString()}::timestamptz and ${inPartitions}
              and (lease_owner is null or lease_expires_at < clock_timestamp())
            order by deadline_at limit ${limit}`,
        )
      ).map(toRow);
    },

    markAttempt: async (lease, toolCallId) => {
      const inserted = await rowsOf(
        db,
        sql`insert into tool_call_attempts (tenant_id, session_id, tool_call_id, owner, epoch)
          values (${lease.tenantId}, ${lease.sessionId}, ${toolCallId}, ${lease.owner}, ${lease.epoch})
          on conflict do nothing returning 1 as ok`,
      );
      return inserted.length > 0;
    },
  });

/** Re-exported for callers that only need the type of a lease-fenced projection. */
export type { Lease, SessionProjection };
