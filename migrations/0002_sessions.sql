-- The sessions read model (written by the event store's inline projection in each append's
-- transaction), its leases (owner, epoch = fencing token, expiry by the database clock) and the
-- markers written before a non-idempotent tool runs. Owned by libs/sessions.
CREATE TABLE IF NOT EXISTS sessions (
  session_id text PRIMARY KEY,
  tenant_id text NOT NULL,
  team_id text NOT NULL,
  status text NOT NULL,
  version integer NOT NULL,
  pending_work boolean NOT NULL DEFAULT false,
  partition integer NOT NULL,
  lease_owner text,
  lease_epoch bigint NOT NULL DEFAULT 0,
  lease_expires_at timestamptz,
  last_progress_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS sessions_tenant_created ON sessions (tenant_id, created_at, session_id);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS sessions_recoverable ON sessions (partition) WHERE pending_work;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS sessions_running_progress ON sessions (last_progress_at) WHERE status = 'running';
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS tool_call_attempts (
  session_id text NOT NULL,
  tool_call_id text NOT NULL,
  owner text NOT NULL,
  epoch bigint NOT NULL,
  started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (session_id, tool_call_id)
);
