import { sql } from 'drizzle-orm';
import { type AnyPgDatabase, translatingPgErrors } from '@agentledger/events/postgres';
import type { Checkpoint, CheckpointStore } from '../audit/checkpoints.ts';

/** Signed checkpoints on Postgres or PGlite (table `audit_checkpoints`, migration 0013). */
export const createSqlCheckpointStore = (db: AnyPgDatabase): CheckpointStore =>
  translatingPgErrors({
    save: async (c) => {
      await db.execute(sql`
      INSERT INTO audit_checkpoints (tenant_id, stream_id, version, hash, key_id, signature, signed_at)
      VALUES (${c.tenant}, ${c.streamId}, ${c.version}, ${c.hash}, ${c.keyId}, ${c.signature}, ${c.signedAt})
      ON CONFLICT DO NOTHING`);
    },
    list: async (tenant, streamId) => {
      const result = (await db.execute(sql`
      SELECT tenant_id, stream_id, version, hash, key_id, signature, signed_at
      FROM audit_checkpoints WHERE tenant_id = ${tenant} AND stream_id = ${streamId}
      ORDER BY version, key_id`)) as unknown as { rows: Record<string, unknown>[] };
      return result.rows.map((r): Checkpoint => ({
        tenant: String(r.tenant_id),
        streamId: String(r.stream_id),
        version: Number(r.version),
        hash: String(r.hash),
        keyId: String(r.key_id),
        signature: String(r.signature),
        signedAt:
          r.signed_at instanceof Date
            ? r.signed_at.toISOString()
            : new Date(String(r.signed_at)).toISOString(),
      }));
    },
  });
