import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '@agentledger/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataDirectoryLocked } from '../errors.ts';
import { lockDataDirectory } from './data-dir-lock.ts';
import { createPgliteEventStore, type PgliteEventStore } from './pglite-event-store.ts';

const run = promisify(execFile);

/** Records the text of every statement the store's PGlite runs from now on. */
const recordStatements = (store: PgliteEventStore): string[] => {
  const sent: string[] = [];
  const query = store.pglite.query.bind(store.pglite);
  store.pglite.query = ((text: string, ...rest: never[]) => {
    sent.push(text);
    return query(text, ...rest);
  }) as typeof store.pglite.query;
  return sent;
};

describe('pglite: data directory', { timeout: 120_000 }, () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'agentledger-pglite-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('persists events across a reopen and locks the directory while open', async () => {
    const dataDir = join(root, 'data');
    const first = await createPgliteEventStore({ dataDir });
    await first.append('session-p', [{ type: 'Kept', data: { n: 1 } }], {
      tenantId: 't',
      expectedVersion: 0,
    });
    await expect(createPgliteEventStore({ dataDir })).rejects.toBeInstanceOf(DataDirectoryLocked);
    const other = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { lockDataDirectory } from './src/pglite/data-dir-lock.ts';
         try { lockDataDirectory(${JSON.stringify(dataDir)}); console.log('opened'); }
         catch (error) { console.log(error.code); }`,
      ],
      { cwd: new URL('../..', import.meta.url) },
    );
    expect(other.stdout.trim()).toBe('DATA_DIRECTORY_LOCKED');
    await first.close();

    const reopened = await createPgliteEventStore({ dataDir });
    try {
      const events = await reopened.readStream('session-p', { tenantId: 't' });
      expect(events.map((event) => [event.type, event.data])).toEqual([['Kept', { n: 1 }]]);
      expect((await reopened.verifyStream('session-p', { tenantId: 't' })).valid).toBe(true);
    } finally {
      await reopened.close();
    }
  });

  it('wakes subscribers of another store instance on the same PGlite', async () => {
    const owner = await createPgliteEventStore();
    const other = await createPgliteEventStore({ pglite: owner.pglite });
    try {
      const seen: string[] = [];
      const subscription = other.subscribe({
        subscriberId: 'sub-shared',
        pollIntervalMs: 60_000,
        handler: (event) => void seen.push(event.type),
      });
      await subscription.caughtUp;
      await owner.append('session-shared', [{ type: 'Ping', data: {} }], {
        tenantId: 't',
        expectedVersion: 0,
      });
      await eventually('the other instance to be woken', () => (seen.length === 1 ? true : undefined), {
        timeoutMs: 10_000,
      });
      await subscription.stop();
    } finally {
      await other.close();
      await owner.close();
    }
  });

  it('commits appends that arrive together in one transaction (group commit, one call in flight)', async () => {
    const store = await createPgliteEventStore();
    try {
      const streams = Array.from({ length: 10 }, (_, index) => `session-g${index}`);
      const results = await Promise.all(
        streams.map((streamId, index) =>
          store.append(streamId, [{ type: 'Grouped', data: { index } }], {
            tenantId: 't',
            expectedVersion: 'no_stream',
          }),
        ),
      );
      expect(results.map((result) => result.versions)).toEqual(streams.map(() => [1]));
      // The call takes its appends when its statement starts: all ten arrived by then.
      const { rows } = await store.pglite.query<{ n: number }>(
        'select count(distinct transaction_id::text)::int as n from events where stream_id = any($1::text[])',
        [streams],
      );
      expect(rows[0]?.n).toBe(1);
      for (const streamId of streams)
        expect((await store.verifyStream(streamId, { tenantId: 't' })).valid).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('reads on one session: no in-flight guard, holes passed at once, no query for events held back', async () => {
    const store = await createPgliteEventStore();
    const sent = recordStatements(store);
    try {
      const seen: number[] = [];
      const subscription = store.subscribe({
        subscriberId: 'sub-one-session',
        pollIntervalMs: 60_000,
        handler: (event) => void seen.push(event.globalPosition),
      });
      await subscription.caughtUp;
      // A position taken and never used: a hole before the next append's event.
      await store.pglite.query("select nextval('events_global_position_seq')");
      sent.length = 0;
      const first = await store.append('session-one', [{ type: 'A', data: {} }], {
        tenantId: 't',
        expectedVersion: 'no_stream',
      });
      await eventually('the event after the hole', () => (seen.length === 1 ? true : undefined), {
        timeoutMs: 10_000,
      });
      // The first page's statements are all done once the second event is handled (one loop).
      const second = await store.append('session-one', [{ type: 'B', data: {} }], {
        tenantId: 't',
        expectedVersion: 1,
      });
      await eventually('the second event', () => (seen.length === 2 ? true : undefined), {
        timeoutMs: 10_000,
      });
      await subscription.stop();
      expect(seen).toEqual([first.globalPositions[0], second.globalPositions[0]]);
      expect(first.globalPositions[0]).toBeGreaterThan(1);
      // Neither the guard against transactions in flight nor a look for events they hold back.
      for (const text of sent)
        expect(text).not.toMatch(
          /agentledger_read_all|agentledger_safe|max\(global_position\)|pg_current_xact_id/,
        );
      expect(await store.readAll()).toHaveLength(2);
    } finally {
      await store.close();
    }
  });

  it("wakes its own subscriptions once per append: its own notification's echo is not a second wake", async () => {
    const store = await createPgliteEventStore();
    const sent = recordStatements(store);
    const reads = (): string[] =>
      sent.filter((text) => /from (events where global_position >|agentledger_read_all)/.test(text));
    try {
      const seen: string[] = [];
      const subscription = store.subscribe({
        subscriberId: 'sub-echo',
        pollIntervalMs: 60_000,
        handler: (event) => void seen.push(event.type),
      });
      await subscription.caughtUp;
      sent.length = 0;
      for (const [index, type] of ['A', 'B', 'C'].entries()) {
        await store.append('session-echo', [{ type, data: {} }], { tenantId: 't', expectedVersion: index });
        await eventually(`event ${type}`, () => (seen.length === index + 1 ? true : undefined), {
          timeoutMs: 10_000,
        });
      }
      // Let the notifications of the last append arrive: a wake by them would read once more.
      await store.pglite.query('select 1');
      await new Promise((resolve) => setTimeout(resolve, 100));
      await subscription.stop();
      expect(seen).toEqual(['A', 'B', 'C']);
      expect(reads()).toHaveLength(3);
    } finally {
      await store.close();
    }
  });

  it('lets appends whose projections write one shared row join one group commit: nothing waits for a lock', async () => {
    const store = await createPgliteEventStore();
    try {
      await store.pglite.exec(`
        create table shared_usage (tenant_id text primary key, appends integer not null);
        create function agentledger_project_usage(p jsonb) returns void language plpgsql as $$
        begin
          insert into shared_usage values (p ->> 'tenantId', 1)
            on conflict (tenant_id) do update set appends = shared_usage.appends + 1;
        end $$;`);
      const streams = Array.from({ length: 6 }, (_, index) => `session-shared${index}`);
      await Promise.all(
        streams.map((streamId) =>
          store.append(streamId, [{ type: 'Used', data: {} }], {
            tenantId: 't',
            expectedVersion: 'no_stream',
            declared: () => ({ name: 'usage', argument: { tenantId: 't' } }),
          }),
        ),
      );
      const { rows } = await store.pglite.query<{ n: number }>(
        'select count(distinct transaction_id::text)::int as n from events where stream_id = any($1::text[])',
        [streams],
      );
      expect(rows[0]?.n).toBe(1);
      const usage = await store.pglite.query<{ appends: number }>('select appends from shared_usage');
      expect(usage.rows).toEqual([{ appends: 6 }]);
    } finally {
      await store.close();
    }
  });

  it('takes over a lock left by a process that is gone', async () => {
    const dataDir = join(root, 'stale');
    await writeFile(`${dataDir}.lock`, '999999999');
    const release = lockDataDirectory(dataDir);
    expect(() => lockDataDirectory(dataDir)).toThrow(DataDirectoryLocked);
    release();
    lockDataDirectory(dataDir)();
  });
});
