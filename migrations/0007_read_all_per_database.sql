-- The readAll guard, per database: `transaction_id < pg_snapshot_xmin(pg_current_snapshot())`
-- holds readers back for any writing transaction on the whole server (xids are cluster-wide), so a
-- long transaction in another database stalls every relay. agentledger_safe_xid8() is the lowest
-- xid a transaction of *this* database may still commit with: the oldest xid still running here
-- (backends and prepared transactions), else the snapshot's xmax. Rows below it are final once
-- every such transaction has ended, so the read takes a later snapshot than the bound (a second
-- statement); a transaction that gets its xid after the bound's snapshot gets one above it.
CREATE OR REPLACE FUNCTION agentledger_safe_xid8() RETURNS xid8 LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_xmax bigint;
  v_epoch bigint;
  v_min bigint;
BEGIN
  v_xmax := pg_snapshot_xmax(pg_current_snapshot())::text::bigint;
  v_epoch := (v_xmax >> 32) << 32;
  PERFORM pg_stat_clear_snapshot();
  SELECT min(CASE WHEN v_epoch + x > v_xmax THEN v_epoch + x - 4294967296 ELSE v_epoch + x END) INTO v_min
    FROM (
      SELECT a.backend_xid::text::bigint AS x FROM pg_stat_activity a
       WHERE a.datname = current_database() AND a.backend_xid IS NOT NULL
      UNION ALL
      SELECT p.transaction::text::bigint FROM pg_prepared_xacts p WHERE p.database = current_database()
    ) AS running;
  RETURN least(coalesce(v_min, v_xmax), v_xmax)::text::xid8;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION agentledger_read_all(p_after bigint, p_limit integer, p_tenant_id text)
RETURNS SETOF events LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_bound xid8 := agentledger_safe_xid8();
BEGIN
  RETURN QUERY SELECT * FROM events e
   WHERE e.global_position > p_after AND e.transaction_id < v_bound
     AND (p_tenant_id IS NULL OR e.tenant_id = p_tenant_id)
   ORDER BY e.global_position
   LIMIT p_limit;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION agentledger_safe_position() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_bound xid8 := agentledger_safe_xid8();
BEGIN
  RETURN (SELECT coalesce(max(global_position), 0) FROM events WHERE transaction_id < v_bound);
END;
$$;
