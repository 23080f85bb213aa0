-- The per-database readAll guard in one snapshot. Within a statement, pg_current_snapshot() is the
-- statement's own snapshot, so the bound is: its xmax, lowered to every xid it still sees running
-- except those of transactions known to run in another database. A transaction of this database
-- that was running at the snapshot is never mistaken for another database's, so its rows (whatever
-- their positions) stay below no returned row; one that started later has an xid >= xmax. Stale
-- activity data can only lower the bound. The functions are STABLE SQL: the bound is computed once
-- per statement and agentledger_read_all is inlined into the caller's query (no materialisation).
CREATE OR REPLACE FUNCTION agentledger_safe_xid8() RETURNS xid8 LANGUAGE sql STABLE AS $$
  SELECT coalesce(min(x), pg_snapshot_xmax(pg_current_snapshot()))
    FROM pg_snapshot_xip(pg_current_snapshot()) AS x
   WHERE NOT EXISTS (
           SELECT 1 FROM pg_stat_activity a
            WHERE a.datname <> current_database() AND a.backend_xid IS NOT NULL
              AND a.backend_xid::text::bigint = x::text::bigint % 4294967296)
     AND NOT EXISTS (
           SELECT 1 FROM pg_prepared_xacts p
            WHERE p.database <> current_database()
              AND p.transaction::text::bigint = x::text::bigint % 4294967296)
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION agentledger_read_all(p_after bigint, p_limit integer, p_tenant_id text)
RETURNS SETOF events LANGUAGE sql STABLE AS $$
  SELECT * FROM events e
   WHERE e.global_position > p_after AND e.transaction_id < (SELECT agentledger_safe_xid8())
     AND (p_tenant_id IS NULL OR e.tenant_id = p_tenant_id)
   ORDER BY e.global_position
   LIMIT p_limit
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION agentledger_safe_position() RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT coalesce(max(global_position), 0) FROM events WHERE transaction_id < (SELECT agentledger_safe_xid8())
$$;
