-- agentledger_append, v2: events arrive as their hash bodies only (canonical JSON up to the
-- version, newline-joined: canonical JSON never holds a raw newline), so each event is sent and
-- parsed once; NOTIFY is optional (it serialises committing transactions, so the Postgres adapter
-- notifies after the commit instead); the stream head keeps HOT updates.
--
-- p_expected: NULL = any, 0 = no stream yet, n = the stream is at version n.
-- hash = sha256hex(prev_hash || body || version || '}'), i.e. over the event's canonical JSON.
DROP FUNCTION IF EXISTS agentledger_append(text, text, integer, text, timestamptz, jsonb, boolean);
--> statement-breakpoint
ALTER TABLE streams SET (fillfactor = 70);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION agentledger_append(
  p_stream_id text,
  p_tenant_id text,
  p_expected integer,
  p_idempotency_key text,
  p_recorded_at timestamptz,
  p_bodies text,
  p_notify boolean DEFAULT false
) RETURNS TABLE (versions integer[], positions bigint[], next_version integer, duplicate boolean, first_prev_hash text, hashes text[])
LANGUAGE plpgsql AS $$
DECLARE
  v_tenant text;
  v_version integer;
  v_hash text;
  v_result jsonb;
  v_full text[] := string_to_array(p_bodies, E'\n');
  v_count integer := coalesce(cardinality(string_to_array(p_bodies, E'\n')), 0);
  v_prevs text[] := '{}';
  v_hashes text[] := '{}';
  v_positions bigint[];
BEGIN
  SELECT s.tenant_id, s.version, s.head_hash INTO v_tenant, v_version, v_hash
    FROM streams s WHERE s.stream_id = p_stream_id FOR UPDATE;
  IF NOT FOUND THEN
    INSERT INTO streams (stream_id, tenant_id, version, head_hash)
      VALUES (p_stream_id, p_tenant_id, 0, repeat('0', 64)) ON CONFLICT (stream_id) DO NOTHING;
    SELECT s.tenant_id, s.version, s.head_hash INTO v_tenant, v_version, v_hash
      FROM streams s WHERE s.stream_id = p_stream_id FOR UPDATE;
  END IF;
  IF v_tenant <> p_tenant_id THEN
    RAISE EXCEPTION 'stream % belongs to another tenant', p_stream_id USING ERRCODE = 'ALT01';
  END IF;
  IF p_idempotency_key IS NOT NULL THEN
    SELECT k.result INTO v_result FROM idempotency_keys k
      WHERE k.tenant_id = p_tenant_id AND k.stream_id = p_stream_id AND k.key = p_idempotency_key;
    IF FOUND THEN
      RETURN QUERY SELECT
        ARRAY(SELECT jsonb_array_elements_text(v_result -> 'versions')::integer),
        ARRAY(SELECT jsonb_array_elements_text(v_result -> 'positions')::bigint),
        (v_result ->> 'next')::integer,
        true, NULL::text, NULL::text[];
      RETURN;
    END IF;
  END IF;
  IF p_expected IS NOT NULL AND p_expected <> v_version THEN
    RAISE EXCEPTION 'stream %: expected version %, actual %', p_stream_id, p_expected, v_version
      USING ERRCODE = 'ALV01', DETAIL = v_version::text;
  END IF;
  FOR i IN 1 .. v_count LOOP
    v_full[i] := v_full[i] || (v_version + i)::text || '}';
    v_prevs[i] := v_hash;
    v_hash := encode(sha256(convert_to(v_hash || v_full[i], 'UTF8')), 'hex');
    v_hashes[i] := v_hash;
  END LOOP;
  WITH inserted AS (
    INSERT INTO events (stream_id, tenant_id, version, event_id, type, schema_version, data, metadata, recorded_at, prev_hash, hash)
    SELECT p_stream_id, p_tenant_id, v_version + e.ord, (e.doc ->> 'eventId')::uuid, e.doc ->> 'type',
           (e.doc ->> 'schemaVersion')::integer, e.doc -> 'data', e.doc -> 'metadata', p_recorded_at,
           v_prevs[e.ord], v_hashes[e.ord]
      FROM (SELECT o AS ord, v_full[o]::jsonb AS doc FROM generate_series(1, v_count) AS o) AS e
     ORDER BY e.ord
    RETURNING global_position
  )
  SELECT array_agg(global_position ORDER BY global_position) INTO v_positions FROM inserted;
  v_positions := coalesce(v_positions, '{}');
  IF v_count > 0 THEN
    UPDATE streams SET version = v_version + v_count, head_hash = v_hash WHERE stream_id = p_stream_id;
  END IF;
  IF p_idempotency_key IS NOT NULL THEN
    INSERT INTO idempotency_keys (tenant_id, stream_id, key, result) VALUES (p_tenant_id, p_stream_id, p_idempotency_key,
      jsonb_build_object('versions', to_jsonb(ARRAY(SELECT generate_series(v_version + 1, v_version + v_count))),
                         'positions', to_jsonb(v_positions), 'next', v_version + v_count));
  END IF;
  IF p_notify AND v_count > 0 THEN
    PERFORM pg_notify('agentledger_events', v_positions[v_count]::text);
  END IF;
  RETURN QUERY SELECT ARRAY(SELECT generate_series(v_version + 1, v_version + v_count)), v_positions, v_version + v_count, false,
    v_prevs[1], v_hashes;
END;
$$;
