import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createPostgresEventStore, type PostgresEventStore } from '@agentledger/events/postgres';
import { createTestDatabase, type TestDatabase } from '@agentledger/testing';
import { sessionIndexContracts } from '../contract/index.ts';
import { createSessionEngine } from '../engine/session-engine.ts';
import { postMessage, startSession } from '../testing/fixtures.ts';
import { createSqlSessionIndex } from './sql-session-index.ts';

// Every role contract (read model, leases, recovery, usage, tool attempts) on real Postgres,
// where concurrent claimants really race.
sessionIndexContracts(
  'postgres',
  async () => {
    const database = await createTestDatabase(inject('databaseUrl'), 'sessions');
    const store = await createPostgresEventStore({ connectionString: database.url, migrate: true });
    return {
      store,
      index: createSqlSessionIndex(store.db),
      now: Date.now,
      // The day is the database's: move what was counted one day back.
      passDay: async () => {
        await store.db.execute(sql`update tenant_usage set day = day - 1`);
      },
      close: async () => {
        await store.close();
        await database.drop();
      },
    };
  },
  { transactional: true },
);

describe('session commands racing on Postgres', () => {
  let database: TestDatabase;
  let store: PostgresEventStore;

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'races');
    store = await createPostgresEventStore({ connectionString: database.url, migrate: true });
  });

  afterAll(async () => {
    await store.close();
    await database.drop();
  });

  it('retries version conflicts (raised inside the projection’s transaction) until every command lands', async () => {
    const index = createSqlSessionIndex(store.db);
    const repositories = Array.from({ length: 20 }, () =>
      createSessionEngine({ store, index, partitions: 12 }),
    );
    await repositories[0]!.handle(startSession('race'), { tenantId: 'tenant-a', sessionId: 'race' });
    await Promise.all(
      repositories.map((repository, i) =>
        repository.handle(postMessage(`m${i}`, `message ${i}`), { tenantId: 'tenant-a', sessionId: 'race' }),
      ),
    );
    const state = await repositories[0]!.load('tenant-a', 'race');
    expect(state?.messages.filter((m) => m.role === 'user')).toHaveLength(20);
    expect((await index.get('tenant-a', 'race'))?.version).toBe(state?.version);
  });
});
