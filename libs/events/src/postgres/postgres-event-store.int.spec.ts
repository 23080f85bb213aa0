import { createTestDatabase, type TestDatabase } from '@agentledger/testing';
import pg from 'pg';
import { inject } from 'vitest';
import { eventStoreContract } from '../contract/event-store.contract.ts';
import { runMigrations } from './migrate.ts';
import { createPgDriver, ignoreClientErrors } from './postgres-event-store.ts';
import { createSqlEventStore } from './sql-event-store.ts';

eventStoreContract('postgres', async () => {
  const database: TestDatabase = await createTestDatabase(inject('databaseUrl'), 'events_contract');
  const pool = new pg.Pool({ connectionString: database.url, max: 20 });
  ignoreClientErrors(pool);
  await runMigrations(pool);
  return {
    store: (options) => createSqlEventStore(createPgDriver(pool, false), options),
    tamper: async (streamId, version, data) => {
      await pool.query('update events set data = $3::jsonb where stream_id = $1 and version = $2', [
        streamId,
        version,
        JSON.stringify(data),
      ]);
    },
    close: async () => {
      await pool.end();
      await database.drop();
    },
  };
});
