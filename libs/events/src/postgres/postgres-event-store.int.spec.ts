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
    transaction: async (work) => {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const result = await work((text, params) => client.query(text, params ? [...params] : []));
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback');
        throw error;
      } finally {
        client.release();
      }
    },
    close: async () => {
      await pool.end();
      await database.drop();
    },
  };
});
