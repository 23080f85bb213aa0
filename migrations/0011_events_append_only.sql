-- The log is append-only in the database too: UPDATE, DELETE and TRUNCATE on events fail, whoever
-- sends them, so the only way to change history is a new event. Lifting the guard takes the
-- table's owner (ALTER TABLE events DISABLE TRIGGER ...) or a superuser (session_replication_role);
-- libs/events/EVENT-STORE.md tells auditors how to check that nobody did.
CREATE OR REPLACE FUNCTION agentledger_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are append-only: % on events is refused', TG_OP
    USING ERRCODE = 'restrict_violation',
          HINT = 'history changes only by appending a new event';
END
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS events_append_only ON events;
--> statement-breakpoint
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION agentledger_events_append_only();
--> statement-breakpoint
DROP TRIGGER IF EXISTS events_no_truncate ON events;
--> statement-breakpoint
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION agentledger_events_append_only();
