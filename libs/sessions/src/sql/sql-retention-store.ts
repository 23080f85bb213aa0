import { sql, type SQL } from 'drizzle-orm';
import { type AnyPgDatabase, translatingPgErrors } from '@agentledger/events/postgres';
import type { RetentionCandidate, Tombstone } from '../retention/retention.ts';
import type { RetentionStore } from '../retention/run-retention.ts';

const rowsOf = async (db: AnyPgDatabase, query: SQL): Promise<Record<string, unknown>[]> =>
  ((await db.execute(query)) as unknown as { rows: Record<string, unknown>[] }).rows;

const iso = (value: unknown): string =>
  (value instanceof Date ? value : new Date(String(value))).toISOString();

/** Times as JSON text (ISO 8601 with offset), which every driver returns as is. */
const TOMBSTONE_COLUMNS = sql.raw(
  `tenant_id, session_id, stream_id, head_version, head_hash, event_count, checkpoint, policy,
   to_json(deleted_at) #>> '{}' as deleted_at`,
);

const toTombstone = (r: Record<string, unknown>): Tombstone => {
  const c = r.checkpoint as Record<string, unknown> | null;
  return {
    tenantId: String(r.tenant_id),
    sessionId: String(r.session_id),
    streamId: String(r.stream_id),
    headVersion: Number(r.head_version),
    headHash: String(r.head_hash),
    eventCount: Number(r.event_count),
    checkpoint:
      c === null
        ? null
        : {
            version: Number(c.version),
            hash: String(c.hash),
            keyId: String(c.keyId),
            signature: String(c.signature),
            signedAt: iso(c.signedAt),
          },
    policy: r.policy,
    deletedAt: iso(r.deleted_at),
  };
};

/** Attempt markers whose tool call finished (completed, failed), or whose session closed or is gone. */
const FINISHED_ATTEMPT = sql`(
  not exists (select 1 from sessions s where s.tenant_id = t.tenant_id and s.session_id = t.session_id and s.status <> 'closed')
  or exists (select 1 from sessions s join events e on e.stream_id = s.stream_id
              where s.tenant_id = t.tenant_id and s.session_id = t.session_id
                and e.type in ('ToolCallCompleted', 'ToolCallFailed') and e.data->>'toolCallId' = t.tool_call_id))`;

const count = async (db: AnyPgDatabase, query: SQL): Promise<number> =>
  Number((await rowsOf(db, query))[0]?.n ?? 0);

/**
 * Retention on Postgres or PGlite (migration 0014): candidates read from the sessions read model
 * and the log, deletions only through `agentledger_delete_session` (the one path the events guard
 * lets through, tombstone first), pruning by plain statements on the two bookkeeping tables.
 */
export const createSqlRetentionStore = (db: AnyPgDatabase): RetentionStore =>
  translatingPgErrors({
    tenants: async () =>
      (await rowsOf(db, sql`select distinct tenant_id from sessions order by tenant_id`)).map((r) =>
        String(r.tenant_id),
      ),

    candidates: async (tenantId, after, limit) =>
      (
        await rowsOf(
          db,
          sql`select s.session_id, s.stream_id, s.status, st.version,
              extract(epoch from h.recorded_at) * 1000 as last_activity_ms,
              case when s.status = 'closed' then (
                select extract(epoch from (e.data->>'at')::timestamptz) * 1000 from events e
                 where e.stream_id = s.stream_id and e.type = 'SessionClosed' order by e.version desc limit 1)
              end as closed_ms,
              (s.lease_owner is not null and s.lease_expires_at > clock_timestamp()) as leased
            from sessions s
            join streams st on st.stream_id = s.stream_id and st.tenant_id = s.tenant_id
            join events h on h.stream_id = s.stream_id and h.version = st.version
            where s.tenant_id = ${tenantId} and s.session_id > ${after}
            order by s.session_id limit ${limit}`,
        )
      ).map((r): RetentionCandidate => ({
        tenantId,
        sessionId: String(r.session_id),
        streamId: String(r.stream_id),
        status: String(r.status),
        version: Number(r.version),
        lastActivityAt: Number(r.last_activity_ms),
        closedAt: r.closed_ms === null ? null : Number(r.closed_ms),
        leased: r.leased === true,
      })),

    deleteSession: async (candidate, policy, at) => {
      const [row] = await rowsOf(
        db,
        sql`select ${TOMBSTONE_COLUMNS} from agentledger_delete_session(${candidate.tenantId}, ${candidate.sessionId},
            ${candidate.version}, ${JSON.stringify(policy)}::jsonb, ${at.toISOString()}::timestamptz)`,
      );
      return row && toTombstone(row);
    },

    prune: async ({ before, tenantId, dryRun }) => {
      const keyScope = tenantId === undefined ? sql`true` : sql`k.tenant_id = ${tenantId}`;
      const attemptScope = tenantId === undefined ? sql`true` : sql`t.tenant_id = ${tenantId}`;
      const old = sql`${keyScope} and k.created_at < ${before.toISOString()}::timestamptz`;
      if (dryRun)
        return {
          idempotencyKeys: await count(db, sql`select count(*) as n from idempotency_keys k where ${old}`),
          toolCallAttempts: await count(
            db,
            sql`select count(*) as n from tool_call_attempts t where ${attemptScope} and ${FINISHED_ATTEMPT}`,
          ),
        };
      return {
        idempotencyKeys: await count(
          db,
          sql`with d as (delete from idempotency_keys k where ${old} returning 1) select count(*) as n from d`,
        ),
        toolCallAttempts: await count(
          db,
          sql`with d as (delete from tool_call_attempts t where ${attemptScope} and ${FINISHED_ATTEMPT} returning 1)
            select count(*) as n from d`,
        ),
      };
    },

    tombstones: async (tenantId) =>
      (
        await rowsOf(
          db,
          sql`select ${TOMBSTONE_COLUMNS} from session_tombstones ${tenantId === undefined ? sql`` : sql`where tenant_id = ${tenantId}`}
            order by id`,
        )
      ).map(toTombstone),
  });
