import { describe, expect, it } from 'vitest';
import { AgentLedgerError, ConcurrentChange, HistoryImmutable, StreamVersionConflict } from '../errors.ts';
import { translatePgError, translatingPgErrors } from './pg-errors.ts';

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
