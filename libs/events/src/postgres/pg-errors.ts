import { AgentLedgerError, ConcurrentChange, HistoryImmutable } from '../errors.ts';

/** The fields of a Postgres (node-postgres or PGlite) error the adapters read. */
export type DriverError = Readonly<{ code?: string; detail?: string; constraint?: string; message?: string }>;

/**
 * The database's own error: drizzle wraps it in a `DrizzleQueryError` whose `cause` it is (and whose
 * message holds the statement and its parameters, which must not reach a client).
 */
export const driverErrorOf = (error: unknown): DriverError => {
  const outer = (error ?? {}) as DriverError & { cause?: unknown };
  if (outer.code === undefined && typeof outer.cause === 'object' && outer.cause !== null)
    return outer.cause as DriverError;
  return outer;
};

/**
 * SQLSTATEs that mean "a concurrent change won": a unique key taken in a race (23505), a
 * serialization failure (40001), a deadlock (40P01), an append's expected version overtaken
 * (ALV01, raised by `agentledger_append`; the event store names the stream instead).
 */
const CONCURRENT = new Set(['23505', '40001', '40P01', 'ALV01']);

/**
 * The library error for a database error, with the original as `cause`, so no SQLSTATE leaves an
 * adapter. Library errors and errors that are not the database's pass through unchanged.
 */
export const translatePgError = (error: unknown): unknown => {
  if (error instanceof AgentLedgerError) return error;
  const { code, message } = driverErrorOf(error);
  if (code === undefined) return error;
  if (CONCURRENT.has(code)) return new ConcurrentChange(error);
  // restrict_violation: the events append-only guard and retention's whole-session rule.
  if (code === '23001') return new HistoryImmutable(message ?? 'stored history cannot be changed', error);
  return error;
};

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as { then?: unknown } | null)?.then === 'function';

type AnyFunction = (...args: never[]) => unknown;

const translating =
  <F extends AnyFunction>(fn: F) =>
  (...args: Parameters<F>): ReturnType<F> => {
    let result: unknown;
    try {
      result = fn(...args);
    } catch (error) {
      throw translatePgError(error);
    }
    // drizzle's queries are thenables, not promises: anything with a `then` is awaited through.
    if (!isThenable(result)) return result as ReturnType<F>;
    return Promise.resolve(result).catch((error: unknown) => {
      throw translatePgError(error);
    }) as ReturnType<F>;
  };

/**
 * A SQL adapter whose every method translates database errors (`translatePgError`): wrap the
 * adapter object once where it is built, instead of each query.
 */
export const translatingPgErrors = <T extends object>(adapter: T): T =>
  Object.fromEntries(
    Object.entries(adapter).map(([name, value]) => [
      name,
      typeof value === 'function' ? translating(value as AnyFunction) : value,
    ]),
  ) as T;
