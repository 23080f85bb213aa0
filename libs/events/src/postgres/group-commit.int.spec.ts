import { createTestDatabase, type TestDatabase } from '@agentledger/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { StreamVersionConflict } from '../errors.ts';
import { uuidv7 } from '../ids.ts';
import { createPostgresEventStore, type PostgresEventStore } from './postgres-event-store.ts';

const tenantId = 't-group';

/** Distinct top-level transactions that wrote the events of these streams. */
const transactionsOf = async (store: PostgresEventStore, streams: readonly string[]): Promise<number> => {
  const { rows } = await store.pool.query<{ n: number }>(
    'select count(distinct transaction_id::text)::int as n from events where stream_id = any($1::text[])',
    [streams],
  );
  return rows[0]?.n ?? 0;
};

describe('postgres: group commit', () => {
  let database: TestDatabase;
  let grouped: PostgresEventStore;
  let alone: PostgresEventStore;

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'events_group');
    // One batch in flight: the first append goes at once, the ones queued behind it go together.
    grouped = await createPostgresEventStore({
      connectionString: database.url,
      migrate: true,
      groupCommit: { maxInFlight: 1 },
    });
    alone = await createPostgresEventStore({ connectionString: database.url, groupCommit: false });
  });
  afterAll(async () => {
    await grouped?.close();
    await alone?.close();
    await database?.drop();
  });

  it('commits appends to different streams that arrive together in one transaction', async () => {
    const streams = Array.from({ length: 10 }, (_, index) => `session-g${index}-${uuidv7()}`);
    await Promise.all(
      streams.map((streamId) =>
        grouped.append(streamId, [{ type: 'A', data: {} }], { tenantId, expectedVersion: 'no_stream' }),
      ),
    );
    expect(await transactionsOf(grouped, streams)).toBe(2);

    const separate = Array.from({ length: 10 }, (_, index) => `session-s${index}-${uuidv7()}`);
    await Promise.all(
      separate.map((streamId) =>
        alone.append(streamId, [{ type: 'A', data: {} }], { tenantId, expectedVersion: 'no_stream' }),
      ),
    );
    expect(await transactionsOf(alone, separate)).toBe(10);
  });

  it('rolls back only the failing append of a batch and keeps the chain of the others', async () => {
    const streams = Array.from({ length: 6 }, (_, index) => `session-f${index}-${uuidv7()}`);
    const outcomes = await Promise.allSettled(
      streams.map((streamId, index) =>
        grouped.append(
          streamId,
          [
            { type: 'A', data: { index } },
            { type: 'B', data: {} },
          ],
          {
            tenantId,
            expectedVersion: index === 3 ? 4 : 'no_stream',
          },
        ),
      ),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    const failed = outcomes[3];
    expect(failed?.status === 'rejected' && failed.reason).toBeInstanceOf(StreamVersionConflict);
    expect(await grouped.readStream(streams[3]!, { tenantId })).toEqual([]);
    expect(await transactionsOf(grouped, streams)).toBe(2);
    for (const streamId of streams.filter((_, index) => index !== 3))
      expect((await grouped.verifyStream(streamId, { tenantId })).valid).toBe(true);
  });
});
