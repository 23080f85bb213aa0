-- The session's nearest deadline (its turn timeout, a pending approval's deadline), derived from
-- its events by the engine on every append: a replica that takes over partitions (a restart, a
-- rebalance) finds the waiting sessions whose timers it must arm. Owned by libs/sessions.
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS deadline_at timestamptz;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS sessions_deadlines ON sessions (deadline_at) WHERE deadline_at IS NOT NULL;
