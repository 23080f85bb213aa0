-- Declared projections: an append that carries its read-model write is one statement (one round
-- trip, one commit) instead of a transaction with a round trip per statement, and it can share a
-- group commit. The event store calls agentledger_append_projected (alone) or
-- agentledger_append_batch (together); either runs agentledger_project_<name>(argument) right after
-- the events are inserted, in the same (sub)transaction, so a projection that raises rolls back its
-- own append only.
--
-- agentledger_project_session(p jsonb): the `sessions` read model's write for one append, owned by
-- libs/sessions (SqlSessionIndex.project calls it too: the row has this one definition). With
-- p.leaseOwner it is the lease-fenced update (SQLSTATE ALL01 when that lease's epoch is no longer
-- current), else the upsert; then p.tokensUsed > 0 is added to the tenant's usage of the day. The
-- usage row is shared by all of a tenant's sessions, so it is taken last, and the event store never
-- puts an append that writes it into a group commit (see the `solo` flag of DeclaredProjection):
-- locks are then always taken stream heads first, in stream order, and no two appends deadlock.
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
    INSERT INTO tenant_usage (tenant_id, day, tokens)
      VALUES (p ->> 'tenantId', (clock_timestamp() AT TIME ZONE 'utc')::date, (p ->> 'tokensUsed')::bigint)
      ON CONFLICT (tenant_id, day) DO UPDATE SET tokens = tenant_usage.tokens + excluded.tokens;
  END IF;
END;
$$;
--> statement-breakpoint
-- One append and its projection (p_projection NULL: none). A duplicate (idempotency key seen)
-- writes nothing and runs no projection.
CREATE OR REPLACE FUNCTION agentledger_append_projected(
  p_stream_id text,
  p_tenant_id text,
  p_expected integer,
  p_idempotency_key text,
  p_recorded_at timestamptz,
  p_bodies text,
  p_notify boolean,
  p_projection text,
  p_argument jsonb
) RETURNS TABLE (positions bigint[], next_version integer, duplicate boolean, first_prev_hash text, hashes text[])
LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  SELECT a.positions, a.next_version, a.duplicate, a.first_prev_hash, a.hashes INTO r
    FROM agentledger_append(p_stream_id, p_tenant_id, p_expected, p_idempotency_key, p_recorded_at, p_bodies, p_notify) a;
  IF NOT r.duplicate AND p_projection IS NOT NULL THEN
    EXECUTE format('SELECT %I($1)', 'agentledger_project_' || p_projection) USING p_argument;
  END IF;
  RETURN QUERY SELECT r.positions, r.next_version, r.duplicate, r.first_prev_hash, r.hashes;
END;
$$;
--> statement-breakpoint
DROP FUNCTION IF EXISTS agentledger_append_batch(text[], text[], integer[], text[], timestamptz[], text[]);
--> statement-breakpoint
-- Group commit (migration 0012), now with each append's projection and its hashes in the result.
CREATE OR REPLACE FUNCTION agentledger_append_batch(
  p_stream_ids text[],
  p_tenant_ids text[],
  p_expected integer[],
  p_idempotency_keys text[],
  p_recorded_at timestamptz[],
  p_bodies text[],
  p_projections text[],
  p_arguments jsonb[]
) RETURNS TABLE (ord integer, positions bigint[], next_version integer, duplicate boolean,
                 first_prev_hash text, hashes text[],
                 error_code text, error_message text, error_detail text, error_constraint text)
LANGUAGE plpgsql AS $$
DECLARE
  i integer;
  r record;
  v_code text;
  v_message text;
  v_detail text;
  v_constraint text;
BEGIN
  FOR i IN 1 .. coalesce(cardinality(p_stream_ids), 0) LOOP
    BEGIN
      SELECT a.positions, a.next_version, a.duplicate, a.first_prev_hash, a.hashes INTO r
        FROM agentledger_append_projected(p_stream_ids[i], p_tenant_ids[i], p_expected[i], p_idempotency_keys[i],
                                          p_recorded_at[i], p_bodies[i], false, p_projections[i], p_arguments[i]) a;
      RETURN QUERY SELECT i, r.positions, r.next_version, r.duplicate, r.first_prev_hash, r.hashes,
                          NULL::text, NULL::text, NULL::text, NULL::text;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS v_code = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                              v_detail = PG_EXCEPTION_DETAIL, v_constraint = CONSTRAINT_NAME;
      RETURN QUERY SELECT i, NULL::bigint[], NULL::integer, NULL::boolean, NULL::text, NULL::text[],
                          v_code, v_message, v_detail, v_constraint;
    END;
  END LOOP;
END;
$$;
