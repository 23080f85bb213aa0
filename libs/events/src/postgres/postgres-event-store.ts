import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { EventStore } from '../store.ts';
import { runMigrations } from './migrate.ts';
import { unavailableIfConnectionLost } from './pg-errors.ts';
import type { AnyPgDatabase, SqlDriver, SqlRow, SqlTransaction } from './sql-driver.ts';
import { createSqlEventStore, type SqlEventStoreOptions } from './sql-event-store.ts';

export type PostgresEventStoreOptions = SqlEventStoreOptions &
  Readonly<{
    /** Share a pool with other components (not ended by `close`); or give a connection string. */
    pool?: pg.Pool;
    connectionString?: string;
    /** Pool size when the store creates the pool (default 20). */
    maxConnections?: number;
    /** Apply migrations (under the advisory lock) before returning (default false). */
    migrate?: boolean;
  }>;

export type PostgresEventStore = EventStore<SqlTransaction> &
  Readonly<{
    /** The pool the store uses (shared with the relay, read models…). */
    pool: pg.Pool;
    /** A drizzle database on that pool, with the event store tables available from `schema.ts`. */
    db: AnyPgDatabase;
  }>;

/**
 * A pool reports an idle client's error (a server restart, a terminated backend) on itself, and
 * `pool.end()` resolves before its clients have closed: without a listener either one would crash
 * the process. Queries in flight still reject with the error.
 */
export const ignoreClientErrors = (pool: pg.Pool): void => {
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
};

const TIMESTAMPTZ = 1184;
const RAW_TIMES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMPTZ
      ? (value: string) => value
      : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * LISTEN on a dedicated connection that comes back after a drop (server restart, terminated
 * backend), retrying every second. After every (re)connect it calls `onNotify` once, so
 * subscribers re-read whatever was appended while nobody was listening.
 */
const listenWithReconnect = async (
  pool: pg.Pool,
  channel: string,
  onNotify: (payload?: string) => void,
): Promise<() => Promise<void>> => {
  let closed = false;
  let current: pg.Client | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const connect = async (): Promise<void> => {
    const client = new pg.Client(pool.options);
    client.on('notification', (message) => onNotify(message.payload ?? ''));
    client.on('error', () => undefined);
    client.on('end', () => {
      if (closed || current !== client) return;
      current = undefined;
      scheduleRetry();
    });
    try {
      await client.connect();
      await client.query(`listen ${channel}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (closed) {
      await client.end().catch(() => undefined);
      return;
    }
    current = client;
    onNotify();
  };
  const scheduleRetry = (): void => {
    if (closed || retry !== undefined) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect().catch(scheduleRetry);
    }, 1_000);
    retry.unref?.();
  };
  await connect();
  return async () => {
    closed = true;
    if (retry !== undefined) clearTimeout(retry);
    await current?.end().catch(() => undefined);
  };
};

/** A lost connection fails a statement with `Unavailable`; other errors reach the store, which translates SQLSTATEs. */
const rethrowUnavailable = (error: unknown): never => {
  throw unavailableIfConnectionLost(error);
};

/** A driver for node-postgres: pooled single statements (prepared by name), LISTEN on its own client. */
export const createPgDriver = (pool: pg.Pool, ownsPool: boolean): SqlDriver => {
  const db = drizzle({ client: pool });
  return {
    db,
    query: async (text, values, name) =>
      (
        await pool
          .query<SqlRow>(
            name === undefined ? { text, values: [...values] } : { name, text, values: [...values] },
          )
          .catch(rethrowUnavailable)
      ).rows,
    queryArrays: async (text, values, name) =>
      (
        await pool
          .query<unknown[]>({
            text,
            values: [...values],
            rowMode: 'array',
            types: RAW_TIMES,
            ...(name === undefined ? {} : { name }),
          })
          .catch(rethrowUnavailable)
      ).rows,
    listen: (channel, onNotify) => listenWithReconnect(pool, channel, onNotify),
    close: async () => {
      if (ownsPool) await pool.end();
    },
  };
};

/**
 * The event store on a Postgres server (drizzle + `pg`). Appends take one round trip (the
 * `agentledger_append` function) unless inline projections need an explicit transaction.
 */
export const createPostgresEventStore = async (
  options: PostgresEventStoreOptions,
): Promise<PostgresEventStore> => {
  const ownsPool = options.pool === undefined;
  const pool =
    options.pool ??
    new pg.Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 20 });
  if (ownsPool) ignoreClientErrors(pool);
  if (options.migrate === true) await runMigrations(pool);
  const driver = createPgDriver(pool, ownsPool);
  return { ...createSqlEventStore(driver, options), pool, db: driver.db };
};
