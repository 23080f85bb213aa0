-- Session ids are scoped by tenant: two tenants may use one session id. The read model is keyed by
-- (tenant_id, session_id) and records each session's stream id. Events are never rewritten (their
-- hash chain covers the stream id), so sessions created before this migration keep their stream
-- `session-<session_id>`; new ones get `session-<tenant_id>/<session_id>`. Tool-call attempt
-- markers are keyed by tenant too. Owned by libs/sessions.
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS stream_id text;
--> statement-breakpoint
UPDATE sessions SET stream_id = 'session-' || session_id WHERE stream_id IS NULL;
--> statement-breakpoint
ALTER TABLE sessions ALTER COLUMN stream_id SET NOT NULL;
--> statement-breakpoint
ALTER TABLE sessions DROP CONSTRAINT IF EXISTS sessions_pkey;
--> statement-breakpoint
ALTER TABLE sessions ADD CONSTRAINT sessions_pkey PRIMARY KEY (tenant_id, session_id);
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS sessions_stream_id_key ON sessions (stream_id);
--> statement-breakpoint
ALTER TABLE tool_call_attempts ADD COLUMN IF NOT EXISTS tenant_id text;
--> statement-breakpoint
UPDATE tool_call_attempts t SET tenant_id = s.tenant_id FROM sessions s
 WHERE t.tenant_id IS NULL AND s.session_id = t.session_id;
--> statement-breakpoint
-- A marker is only ever written under a lease on an existing session row: none is left without one.
DELETE FROM tool_call_attempts WHERE tenant_id IS NULL;
--> statement-breakpoint
ALTER TABLE tool_call_attempts ALTER COLUMN tenant_id SET NOT NULL;
--> statement-breakpoint
ALTER TABLE tool_call_attempts DROP CONSTRAINT IF EXISTS tool_call_attempts_pkey;
--> statement-breakpoint
ALTER TABLE tool_call_attempts ADD CONSTRAINT tool_call_attempts_pkey PRIMARY KEY (tenant_id, session_id, tool_call_id);
