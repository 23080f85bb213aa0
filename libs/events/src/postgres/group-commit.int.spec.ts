import { createTestDatabase, type TestDatabase } from '@agentledger/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InvalidEvent, StreamVersionConflict } from '../errors.ts';
import type { EventEnvelope } from '../envelope.ts';
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
    // A declared projection of the tests' own: counts a stream's appends, raises on request.
    await grouped.pool.query(
      'create table probe_counts (stream_id text primary key, appends integer not null, last_version integer)',
    );
    await grouped.pool
      .query(`create function agentledger_project_probe(p jsonb) returns void language plpgsql as $$
      begin
        if (p ->> 'refuse')::boolean then raise exception 'probe refused' using errcode = 'ALP01'; end if;
        insert into probe_counts values (p ->> 'streamId', 1, (p ->> 'version')::integer)
          on conflict (stream_id) do update set appends = probe_counts.appends + 1, last_version = excluded.last_version;
      end $$`);
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

  it('runs declared projections in the batch: a refused one fails its own append only', async () => {
    class ProbeRefused extends Error {}
    const streams = Array.from({ length: 8 }, (_, index) => `session-d${index}-${uuidv7()}`);
    const seen = new Map<string, readonly EventEnvelope[]>();
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
            expectedVersion: 0,
            declared: (events) => {
              seen.set(streamId, events);
              return {
                name: 'probe',
                argument: { streamId, version: events.at(-1)?.version, refuse: index === 2 },
                refusal: ({ code }) => (code === 'ALP01' ? new ProbeRefused() : undefined),
              };
            },
          },
        ),
      ),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    const refused = outcomes[2];
    expect(refused?.status === 'rejected' && refused.reason).toBeInstanceOf(ProbeRefused);
    expect(await grouped.readStream(streams[2]!, { tenantId })).toEqual([]);
    // The projection saw the versions before the append; the result carries the events as stored.
    expect(seen.get(streams[0]!)?.map((event) => event.version)).toEqual([1, 2]);
    for (const [index, streamId] of streams.entries()) {
      if (index === 2) continue;
      const outcome = outcomes[index];
      const stored = await grouped.readStream(streamId, { tenantId });
      expect(outcome?.status === 'fulfilled' && outcome.value.events).toEqual(stored);
    }
    const { rows } = await grouped.pool.query<{ stream_id: string; appends: number; last_version: number }>(
      'select stream_id, appends, last_version from probe_counts where stream_id = any($1::text[]) order by stream_id',
      [streams],
    );
    expect(rows).toEqual(
      streams
        .filter((_, index) => index !== 2)
        .sort()
        .map((streamId) => ({ stream_id: streamId, appends: 1, last_version: 2 })),
    );
    // The first went at once; the other seven (the refused one among them) together.
    expect(await transactionsOf(grouped, streams)).toBe(2);
  });

  it('refuses a declared projection name that is not lower-case words, writing nothing', async () => {
    const streamId = `session-n-${uuidv7()}`;
    await expect(
      grouped.append(streamId, [{ type: 'A', data: {} }], {
        tenantId,
        expectedVersion: 0,
        declared: () => ({ name: 'probe(); drop table events; --', argument: {} }),
      }),
    ).rejects.toBeInstanceOf(InvalidEvent);
    expect(await grouped.readStream(streamId, { tenantId })).toEqual([]);
  });
});
