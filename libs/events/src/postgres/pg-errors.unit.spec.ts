import { describe, expect, it } from 'vitest';
import {
  AgentLedgerError,
  ConcurrentChange,
  HistoryImmutable,
  StreamVersionConflict,
  Unavailable,
} from '../errors.ts';
import { translatePgError, translatingPgErrors, unavailableIfConnectionLost } from './pg-errors.ts';

const pgError = (code: string, message = `pg ${code}`): Error => Object.assign(new Error(message), { code });

/** How drizzle reports a failed query: its own error, the driver's as `cause`. */
const drizzleWrapped = (cause: Error): Error =>
  new Error('Failed query: insert into secrets values ($1)\nparams: hunter2', { cause });

describe('translatePgError', () => {
  it.each(['23505', '40001', '40P01', 'ALV01'])(
    'turns SQLSTATE %s into a retryable ConcurrentChange',
    (code) => {
      const raw = pgError(code);
      for (const thrown of [raw, drizzleWrapped(raw)]) {
        const translated = translatePgError(thrown);
        expect(translated).toBeInstanceOf(ConcurrentChange);
        expect(translated).toMatchObject({ code: 'CONCURRENT_CHANGE', retryable: true, cause: thrown });
        expect((translated as Error).message).not.toContain('hunter2');
      }
    },
  );

  it('turns the append-only guard (23001) into HistoryImmutable with the guard’s message', () => {
    const raw = pgError('23001', 'events are append-only: DELETE on events is refused');
    const translated = translatePgError(drizzleWrapped(raw));
    expect(translated).toBeInstanceOf(HistoryImmutable);
    expect(translated).toMatchObject({ code: 'HISTORY_IMMUTABLE', retryable: false, message: raw.message });
  });

  /** A lost connection as node-postgres and Node report it: SQLSTATEs, socket codes, bare messages. */
  const lost = [
    pgError('08006', 'connection failure'),
    pgError('08003', 'connection does not exist'),
    pgError('57P01', 'terminating connection due to administrator command'),
    pgError('57P02', 'terminating connection because of crash of another server process'),
    pgError('57P03', 'the database system is starting up'),
    pgError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.7:5432'),
    pgError('ECONNRESET', 'read ECONNRESET'),
    new Error('Connection terminated unexpectedly'),
    new Error('Client has encountered a connection error and is not queryable'),
    new Error('timeout exceeded when trying to connect'),
  ];

  it.each(lost.map((error) => [error.message, error] as const))(
    'turns a lost connection (%s) into a retryable Unavailable that does not repeat the server’s words',
    (_message, raw) => {
      for (const thrown of [raw, drizzleWrapped(raw)]) {
        for (const translated of [translatePgError(thrown), unavailableIfConnectionLost(thrown)]) {
          expect(translated).toBeInstanceOf(Unavailable);
          expect(translated).toMatchObject({
            code: 'unavailable',
            retryable: true,
            message: 'the database is unavailable; retry later',
            cause: thrown,
          });
        }
      }
    },
  );

  it.each(['57P04', '57014', '53300', '42501'])(
    'does not take SQLSTATE %s, outside class 08 and 57P01–57P03, for a lost connection',
    (code) => {
      const raw = pgError(code);
      expect(translatePgError(raw)).toBe(raw);
      expect(unavailableIfConnectionLost(raw)).toBe(raw);
    },
  );

  it('leaves every error but a lost connection to the adapter (unavailableIfConnectionLost)', () => {
    const conflict = new StreamVersionConflict('s', 1, 2);
    for (const error of [pgError('ALV01'), pgError('23505'), new Error('boom'), conflict])
      expect(unavailableIfConnectionLost(error)).toBe(error);
  });

  it('passes library errors, other SQLSTATEs and non-database errors through unchanged', () => {
    const conflict = new StreamVersionConflict('s', 1, 2);
    const syntax = pgError('42601');
    const plain = new Error('boom');
    expect(translatePgError(conflict)).toBe(conflict);
    expect(translatePgError(syntax)).toBe(syntax);
    expect(translatePgError(plain)).toBe(plain);
    expect(translatePgError(undefined)).toBeUndefined();
  });
});

describe('translatingPgErrors', () => {
  const adapter = translatingPgErrors({
    asyncFails: async (code: string): Promise<number> => {
      await Promise.resolve();
      throw pgError(code);
    },
    syncFails: (code: string): number => {
      throw pgError(code);
    },
    answers: async (value: number): Promise<number> => value * 2,
    /** Like a drizzle query: a thenable that is not a Promise. */
    thenable: (code: string): PromiseLike<never> => ({
      then: (_resolve, reject) => Promise.reject(pgError(code)).then(undefined, reject),
    }),
    sync: (value: number): number => value + 1,
  });

  it('translates what every method throws or rejects with', async () => {
    await expect(adapter.asyncFails('40001')).rejects.toBeInstanceOf(ConcurrentChange);
    expect(() => adapter.syncFails('23505')).toThrow(ConcurrentChange);
    await expect(adapter.thenable('40P01')).rejects.toBeInstanceOf(ConcurrentChange);
  });

  it('leaves results and untranslated errors as they were', async () => {
    expect(await adapter.answers(21)).toBe(42);
    expect(adapter.sync(1)).toBe(2);
    const rejected = await adapter.asyncFails('42P01').catch((error: unknown) => error);
    expect(rejected).not.toBeInstanceOf(AgentLedgerError);
    expect(rejected).toMatchObject({ code: '42P01' });
  });
});
