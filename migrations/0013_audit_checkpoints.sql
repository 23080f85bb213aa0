-- Signed checkpoints: an Ed25519 signature over each stream's head {tenant, streamId, version, hash}
-- (canonical JSON), taken when a turn ends and on a timer. A history rewritten with recomputed
-- hashes, or a deleted tail, no longer matches what was signed.
CREATE TABLE IF NOT EXISTS audit_checkpoints (
  tenant_id text NOT NULL,
  stream_id text NOT NULL,
  version bigint NOT NULL,
  hash text NOT NULL,
  key_id text NOT NULL,
  signature text NOT NULL,
  signed_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, stream_id, version, key_id)
);
