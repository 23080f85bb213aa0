import { createTestDatabase, type TestDatabase } from '@agentledger/testing';
import { sql } from 'drizzle-orm';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConcurrentChange, HistoryImmutable, StreamVersionConflict } from '../errors.ts';
import { uuidv7 } from '../ids.ts';
import { translatingPgErrors } from './pg-errors.ts';
import { createPostgresEventStore, type PostgresEventStore } from './postgres-event-store.ts';

const tenantId = 't-pg-errors';

/** A SQL adapter as the libraries write them: built once, wrapped once. */
const adapter = translatingPgErrors({
  query: (client: pg.PoolClient, text: string) => client.query(text),
});

/** What the statement rejected with, or `undefined` when it succeeded. */
const outcome = (work: Promise<unknown>): Promise<unknown> =>
  work.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('postgres errors leave the adapters as library errors', () => {
  let database: TestDatabase;
  let store: PostgresEventStore;

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'events_pg_errors');
    store = await createPostgresEventStore({ connectionString: database.url, migrate: true });
    await store.pool.query('create table race (id integer primary key, v integer not null)');
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  const withClients = async <T>(work: (a: pg.PoolClient, b: pg.PoolClient) => Promise<T>): Promise<T> => {
    const [a, b] = [await store.pool.connect(), await store.pool.connect()];
    try {
      return await work(a, b);
    } finally {
      await a.query('rollback').catch(() => undefined);
      await b.query('rollback').catch(() => undefined);
      a.release();
      b.release();
    }
  };

  it('a unique violation (23505) is a ConcurrentChange, from the driver and through drizzle', async () => {
    await store.pool.query('insert into race values (100, 0)');
    const viaDriver = await withClients((a) => outcome(adapter.query(a, 'insert into race values (100, 1)')));
    expect(viaDriver).toBeInstanceOf(ConcurrentChange);
    expect(viaDriver).toMatchObject({ retryable: true, cause: { code: '23505' } });

    const viaDrizzle = translatingPgErrors({
      insert: () => store.db.execute(sql`insert into race values (100, 2)`),
    });
    const wrapped = await outcome(viaDrizzle.insert());
    expect(wrapped).toBeInstanceOf(ConcurrentChange);
    expect(wrapped).toMatchObject({ cause: { cause: { code: '23505' } } });
  });

  it('a serialization failure (40001) is a ConcurrentChange', async () => {
    const failures = await withClients(async (a, b) => {
      const results: unknown[] = [];
      // Write skew: each reads what the other writes, so one of them cannot commit.
      for (const [client, text] of [
        [a, 'begin isolation level serializable'],
        [b, 'begin isolation level serializable'],
        [a, 'select count(*) from race where v = 7'],
        [b, 'select count(*) from race where v = 7'],
        [a, 'insert into race values (1, 7)'],
        [b, 'insert into race values (2, 7)'],
        [a, 'commit'],
        [b, 'commit'],
      ] as const)
        results.push(await outcome(adapter.query(client, text)));
      return results.filter((result) => result !== undefined);
    });
    expect(failures).toEqual([expect.any(ConcurrentChange)]);
    expect(failures[0]).toMatchObject({ cause: { code: '40001' } });
  });

  it('a deadlock (40P01) is a ConcurrentChange', async () => {
    await store.pool.query('insert into race values (11, 0), (12, 0)');
    const failures = await withClients(async (a, b) => {
      await adapter.query(a, 'begin');
      await adapter.query(b, 'begin');
      await adapter.query(a, 'update race set v = 1 where id = 11');
      await adapter.query(b, 'update race set v = 1 where id = 12');
      const results = await Promise.all([
        outcome(adapter.query(a, 'update race set v = 2 where id = 12')),
        outcome(adapter.query(b, 'update race set v = 2 where id = 11')),
      ]);
      return results.filter((result) => result !== undefined);
    });
    expect(failures).toEqual([expect.any(ConcurrentChange)]);
    expect(failures[0]).toMatchObject({ cause: { code: '40P01' } });
  });

  it('the append-only guard (23001) is HistoryImmutable', async () => {
    const streamId = `session-immutable-${uuidv7()}`;
    await store.append(streamId, [{ type: 'A', data: {} }], { tenantId, expectedVersion: 'no_stream' });
    const refused = await withClients((a) =>
      outcome(adapter.query(a, `delete from events where stream_id = '${streamId}'`)),
    );
    expect(refused).toBeInstanceOf(HistoryImmutable);
    expect(refused).toMatchObject({
      message: expect.stringContaining('append-only'),
      cause: { code: '23001' },
    });
  });

  it('the event store names the stream for ALV01 and translates what its projections raise', async () => {
    const streamId = `session-alv-${uuidv7()}`;
    await store.append(streamId, [{ type: 'A', data: {} }], { tenantId, expectedVersion: 'no_stream' });
    const stale = await outcome(
      store.append(streamId, [{ type: 'B', data: {} }], { tenantId, expectedVersion: 0 }),
    );
    expect(stale).toBeInstanceOf(StreamVersionConflict);
    expect(stale).toMatchObject({ streamId, actual: 1, retryable: true });

    await store.pool.query('insert into race values (200, 0)');
    const projected = await outcome(
      store.append(streamId, [{ type: 'C', data: {} }], {
        tenantId,
        expectedVersion: 1,
        inline: async ({ tx }) => void (await tx.execute(sql`insert into race values (200, 1)`)),
      }),
    );
    expect(projected).toBeInstanceOf(ConcurrentChange);
    expect((await store.readStream(streamId, { tenantId })).map((event) => event.type)).toEqual(['A']);
  });
});
