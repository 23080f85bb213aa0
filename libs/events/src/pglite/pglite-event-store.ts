import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import type { EventStore } from '../store.ts';
import { MIGRATIONS_FOLDER } from '../postgres/migrate.ts';
import type { AnyPgDatabase, SqlDriver, SqlRow, SqlTransaction } from '../postgres/sql-driver.ts';
import { createSqlEventStore, type SqlEventStoreOptions } from '../postgres/sql-event-store.ts';
import { lockDataDirectory } from './data-dir-lock.ts';

export type PgliteEventStoreOptions = SqlEventStoreOptions &
  Readonly<{
    /** Persist here (locked with `<dataDir>.lock`); omit for an in-memory database. */
    dataDir?: string;
    /** Use an already open PGlite (not closed by `close`); migrations are still applied. */
    pglite?: PGlite;
  }>;

export type PgliteEventStore = EventStore<SqlTransaction> &
  Readonly<{
    pglite: PGlite;
    /** A drizzle database on the same PGlite, for read models and the relay. */
    db: AnyPgDatabase;
  }>;

/** Applies pending migrations to a PGlite database (one session: no lock needed beyond the file lock). */
export const runPgliteMigrations = async (
  pglite: PGlite,
  { migrationsFolder = MIGRATIONS_FOLDER }: { migrationsFolder?: string } = {},
): Promise<void> => {
  await migrate(drizzle({ client: pglite }), { migrationsFolder });
};

/**
 * One statement per turn of the event loop. PGlite runs each statement synchronously (WASM) and
 * settles its promise at once, so a process whose parts keep its queue full (appends, the relay,
 * the webhooks) would run them back to back: every statement queued before a turn of the loop
 * ran in that turn, and sockets (new connections, new HTTP requests) waited for all of them. Each
 * statement waits for the one before it, then for the loop to turn, so the process reads its
 * sockets between any two statements. (PGlite runs one statement at a time anyway.)
 */
const oneStatementPerTurn = () => {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(work);
    tail = run.catch(() => undefined);
    return run;
  };
};

export const createPgliteDriver = (pglite: PGlite, onClose: () => Promise<void>): SqlDriver => {
  const gate = oneStatementPerTurn();
  const run = async (text: string, values: readonly unknown[]): Promise<SqlRow[]> =>
    (await pglite.query<SqlRow>(text, [...values])).rows;
  return {
    db: drizzle({ client: pglite }),
    // PGlite runs every statement and transaction alone (its own mutex), whoever sends them.
    oneSession: true,
    query: (text, values) => gate(() => run(text, values)),
    queryWhenRun: (build) =>
      gate(() => {
        const { text, values } = build();
        return run(text, values);
      }),
    queryArrays: (text, values) =>
      gate(async () => {
        const result = await pglite.query<unknown[]>(text, [...values], {
          rowMode: 'array',
          parsers: { 1184: (value) => value },
        });
        return result.rows;
      }),
    listen: async (channel, onNotify) => {
      const unlisten = await pglite.listen(channel, (payload) => onNotify(payload));
      return async () => {
        await unlisten();
      };
    },
    close: onClose,
  };
};

/**
 * The event store embedded in the process: the same SQL adapter on PGlite (PostgreSQL in WASM).
 * Opens (and file-locks) `dataDir`, applies the migrations, then serves the `EventStore` contract.
 * PGlite runs one query at a time, so concurrent appends queue; they never conflict at the SQL level.
 * Group commit with one call in flight by default: the appends that queue while one runs go
 * together as the next `agentledger_append_batch` (one statement and one commit for many: on one
 * WASM thread each statement costs its parse, plan and protocol, and an embedded product's turns
 * arrive together). As on Postgres, one coalesced NOTIFY follows the commits, so subscribers of
 * every store instance on the same PGlite wake at once.
 */
export const createPgliteEventStore = async (
  options: PgliteEventStoreOptions = {},
): Promise<PgliteEventStore> => {
  const release =
    options.pglite === undefined && options.dataDir !== undefined
      ? lockDataDirectory(options.dataDir)
      : undefined;
  try {
    const pglite =
      options.pglite ??
      (await PGlite.create(options.dataDir === undefined ? {} : { dataDir: options.dataDir }));
    await runPgliteMigrations(pglite);
    const driver = createPgliteDriver(pglite, async () => {
      if (options.pglite === undefined) await pglite.close();
      release?.();
    });
    return {
      ...createSqlEventStore(driver, { ...options, groupCommit: options.groupCommit ?? { maxInFlight: 1 } }),
      pglite,
      db: driver.db,
    };
  } catch (error) {
    release?.();
    throw error;
  }
};
