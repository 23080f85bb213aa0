import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { ExtractTablesWithRelations } from 'drizzle-orm';

export type SqlRow = Record<string, unknown>;

/** A drizzle database on Postgres (`node-postgres`) or PGlite. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPgDatabase = PgDatabase<PgQueryResultHKT, any>;

/**
 * The drizzle transaction an inline projection writes through (`tx.execute(sql\`…\`)`, or the query
 * builder with the exported tables). Rows of `execute` are in `.rows` on both drivers.
 */
export type SqlTransaction = PgTransaction<
  PgQueryResultHKT,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  any,
  ExtractTablesWithRelations<Record<string, never>>
>;

/** What the SQL event store needs from a driver; one implementation per driver. */
export type SqlDriver = Readonly<{
  db: AnyPgDatabase;
  /** One statement outside any explicit transaction (one round trip). */
  query: (text: string, values: readonly unknown[], name?: string) => Promise<SqlRow[]>;
  /**
   * Like `query`, with rows as arrays in column order, `timestamptz` as its text and `bigint` as a
   * string (the event read path: no Date or object per row).
   */
  queryArrays: (text: string, values: readonly unknown[], name?: string) => Promise<unknown[][]>;
  /**
   * Like `query`, the statement built when it starts: a driver that queues statements (PGlite)
   * calls `build` at the statement's turn, so what arrived while it waited can join it.
   */
  queryWhenRun?: (
    build: () => Readonly<{ text: string; values: readonly unknown[]; name?: string }>,
  ) => Promise<SqlRow[]>;
  /**
   * The database runs one statement at a time for one session (PGlite): no transaction is ever in
   * flight while a statement runs, so every committed event is readable at once and a hole in
   * positions is final (an append that rolled back). Reads then skip the in-flight guard, and
   * subscriptions never look for events held back.
   */
  oneSession?: boolean;
  /**
   * LISTEN on a channel; resolves to an unlisten function. `onNotify` gets the notification's
   * payload, or none when a (re)connected listener may have missed some.
   */
  listen: (channel: string, onNotify: (payload?: string) => void) => Promise<() => Promise<void>>;
  close: () => Promise<void>;
}>;
