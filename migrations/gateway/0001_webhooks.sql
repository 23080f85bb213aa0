-- Webhooks: a tenant's endpoints (the signing secret lives only here, never in an event or a log)
-- and one row per (endpoint, event) to deliver. A delivery id is derived from the endpoint and the
-- event, so fanning an event out twice stores it once and every retry carries the same id.
CREATE TABLE IF NOT EXISTS "webhook_endpoints" (
	"tenant_id" text NOT NULL,
	"endpoint_id" text NOT NULL,
	"url" text NOT NULL,
	"event_types" text[] NOT NULL,
	"statuses" text[] NOT NULL,
	"match_types" text[] NOT NULL,
	"secret" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	PRIMARY KEY ("tenant_id", "endpoint_id")
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "webhook_deliveries" (
	"delivery_id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"endpoint_id" text NOT NULL,
	"stream_id" text NOT NULL,
	"global_position" bigint NOT NULL,
	"event_type" text NOT NULL,
	"payload" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer NOT NULL DEFAULT 0,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"retry_until" timestamp with time zone NOT NULL,
	"claimed_until" timestamp with time zone,
	"last_status" integer,
	"last_error" text,
	"created_at" timestamp with time zone NOT NULL,
	"delivered_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "webhook_deliveries_due_idx" ON "webhook_deliveries" USING btree ("next_attempt_at") WHERE "status" = 'pending';
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "webhook_deliveries_order_idx" ON "webhook_deliveries" USING btree ("tenant_id", "endpoint_id", "stream_id", "global_position") WHERE "status" = 'pending';
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "webhook_deliveries_dead_idx" ON "webhook_deliveries" USING btree ("tenant_id", "endpoint_id", "created_at") WHERE "status" = 'dead';
--> statement-breakpoint
-- Keys that held every scope before webhooks existed ("all of them") keep holding every scope.
UPDATE "api_keys" SET "scopes" = "scopes" || ARRAY['webhooks:read', 'webhooks:write']
WHERE "scopes" @> ARRAY['sessions:read', 'sessions:write', 'teams:read', 'teams:write']
	AND NOT "scopes" @> ARRAY['webhooks:read'];
