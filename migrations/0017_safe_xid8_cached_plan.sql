-- The readAll guard's bound, with its plan kept. As a STABLE SQL function with a FROM clause,
-- agentledger_safe_xid8() cannot be inlined, so Postgres planned its body (pg_snapshot_xip against
-- pg_stat_activity and pg_prepared_xacts) again on every call: about 1-2 ms of a relay read or a
-- subscription page that otherwise takes a fraction of that. PL/pgSQL keeps the plan for the
-- session (the pool's connections live long). The body and its meaning are 0009's unchanged: a
-- STABLE PL/pgSQL function runs on its caller's snapshot, so the bound is still the statement's own
-- snapshot's, computed once per statement (the callers take it as an InitPlan), and
-- agentledger_read_all, the one that matters, stays an inlined SQL function.
-- agentledger_safe_position() moves to PL/pgSQL for the same reason.
CREATE OR REPLACE FUNCTION agentledger_safe_xid8() RETURNS xid8 LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (
    SELECT coalesce(min(x), pg_snapshot_xmax(pg_current_snapshot()))
      FROM pg_snapshot_xip(pg_current_snapshot()) AS x
     WHERE NOT EXISTS (
             SELECT 1 FROM pg_stat_activity a
              WHERE a.datname <> current_database() AND a.backend_xid IS NOT NULL
                AND a.backend_xid::text::bigint = x::text::bigint % 4294967296)
       AND NOT EXISTS (
             SELECT 1 FROM pg_prepared_xacts p
              WHERE p.database <> current_database()
                AND p.transaction::text::bigint = x::text::bigint % 4294967296));
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION agentledger_safe_position() RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT coalesce(max(global_position), 0) FROM events WHERE transaction_id < (SELECT agentledger_safe_xid8()));
END;
$$;
