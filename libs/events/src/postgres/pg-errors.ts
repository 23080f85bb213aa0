import { AgentLedgerError, ConcurrentChange, HistoryImmutable, Unavailable } from '../errors.ts';

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
 * SQLSTATEs of a connection that broke or was refused: class 08 (connection exception), and the
 * server shutting down, crashing or starting (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03
 * cannot_connect_now).
 */
const CONNECTION_SQLSTATE = /^(?:08|57P0[123]$)/;

/** The socket errors of a connection that broke or could not be made. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * node-postgres reports these with no code: a socket closed under a query ("Connection terminated
 * unexpectedly"), a query on a client whose connection failed, the pool's connect timeout.
 */
const DROPPED_MESSAGE = /^Connection terminated|is not queryable|timeout exceeded when trying to connect/;

/**
 * The database could not be reached or dropped the connection: whether a statement in flight took
 * effect is unknown, and the same statement may succeed once the server is back.
 */
const isConnectionLost = (error: unknown): boolean => {
  const { code, message } = driverErrorOf(error);
  if (code !== undefined) return CONNECTION_SQLSTATE.test(code) || SOCKET_CODES.has(code);
  return DROPPED_MESSAGE.test(message ?? '');
};

const databaseUnavailable = (cause: unknown): Unavailable =>
  new Unavailable('the database is unavailable; retry later', cause);

/**
 * `Unavailable` for a lost connection (`isConnectionLost`), with the original as `cause` (its
 * message, which may name the server, stays out of what a client sees); any other error unchanged.
 * For a driver's reads, which have no SQLSTATEs of their own to translate.
 */
export const unavailableIfConnectionLost = (error: unknown): unknown =>
  !(error instanceof AgentLedgerError) && isConnectionLost(error) ? databaseUnavailable(error) : error;

/**
 * The library error for a database error, with the original as `cause`, so no SQLSTATE leaves an
 * adapter: a concurrent change, a refused change of history, a lost connection (`Unavailable`).
 * Library errors and other errors pass through unchanged.
 */
export const translatePgError = (error: unknown): unknown => {
  if (error instanceof AgentLedgerError) return error;
  if (isConnectionLost(error)) return databaseUnavailable(error);
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
