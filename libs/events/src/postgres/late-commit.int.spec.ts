import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestDatabase, eventually, type TestDatabase } from '@agentledger/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { EventEnvelope } from '../envelope.ts';
import { uuidv7 } from '../ids.ts';
import { readLogToHead } from '../read-log.ts';
import { MIGRATIONS_FOLDER, runMigrations } from './migrate.ts';
import { createPostgresEventStore, type PostgresEventStore } from './postgres-event-store.ts';

const tenantId = 't-late';

describe('postgres: late commits and concurrent start-up', () => {
  let database: TestDatabase;
  let store: PostgresEventStore;

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'events_late');
    store = await createPostgresEventStore({ connectionString: database.url, migrate: true });
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  /** Appends one event in a transaction that stays open until the returned `commit` is called. */
  const holdOpen = async (streamId: string) => {
    let release: () => void = () => undefined;
    let inserted: (position: number) => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const position = new Promise<number>((resolve) => (inserted = resolve));
    const appended = store.append(streamId, [{ type: 'Slow', data: {} }], {
      tenantId,
      expectedVersion: 'no_stream',
      inline: async ({ events }) => {
        inserted(events[0]?.globalPosition ?? 0);
        await gate;
      },
    });
    return { position: await position, commit: async () => (release(), appended) };
  };

  // A subscription of one tenant reads the log and asks for that tenant's committed head; one of
  // every tenant reads both in one statement (`readPage`).
  const scopes = [
    { scope: 'one tenant', only: { tenantId } },
    { scope: 'every tenant', only: {} },
  ] as const;

  it.each(scopes)(
    'readAll and subscribe never skip an event committed after a later position ($scope)',
    async ({ only }) => {
      const subscriberId = `sub-${uuidv7()}`;
      const start = (await store.readAll()).at(-1)?.globalPosition ?? 0;
      const slowStream = `session-slow-${uuidv7()}`;
      const fastStream = `session-fast-${uuidv7()}`;
      const ours = (event: EventEnvelope) => event.streamId === slowStream || event.streamId === fastStream;
      const received: EventEnvelope[] = [];
      const subscription = store.subscribe({
        subscriberId,
        ...only,
        from: start,
        pollIntervalMs: 100,
        handler: (event) => void (ours(event) && received.push(event)),
      });
      await subscription.caughtUp;
      const slow = await holdOpen(slowStream);
      const fast = await store.append(
        fastStream,
        [
          { type: 'Fast1', data: {} },
          { type: 'Fast2', data: {} },
        ],
        {
          tenantId,
          expectedVersion: 'no_stream',
        },
      );
      expect(fast.globalPositions[0]).toBeGreaterThan(slow.position);
      const visible = await store.pool.query(
        'select count(*)::int as n from events where global_position > $1',
        [start],
      );
      expect(visible.rows[0].n).toBe(2);
      expect(await store.readAll({ after: start })).toEqual([]);

      // The subscriber stops and restarts while the slow transaction is still open: it must not skip it.
      await subscription.stop();
      expect(received).toEqual([]);
      const resumed: EventEnvelope[] = [];
      const restarted = store.subscribe({
        subscriberId,
        ...only,
        pollIntervalMs: 100,
        handler: (event) => void (ours(event) && resumed.push(event)),
      });
      await restarted.caughtUp;
      expect(resumed).toEqual([]);

      await slow.commit();
      const all = await eventually('the late commit to be readable', async () => {
        const events = await store.readAll({ after: start });
        return events.length === 3 ? events : undefined;
      });
      expect(all.map((event) => event.type)).toEqual(['Slow', 'Fast1', 'Fast2']);
      await eventually(
        'the subscriber to receive all three',
        () => (resumed.length === 3 ? true : undefined),
        {
          timeoutMs: 10_000,
        },
      );
      await restarted.stop();
      expect(resumed.map((event) => event.type)).toEqual(['Slow', 'Fast1', 'Fast2']);
      expect(await store.loadCheckpoint(subscriberId)).toBe(fast.globalPositions[1]);
    },
  );

  it('never passes a position whose transaction took its xid later but its position earlier', async () => {
    const insert = (client: pg.Client, streamId: string) =>
      client.query(
        `insert into events (stream_id, tenant_id, version, event_id, type, schema_version, data, metadata,
           recorded_at, prev_hash, hash)
         values ($1, $2, 1, gen_random_uuid(), 'Raw', 1, '{}', '{}', now(), '', '') returning global_position`,
        [streamId, tenantId],
      );
    const first = new pg.Client({ connectionString: database.url });
    const second = new pg.Client({ connectionString: database.url });
    await Promise.all([first.connect(), second.connect()]);
    try {
      const { rows } = await first.query('select coalesce(max(global_position), 0)::int as head from events');
      const start = rows[0].head as number;
      await first.query('begin');
      await first.query('select pg_current_xact_id()');
      await second.query('begin');
      await second.query('select pg_current_xact_id()');
      const early = Number((await insert(second, `session-early-${uuidv7()}`)).rows[0].global_position);
      const late = Number((await insert(first, `session-late-${uuidv7()}`)).rows[0].global_position);
      expect(late).toBeGreaterThan(early);
      await first.query('commit');
      // `late` committed, its xid is below every running one, yet `early` may still commit.
      expect(await store.readAll({ after: start })).toEqual([]);
      expect(await store.readAll({ after: start, tenantId })).toEqual([]);
      await second.query('commit');
      const all = await eventually('both rows', async () => {
        const events = await store.readAll({ after: start });
        return events.length === 2 ? events : undefined;
      });
      expect(all.map((event) => event.globalPosition)).toEqual([early, late]);

      // A hole left by a rolled-back transaction is passed once it is final.
      await first.query('begin');
      await insert(first, `session-rolled-back-${uuidv7()}`);
      await first.query('rollback');
      const { globalPositions } = await store.append(
        `session-after-hole-${uuidv7()}`,
        [{ type: 'After', data: {} }],
        {
          tenantId,
          expectedVersion: 'no_stream',
        },
      );
      const next = await eventually('the row after the hole', async () => {
        const events = await store.readAll({ after: late });
        return events.length === 1 ? events : undefined;
      });
      expect(next[0]?.globalPosition).toBe(globalPositions[0]);
    } finally {
      await Promise.all([first.end(), second.end()]);
    }
  });

  it('wakes a subscriber of another store instance through NOTIFY, not polling', async () => {
    // Only the other store's connections count (an earlier listener of this file's store may come
    // or go meanwhile and would make the wait pass before the other store listens).
    const name = `notify-${uuidv7()}`;
    const listeners = async (): Promise<number> => {
      const { rows } = await store.pool.query(
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = $1 and query ilike 'listen%'",
        [name],
      );
      return rows[0].n as number;
    };
    const before = 0;
    const separator = database.url.includes('?') ? '&' : '?';
    const other = await createPostgresEventStore({
      connectionString: `${database.url}${separator}application_name=${name}`,
    });
    try {
      const seen: string[] = [];
      const subscription = other.subscribe({
        subscriberId: `sub-${uuidv7()}`,
        tenantId: 't-notify',
        from: 'end',
        pollIntervalMs: 60_000,
        handler: (event) => void seen.push(event.type),
      });
      await subscription.caughtUp;
      // The LISTEN connection opens in the background: wait until it is registered.
      await eventually('the listener', async () => ((await listeners()) > before ? true : undefined));
      await store.append(`session-notify-${uuidv7()}`, [{ type: 'Ping', data: {} }], {
        tenantId: 't-notify',
        expectedVersion: 0,
      });
      await eventually('the notified subscriber', () => (seen.length === 1 ? true : undefined), {
        timeoutMs: 10_000,
      });

      // The listening connection is killed: it comes back, and wake-ups with it.
      const killed = await store.pool.query(
        "select count(*)::int as n from (select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike 'listen%' and pid <> pg_backend_pid()) t",
      );
      expect(killed.rows[0].n).toBeGreaterThan(0);
      await eventually('the listener to come back', async () =>
        (await listeners()) > before ? true : undefined,
      );
      await store.append(`session-notify-${uuidv7()}`, [{ type: 'Pong', data: {} }], {
        tenantId: 't-notify',
        expectedVersion: 0,
      });
      await eventually('the subscriber notified again', () => (seen.length === 2 ? true : undefined), {
        timeoutMs: 10_000,
      });
      await subscription.stop();
    } finally {
      await other.close();
    }
  });

  it.each(scopes)(
    'delivers an event held back by an older transaction once it ends, with no notification ($scope)',
    async ({ only }) => {
      // An unrelated transaction of this database (a report, ANALYZE) ends without a NOTIFY; the
      // append's own NOTIFY came while it ran, when a read could not return the append yet.
      const held = `t-held-${uuidv7()}`;
      const blocker = new pg.Client({ connectionString: database.url });
      await blocker.connect();
      const seen: string[] = [];
      const subscription = store.subscribe({
        subscriberId: `sub-${uuidv7()}`,
        ...('tenantId' in only ? { tenantId: held } : {}),
        from: 'end',
        pollIntervalMs: 60_000,
        handler: (event) => void (event.tenantId === held && seen.push(event.type)),
      });
      try {
        await subscription.caughtUp;
        await blocker.query('begin');
        await blocker.query('select pg_current_xact_id()');
        const { globalPositions } = await store.append(
          `session-held-${uuidv7()}`,
          [{ type: 'Held', data: {} }],
          {
            tenantId: held,
            expectedVersion: 'no_stream',
          },
        );
        const position = globalPositions[0]!;
        expect(await store.readAll({ after: position - 1 })).toEqual([]);
        expect(await store.committedHead()).toBe(position);
        expect(await store.committedHead({ tenantId: held })).toBe(position);
        // The whole log as committed now: its reader waits for the held-back event.
        const whole = (async () => {
          const types: string[] = [];
          for await (const page of readLogToHead(store, { tenantId: held }))
            types.push(...page.map((event) => event.type));
          return types;
        })();
        // Past the first re-reads (10, 20, 40 … ms): the subscriber has heard the NOTIFY and read nothing.
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(seen).toEqual([]);
        await blocker.query('commit');
        await eventually('the held-back event', () => (seen.length === 1 ? seen : undefined), {
          timeoutMs: 10_000,
        });
        expect(seen).toEqual(['Held']);
        expect(await whole).toEqual(['Held']);
      } finally {
        await subscription.stop();
        await blocker.end();
      }
    },
  );

  it('reads the log once for every subscription of every tenant an append wakes, the head in the same statement', async () => {
    const pool = new pg.Pool({ connectionString: database.url, max: 4 });
    const reads: string[] = [];
    const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
    pool.query = ((config: unknown, ...rest: unknown[]) => {
      const text = typeof config === 'string' ? config : (config as { text: string }).text;
      if (/agentledger_read_all|max\(global_position\)/.test(text)) reads.push(text);
      return query(config, ...rest);
    }) as typeof pool.query;
    const counted = await createPostgresEventStore({ pool });
    const streamId = `session-shared-${uuidv7()}`;
    const seen = [[], []] as string[][];
    const subscriptions = seen.map((into) =>
      counted.subscribe({
        subscriberId: `sub-${uuidv7()}`,
        from: 'end',
        pollIntervalMs: 60_000,
        handler: (event) => void (event.streamId === streamId && into.push(event.type)),
      }),
    );
    try {
      await Promise.all(subscriptions.map((subscription) => subscription.caughtUp));
      reads.length = 0;
      await counted.append(streamId, [{ type: 'Shared', data: {} }], {
        tenantId,
        expectedVersion: 'no_stream',
      });
      await eventually(
        'both subscriptions',
        () => (seen.every((into) => into.length === 1) ? true : undefined),
        {
          timeoutMs: 10_000,
        },
      );
      // Before: each subscription read the page, then asked for the committed head (four statements).
      expect(reads).toHaveLength(1);
      expect(reads[0]).toMatch(/agentledger_read_all[\s\S]*max\(global_position\)/);
      expect(seen).toEqual([['Shared'], ['Shared']]);
    } finally {
      await Promise.all(subscriptions.map((subscription) => subscription.stop()));
      await counted.close();
      await pool.end();
    }
  });

  it("is not held back by another database's open transaction", async () => {
    const other = await createTestDatabase(inject('databaseUrl'), 'events_other');
    const client = new pg.Client({ connectionString: other.url });
    await client.connect();
    try {
      await client.query('begin');
      await client.query('select pg_current_xact_id()');
      const streamId = `session-free-${uuidv7()}`;
      const { globalPositions } = await store.append(streamId, [{ type: 'Free', data: {} }], {
        tenantId,
        expectedVersion: 'no_stream',
      });
      const read = await store.readAll({ after: (globalPositions[0] ?? 1) - 1 });
      expect(read.map((event) => event.streamId)).toEqual([streamId]);
      await client.query('rollback');
    } finally {
      await client.end();
      await other.drop();
    }
  });

  it('applies migrations once when many replicas start together', async () => {
    const fresh = await createTestDatabase(inject('databaseUrl'), 'events_migrate');
    try {
      await Promise.all(Array.from({ length: 6 }, () => runMigrations(fresh.url)));
      const client = new pg.Client({ connectionString: fresh.url });
      await client.connect();
      try {
        // Exactly the journal's migrations, each once (drizzle records a migration's `when` as created_at).
        const journal = JSON.parse(
          await readFile(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8'),
        ) as { entries: { when: number }[] };
        const applied = await client.query<{ created_at: string }>(
          'select created_at from drizzle.__drizzle_migrations order by id',
        );
        expect(applied.rows.map((row) => Number(row.created_at))).toEqual(
          journal.entries.map((entry) => entry.when),
        );
        const fn = await client.query(
          "select count(*)::int as n from pg_proc where proname = 'agentledger_append'",
        );
        expect(fn.rows[0].n).toBe(1);
      } finally {
        await client.end();
      }
    } finally {
      await fresh.drop();
    }
  });
});
