-- agentledger_append, v3: one UPDATE both locks the stream head and moves it (the SET computes
-- the new head hash from the old one, which it keeps in prev_head_hash), each body is parsed once,
-- and the caller derives the versions from next_version. The idempotency key is checked before
-- the lock; two concurrent appends with one key meet on idempotency_keys' primary key, and the
-- loser (SQLSTATE 23505) is retried by the client, which then finds the first result.
--
-- p_expected: NULL = any, 0 = no stream yet, n = the stream is at version n.
-- hash = sha256hex(prev_hash || body || version || '}'), i.e. over the event's canonical JSON.
DROP FUNCTION IF EXISTS agentledger_append(text, text, integer, text, timestamptz, text, boolean);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION agentledger_chain(p_prev text, p_bodies text[], p_version integer)
RETURNS text[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  v_hashes text[] := '{}';
  v_hash text := p_prev;
BEGIN
  FOR i IN 1 .. coalesce(cardinality(p_bodies), 0) LOOP
    v_hash := encode(sha256(convert_to(v_hash || p_bodies[i] || (p_version + i)::text || '}', 'UTF8')), 'hex');
    v_hashes[i] := v_hash;
  END LOOP;
  RETURN v_hashes;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION agentledger_append(
  p_stream_id text,
  p_tenant_id text,
  p_expected integer,
  p_idempotency_key text,
  p_recorded_at timestamptz,
  p_bodies text,
  p_notify boolean DEFAULT false
) RETURNS TABLE (positions bigint[], next_version integer, duplicate boolean, first_prev_hash text, hashes text[])
LANGUAGE plpgsql AS $$
DECLARE
  v_bodies text[] := string_to_array(p_bodies, E'\n');
  v_count integer := coalesce(cardinality(string_to_array(p_bodies, E'\n')), 0);
  v_tenant text;
  v_version integer;
  v_prev text;
  v_hashes text[];
  v_result jsonb;
  v_positions bigint[];
BEGIN
  IF p_idempotency_key IS NOT NULL THEN
    SELECT k.result INTO v_result FROM idempotency_keys k
      WHERE k.tenant_id = p_tenant_id AND k.stream_id = p_stream_id AND k.key = p_idempotency_key;
    IF FOUND THEN
      RETURN QUERY SELECT ARRAY(SELECT jsonb_array_elements_text(v_result -> 'positions')::bigint),
        (v_result ->> 'next')::integer, true, NULL::text, NULL::text[];
      RETURN;
    END IF;
  END IF;
  UPDATE streams s
     SET version = s.version + v_count,
         head_hash = coalesce((agentledger_chain(s.head_hash, v_bodies, s.version))[v_count], s.head_hash),
         prev_head_hash = s.head_hash
   WHERE s.stream_id = p_stream_id
  RETURNING s.version - v_count, s.prev_head_hash, s.tenant_id INTO v_version, v_prev, v_tenant;
  IF NOT FOUND THEN
    INSERT INTO streams AS s (stream_id, tenant_id, version, head_hash, prev_head_hash)
      VALUES (p_stream_id, p_tenant_id, v_count,
              coalesce((agentledger_chain(repeat('0', 64), v_bodies, 0))[v_count], repeat('0', 64)), repeat('0', 64))
      ON CONFLICT (stream_id) DO NOTHING
    RETURNING 0, s.prev_head_hash, s.tenant_id INTO v_version, v_prev, v_tenant;
    IF NOT FOUND THEN
      -- Created concurrently: the UPDATE now waits for that transaction and sees its row.
      UPDATE streams s
         SET version = s.version + v_count,
             head_hash = coalesce((agentledger_chain(s.head_hash, v_bodies, s.version))[v_count], s.head_hash),
             prev_head_hash = s.head_hash
       WHERE s.stream_id = p_stream_id
      RETURNING s.version - v_count, s.prev_head_hash, s.tenant_id INTO v_version, v_prev, v_tenant;
    END IF;
  END IF;
  IF v_tenant <> p_tenant_id THEN
    RAISE EXCEPTION 'stream % belongs to another tenant', p_stream_id USING ERRCODE = 'ALT01';
  END IF;
  IF p_expected IS NOT NULL AND p_expected <> v_version THEN
    RAISE EXCEPTION 'stream %: expected version %, actual %', p_stream_id, p_expected, v_version
      USING ERRCODE = 'ALV01', DETAIL = v_version::text;
  END IF;
  v_hashes := agentledger_chain(v_prev, v_bodies, v_version);
  WITH inserted AS (
    INSERT INTO events (stream_id, tenant_id, version, event_id, type, schema_version, data, metadata, recorded_at, prev_hash, hash)
    SELECT p_stream_id, p_tenant_id, v_version + e.ord::integer, r."eventId", r.type, r."schemaVersion", r.data, r.metadata,
           p_recorded_at, CASE WHEN e.ord = 1 THEN v_prev ELSE v_hashes[e.ord - 1] END, v_hashes[e.ord]
      FROM unnest(v_bodies) WITH ORDINALITY AS e(body, ord)
     CROSS JOIN LATERAL jsonb_to_record((e.body || (v_version + e.ord)::text || '}')::jsonb)
        AS r(data jsonb, "eventId" uuid, metadata jsonb, "schemaVersion" integer, type text)
     ORDER BY e.ord
    RETURNING global_position
  )
  SELECT array_agg(global_position ORDER BY global_position) INTO v_positions FROM inserted;
  v_positions := coalesce(v_positions, '{}');
  IF p_idempotency_key IS NOT NULL THEN
    INSERT INTO idempotency_keys (tenant_id, stream_id, key, result)
      VALUES (p_tenant_id, p_stream_id, p_idempotency_key,
              jsonb_build_object('positions', to_jsonb(v_positions), 'next', v_version + v_count));
  END IF;
  IF p_notify AND v_count > 0 THEN
    PERFORM pg_notify('agentledger_events', v_positions[v_count]::text);
  END IF;
  RETURN QUERY SELECT v_positions, v_version + v_count, false, v_prev, v_hashes;
END;
$$;
