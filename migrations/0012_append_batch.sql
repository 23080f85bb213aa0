-- agentledger_append_batch: group commit. Appends that arrive together (to different streams, or
-- in order to one) run in one transaction and share one commit; each runs in its own
-- subtransaction (a BEGIN … EXCEPTION block), so one that fails (version conflict, tenant
-- mismatch, a refused body) is rolled back alone and reported in its own result row while the
-- others commit. The client orders a batch by stream id, so batches lock stream heads in one order.
--
-- Arrays are parallel, one element per append; p_bodies[i] is that append's newline-joined bodies.
-- A row per append, in input order: ord (1-based), the agentledger_append result, or the error's
-- SQLSTATE, message, detail and constraint.
CREATE OR REPLACE FUNCTION agentledger_append_batch(
  p_stream_ids text[],
  p_tenant_ids text[],
  p_expected integer[],
  p_idempotency_keys text[],
  p_recorded_at timestamptz[],
  p_bodies text[]
) RETURNS TABLE (ord integer, positions bigint[], next_version integer, duplicate boolean,
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
      SELECT a.positions, a.next_version, a.duplicate INTO r
        FROM agentledger_append(p_stream_ids[i], p_tenant_ids[i], p_expected[i], p_idempotency_keys[i],
                                p_recorded_at[i], p_bodies[i], false) a;
      RETURN QUERY SELECT i, r.positions, r.next_version, r.duplicate, NULL::text, NULL::text, NULL::text, NULL::text;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS v_code = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                              v_detail = PG_EXCEPTION_DETAIL, v_constraint = CONSTRAINT_NAME;
      RETURN QUERY SELECT i, NULL::bigint[], NULL::integer, NULL::boolean, v_code, v_message, v_detail, v_constraint;
    END;
  END LOOP;
END;
$$;
