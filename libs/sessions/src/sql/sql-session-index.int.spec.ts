import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createPostgresEventStore, type PostgresEventStore } from '@agentledger/events/postgres';
import { createTestDatabase, type TestDatabase } from '@agentledger/testing';
import { projection, write } from '../contract/harness.ts';
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
  it('keeps token usage per session: an append adding tokens never waits for another session’s usage row', async () => {
    const index = createSqlSessionIndex(store.db);
    const harness = { store, index };
    await write(harness, projection('tenant-u', 'usage-1', { tokensUsed: 5 }));
    await write(harness, projection('tenant-u', 'usage-2', { tokensUsed: 7 }));
    // Another transaction holds every usage row of the tenant but usage-2's, as appends adding
    // tokens to those sessions do until they commit.
    const holder = await store.pool.connect();
    try {
      await holder.query('begin');
      await holder.query(
        `select 1 from tenant_usage where tenant_id = 'tenant-u' and session_id <> 'usage-2' for update`,
      );
      const appended = await Promise.race([
        write(harness, projection('tenant-u', 'usage-2', { version: 2, tokensUsed: 11 })),
        new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 10_000)),
      ]);
      expect(appended).not.toBe('blocked');
    } finally {
      await holder.query('commit');
      holder.release();
    }
    expect(await index.tenantTokensToday('tenant-u')).toBe(23);
    const { rows } = await store.pool.query(
      `select session_id, tokens::int from tenant_usage where tenant_id = 'tenant-u' order by session_id`,
    );
    expect(rows).toEqual([
      { session_id: 'usage-1', tokens: 5 },
      { session_id: 'usage-2', tokens: 18 },
    ]);
  });

  it('moves a session’s last progress at most once a second on fenced appends (a turn’s steps leave that indexed column alone)', async () => {
    const index = createSqlSessionIndex(store.db);
    const harness = { store, index };
    const running = projection('tenant-p', 'progress-1', { status: 'running', pendingWork: true });
    await write(harness, running);
    const lease = (await index.acquire('tenant-p', 'progress-1', 'owner-p', 60_000))!;
    const where = `tenant_id = 'tenant-p' and session_id = 'progress-1'`;
    const progressAt = async (): Promise<number> => {
      const { rows } = await store.pool.query<{ ms: number }>(
        `select extract(epoch from last_progress_at)::float8 * 1000 as ms from sessions where ${where}`,
      );
      return rows[0]!.ms;
    };
    // Recent progress (stamped ahead, so a slow machine cannot age it past the second meanwhile).
    await store.pool.query(
      `update sessions set last_progress_at = clock_timestamp() + interval '10 seconds' where ${where}`,
    );
    const recent = await progressAt();
    await write(harness, { ...running, version: 2 }, { lease });
    await write(harness, { ...running, version: 3 }, { lease });
    expect(await progressAt()).toBe(recent);
    expect((await index.get('tenant-p', 'progress-1'))?.version).toBe(3);
    // Progress older than a second: the next fenced append moves it to now.
    await store.pool.query(
      `update sessions set last_progress_at = clock_timestamp() - interval '5 seconds' where ${where}`,
    );
    const old = await progressAt();
    await write(harness, { ...running, version: 4 }, { lease });
    expect(await progressAt()).toBeGreaterThan(old + 4_000);
    // An unfenced write (a user's message) stamps it as before.
    await store.pool.query(
      `update sessions set last_progress_at = clock_timestamp() - interval '5 seconds' where ${where}`,
    );
    const older = await progressAt();
    await write(harness, { ...running, version: 5 });
    expect(await progressAt()).toBeGreaterThan(older + 4_000);
  });

  it('renews leases without waiting for a row an append holds: that one is reported held and renewed by the next call', async () => {
    const index = createSqlSessionIndex(store.db);
    const engine = createSessionEngine({ store, index, partitions: 12 });
    const ref = (id: string) => ({ tenantId: 'tenant-a', sessionId: id });
    await engine.handle(startSession('beat-free'), ref('beat-free'));
    await engine.handle(startSession('beat-busy'), ref('beat-busy'));
    const free = (await index.acquire('tenant-a', 'beat-free', 'owner-1', 1_000))!;
    const busy = (await index.acquire('tenant-a', 'beat-busy', 'owner-1', 1_000))!;
    const expiry = async (id: string) => Date.parse((await index.get('tenant-a', id))!.leaseExpiresAt!);
    const [freeBefore, busyBefore] = [await expiry('beat-free'), await expiry('beat-busy')];
    // Another transaction holds beat-busy's row, as an append's projection does until it commits.
    const holder = await store.pool.connect();
    try {
      await holder.query('begin');
      await holder.query(`select 1 from sessions where session_id = 'beat-busy' for update`);
      const renewed = await Promise.race([
        index.renew([free, busy], 600_000),
        new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 20_000)),
      ]);
      expect(renewed).toEqual([free, busy]);
      expect(await expiry('beat-free')).toBeGreaterThan(freeBefore + 500_000);
      expect(await expiry('beat-busy')).toBe(busyBefore);
    } finally {
      await holder.query('commit');
      holder.release();
    }
    expect(await index.renew([free, busy], 600_000)).toEqual([free, busy]);
    expect(await expiry('beat-busy')).toBeGreaterThan(busyBefore + 500_000);
  });
});
