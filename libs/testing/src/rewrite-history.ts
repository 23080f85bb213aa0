import { computeEventHash, GENESIS_HASH, type EventEnvelope } from '@agentledger/events';
import pg from 'pg';

/**
 * What someone with the `events` table owner's rights can do (EVENT-STORE.md, "Append-only"): lift
 * the guard, replace a stream's rows by `rows` (edited data, a shorter tail) with the hash chain
 * recomputed and the stream head moved, then put the guard back. The chain alone then verifies;
 * only signed checkpoints still tell.
 */
export const rewriteHistory = async (
  databaseUrl: string,
  streamId: string,
  rows: readonly EventEnvelope[],
): Promise<void> => {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('ALTER TABLE events DISABLE TRIGGER events_append_only');
    let prevHash = GENESIS_HASH;
    let beforeHead = GENESIS_HASH;
    for (const row of rows) {
      const hash = computeEventHash(prevHash, row);
      await client.query(
        'update events set data = $3::jsonb, prev_hash = $4, hash = $5 where stream_id = $1 and version = $2',
        [streamId, row.version, JSON.stringify(row.data), prevHash, hash],
      );
      beforeHead = prevHash;
      prevHash = hash;
    }
    await client.query('delete from events where stream_id = $1 and version > $2', [streamId, rows.length]);
    await client.query(
      'update streams set version = $2, head_hash = $3, prev_head_hash = $4 where stream_id = $1',
      [streamId, rows.length, prevHash, beforeHead],
    );
    await client.query('ALTER TABLE events ENABLE TRIGGER events_append_only');
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    await client.end();
  }
};
