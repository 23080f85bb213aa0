-- Retention: whole sessions are deleted by the operator's policy, and only through
-- agentledger_delete_session, which first records a tombstone (tenant, session, stream, head
-- version and hash, event count, the last signed checkpoint, policy, time). The events guard of
-- 0011 now lets a DELETE of an event through only when its stream has a tombstone written in the
-- same transaction; UPDATE and TRUNCATE stay refused. A tombstone is checked against the stream's
-- head when it is written, and at commit its stream must hold no event (never a prefix).
-- Tombstones are append-only themselves. Owned by libs/sessions (retention).
CREATE TABLE IF NOT EXISTS session_tombstones (
  id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
  tenant_id text NOT NULL,
  session_id text NOT NULL,
  stream_id text NOT NULL,
  head_version integer NOT NULL,
  head_hash text NOT NULL,
  event_count integer NOT NULL,
  checkpoint jsonb,
  policy jsonb NOT NULL,
  deleted_at timestamptz NOT NULL,
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id()
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS session_tombstones_stream ON session_tombstones (stream_id, transaction_id);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS session_tombstones_tenant ON session_tombstones (tenant_id, deleted_at);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION agentledger_tombstone_checked() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_version integer;
  v_hash text;
  v_count integer;
BEGIN
  NEW.transaction_id := pg_current_xact_id();
  SELECT s.version, s.head_hash INTO v_version, v_hash FROM streams s
   WHERE s.stream_id = NEW.stream_id AND s.tenant_id = NEW.tenant_id;
  SELECT count(*) INTO v_count FROM events e WHERE e.stream_id = NEW.stream_id;
  IF v_version IS DISTINCT FROM NEW.head_version OR v_hash IS DISTINCT FROM NEW.head_hash
     OR v_count <> NEW.event_count THEN
    RAISE EXCEPTION 'tombstone of % does not match the stream head', NEW.stream_id
      USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS session_tombstones_checked ON session_tombstones;
--> statement-breakpoint
CREATE TRIGGER session_tombstones_checked BEFORE INSERT ON session_tombstones
  FOR EACH ROW EXECUTE FUNCTION agentledger_tombstone_checked();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION agentledger_tombstones_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'session_tombstones are append-only: % is refused', TG_OP
    USING ERRCODE = 'restrict_violation';
END
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS session_tombstones_append_only ON session_tombstones;
--> statement-breakpoint
CREATE TRIGGER session_tombstones_append_only BEFORE UPDATE OR DELETE ON session_tombstones
  FOR EACH ROW EXECUTE FUNCTION agentledger_tombstones_append_only();
--> statement-breakpoint
DROP TRIGGER IF EXISTS session_tombstones_no_truncate ON session_tombstones;
--> statement-breakpoint
CREATE TRIGGER session_tombstones_no_truncate BEFORE TRUNCATE ON session_tombstones
  FOR EACH STATEMENT EXECUTE FUNCTION agentledger_tombstones_append_only();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION agentledger_tombstone_whole() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM events e WHERE e.stream_id = NEW.stream_id) THEN
    RAISE EXCEPTION 'retention deletes whole sessions only: % still has events', NEW.stream_id
      USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS session_tombstones_whole ON session_tombstones;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER session_tombstones_whole AFTER INSERT ON session_tombstones
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION agentledger_tombstone_whole();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION agentledger_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF EXISTS (SELECT 1 FROM session_tombstones t
                WHERE t.stream_id = OLD.stream_id AND t.tenant_id = OLD.tenant_id
                  AND t.transaction_id = pg_current_xact_id()) THEN
      RETURN OLD;
    END IF;
  END IF;
  RAISE EXCEPTION 'events are append-only: % on events is refused', TG_OP
    USING ERRCODE = 'restrict_violation',
          HINT = 'history changes only by appending a new event; whole sessions are removed by retention (agentledger retention run)';
END
$$;
--> statement-breakpoint
-- Deletes one session whole when its stream is still at p_expected_version (else returns no row:
-- it moved since the policy chose it). Returns the tombstone it wrote.
CREATE OR REPLACE FUNCTION agentledger_delete_session(
  p_tenant_id text,
  p_session_id text,
  p_expected_version integer,
  p_policy jsonb,
  p_deleted_at timestamptz
) RETURNS SETOF session_tombstones LANGUAGE plpgsql AS $$
DECLARE
  v_stream text;
  v_version integer;
  v_hash text;
  v_checkpoint jsonb;
  v_tombstone session_tombstones;
BEGIN
  SELECT s.stream_id INTO v_stream FROM sessions s
   WHERE s.tenant_id = p_tenant_id AND s.session_id = p_session_id;
  IF NOT FOUND THEN RETURN; END IF;
  -- The stream head first, as appends lock it: no deadlock with an append's projection.
  SELECT st.version, st.head_hash INTO v_version, v_hash FROM streams st
   WHERE st.stream_id = v_stream AND st.tenant_id = p_tenant_id FOR UPDATE;
  IF NOT FOUND OR v_version <> p_expected_version THEN RETURN; END IF;
  PERFORM 1 FROM sessions s WHERE s.tenant_id = p_tenant_id AND s.session_id = p_session_id FOR UPDATE;
  SELECT jsonb_build_object('version', c.version, 'hash', c.hash, 'keyId', c.key_id,
                            'signature', c.signature, 'signedAt', c.signed_at)
    INTO v_checkpoint FROM audit_checkpoints c
   WHERE c.tenant_id = p_tenant_id AND c.stream_id = v_stream
   ORDER BY c.version DESC, c.key_id LIMIT 1;
  INSERT INTO session_tombstones (tenant_id, session_id, stream_id, head_version, head_hash, event_count,
                                  checkpoint, policy, deleted_at)
    VALUES (p_tenant_id, p_session_id, v_stream, v_version, v_hash,
            (SELECT count(*) FROM events e WHERE e.stream_id = v_stream), v_checkpoint, p_policy, p_deleted_at)
    RETURNING * INTO v_tombstone;
  DELETE FROM events WHERE stream_id = v_stream;
  DELETE FROM snapshots WHERE stream_id = v_stream;
  DELETE FROM idempotency_keys WHERE tenant_id = p_tenant_id AND stream_id = v_stream;
  DELETE FROM audit_checkpoints WHERE tenant_id = p_tenant_id AND stream_id = v_stream;
  DELETE FROM tool_call_attempts WHERE tenant_id = p_tenant_id AND session_id = p_session_id;
  DELETE FROM sessions WHERE tenant_id = p_tenant_id AND session_id = p_session_id;
  DELETE FROM streams WHERE stream_id = v_stream;
  RETURN NEXT v_tombstone;
END
$$;
--> statement-breakpoint
-- A deleted session's stream id is never used again: caches and consumers' duplicate filters key
-- on (stream, version), so a new stream under an old id could be mistaken for the deleted one.
-- Checked when a stream row is created (once per stream, not per event).
CREATE OR REPLACE FUNCTION agentledger_stream_not_tombstoned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM session_tombstones t WHERE t.stream_id = NEW.stream_id) THEN
    RAISE EXCEPTION 'stream % was deleted by retention; its id is not reused', NEW.stream_id
      USING ERRCODE = 'ALT02';
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS streams_not_tombstoned ON streams;
--> statement-breakpoint
CREATE TRIGGER streams_not_tombstoned BEFORE INSERT ON streams
  FOR EACH ROW EXECUTE FUNCTION agentledger_stream_not_tombstoned();
