-- A tenant's token usage is kept per session and UTC day, not in one row per tenant and day. The
-- one row was shared by every session of the tenant, so an append that added tokens could not
-- join a group commit (the batch would take that row between two stream heads, and two
-- transactions could then wait on each other); half of a turn's appends (each model call's
-- result) went alone, each its own transaction and commit. A session's row is taken only by
-- appends to that session, right after its stream head and its sessions row, in the same order as
-- every other lock of the append: any append may share a batch. The daily total is the sum of the
-- tenant's rows of the day (read only when a daily token budget is set, once per model call).
-- Existing rows keep their totals under the session id '' (the tenant's usage before this).
ALTER TABLE tenant_usage ADD COLUMN IF NOT EXISTS session_id text NOT NULL DEFAULT '';
--> statement-breakpoint
ALTER TABLE tenant_usage DROP CONSTRAINT IF EXISTS tenant_usage_pkey;
--> statement-breakpoint
ALTER TABLE tenant_usage ADD CONSTRAINT tenant_usage_pkey PRIMARY KEY (tenant_id, day, session_id);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION agentledger_project_session(p jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF p ? 'leaseOwner' THEN
    UPDATE sessions
       SET status = p ->> 'status', version = (p ->> 'version')::integer,
           pending_work = (p ->> 'pendingWork')::boolean, deadline_at = (p ->> 'deadlineAt')::timestamptz,
           last_progress_at = clock_timestamp()
     WHERE tenant_id = p ->> 'tenantId' AND session_id = p ->> 'sessionId'
       AND lease_owner = p ->> 'leaseOwner' AND lease_epoch = (p ->> 'leaseEpoch')::bigint;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'session %: lease epoch % is no longer current', p ->> 'sessionId', p ->> 'leaseEpoch'
        USING ERRCODE = 'ALL01';
    END IF;
  ELSE
    INSERT INTO sessions (session_id, tenant_id, stream_id, team_id, status, version, pending_work, partition, deadline_at)
      VALUES (p ->> 'sessionId', p ->> 'tenantId', p ->> 'streamId', p ->> 'teamId', p ->> 'status',
              (p ->> 'version')::integer, (p ->> 'pendingWork')::boolean, (p ->> 'partition')::integer,
              (p ->> 'deadlineAt')::timestamptz)
      ON CONFLICT (tenant_id, session_id) DO UPDATE
        SET status = excluded.status, version = excluded.version, pending_work = excluded.pending_work,
            deadline_at = excluded.deadline_at, last_progress_at = clock_timestamp();
  END IF;
  IF (p ->> 'tokensUsed')::bigint > 0 THEN
    INSERT INTO tenant_usage (tenant_id, day, session_id, tokens)
      VALUES (p ->> 'tenantId', (clock_timestamp() AT TIME ZONE 'utc')::date, p ->> 'sessionId', (p ->> 'tokensUsed')::bigint)
      ON CONFLICT (tenant_id, day, session_id) DO UPDATE SET tokens = tenant_usage.tokens + excluded.tokens;
  END IF;
END;
$$;
