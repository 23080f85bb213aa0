-- Tokens each tenant's model calls used per UTC day, written by the sessions projection in the same
-- transaction as the ModelCallCompleted events; read by the orchestrator to fail closed once a
-- tenant's daily token budget is spent. Owned by libs/sessions.
CREATE TABLE IF NOT EXISTS tenant_usage (
  tenant_id text NOT NULL,
  day date NOT NULL,
  tokens bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, day)
);
