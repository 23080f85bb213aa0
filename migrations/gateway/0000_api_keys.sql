-- The gateway's API keys: only SHA-256 hashes are stored, never a key. Applied by the gateway's own
-- migrator (apps/gateway/src/auth/postgres-api-key-store.ts, table __drizzle_gateway_migrations).
CREATE TABLE IF NOT EXISTS "api_keys" (
	"key_hash" text PRIMARY KEY NOT NULL,
	"key_id" text NOT NULL,
	"tenant_id" text NOT NULL,
	"scopes" text[] NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_key_id_unique" UNIQUE("key_id")
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "api_keys_tenant_idx" ON "api_keys" USING btree ("tenant_id");
