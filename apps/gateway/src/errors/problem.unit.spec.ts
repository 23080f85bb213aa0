import { describe, expect, it } from 'vitest';
import {
  AgentLedgerError,
  ConcurrentChange,
  Conflict,
  HistoryImmutable,
  IdempotencyKeyReused,
  NotFound,
  PermissionDenied,
  RateLimited,
  StreamDeleted,
  StreamTenantMismatch,
  StreamVersionConflict,
  Unauthenticated,
  Unavailable,
  Unprocessable,
  ValidationFailed,
} from '@agentledger/events';
import { toProblem } from './problem.ts';

describe('toProblem: library errors', () => {
  it('answers a deleted session id with 409 and says why', () => {
    expect(toProblem(new StreamDeleted('session-acme/old'))).toMatchObject({
      status: 409,
      code: 'conflict',
      detail: expect.stringContaining('deleted by retention'),
    });
  });

  it('keeps other tenants’ streams unnamed and version conflicts retryable conflicts', () => {
    expect(toProblem(new StreamTenantMismatch('session-x/y'))).toMatchObject({
      status: 404,
      detail: 'No such resource',
    });
    expect(toProblem(new StreamVersionConflict('s', 1, 2))).toMatchObject({ status: 409, code: 'conflict' });
  });

  it('reveals nothing of an unexpected error', () => {
    const problem = toProblem(new Error('password=hunter2'));
    expect(problem.status).toBe(500);
    expect(JSON.stringify(problem)).not.toContain('hunter2');
  });
});

describe('toProblem: the error taxonomy', () => {
  it.each([
    [new ValidationFailed([{ in: 'body', field: 'content', message: 'required' }]), 400, 'validation-failed'],
    [new Unauthenticated(), 401, 'unauthenticated'],
    [new PermissionDenied('sessions:write'), 403, 'permission-denied'],
    [new NotFound('session', 's-1'), 404, 'not-found'],
    [new Conflict('session s-1 is closed'), 409, 'conflict'],
    [new ConcurrentChange(), 409, 'conflict'],
    [new IdempotencyKeyReused(), 422, 'idempotency-key-reused'],
    [new Unprocessable('the team cannot run'), 422, 'unprocessable'],
    [new RateLimited(3), 429, 'rate-limited'],
    [new Unavailable('the event store is down'), 503, 'unavailable'],
  ])('maps %s to its status and stable code', (error, status, code) => {
    expect(toProblem(error, '/v1/x')).toMatchObject({
      type: `urn:agentledger:problem:${code}`,
      status,
      code,
      detail: error.message,
      instance: '/v1/x',
    });
  });

  it('carries the offending fields and the retry delay', () => {
    const field = { in: 'query', field: 'limit', message: 'too big' } as const;
    expect(toProblem(new ValidationFailed([field])).errors).toEqual([field]);
    expect(toProblem(new Unprocessable('no', [field])).errors).toEqual([field]);
    expect(toProblem(new IdempotencyKeyReused()).errors).toEqual([
      expect.objectContaining({ in: 'header', field: 'idempotency-key' }),
    ]);
    expect(toProblem(new RateLimited(7)).retryAfterSeconds).toBe(7);
  });

  it('answers an unknown library code as an internal error', () => {
    expect(toProblem(new AgentLedgerError('SOMETHING_NEW', 'secret detail'))).toMatchObject({
      status: 500,
      code: 'internal',
      detail: expect.not.stringContaining('secret'),
    });
  });
});

describe('toProblem: database errors arrive translated by the SQL adapters', () => {
  const pgError = (code: string): Error =>
    Object.assign(new Error(`duplicate key value violates unique constraint; params: hunter2`), { code });

  it.each(['23505', '40001', '40P01', 'ALV01'])(
    'answers SQLSTATE %s, translated to ConcurrentChange, as a 409 that reveals nothing of the query',
    (sqlState) => {
      const problem = toProblem(new ConcurrentChange(pgError(sqlState)));
      expect(problem).toMatchObject({
        status: 409,
        code: 'conflict',
        detail: 'A concurrent change to this resource won: retry the request',
      });
      expect(JSON.stringify(problem)).not.toContain('hunter2');
    },
  );

  it('maps no SQLSTATE itself: an untranslated database error is an internal error', () => {
    expect(toProblem(pgError('23505'))).toMatchObject({ status: 500, code: 'internal' });
    expect(toProblem(new Error('Failed query', { cause: pgError('40001') }))).toMatchObject({ status: 500 });
  });

  it('treats a refused change to stored history as a server fault', () => {
    expect(toProblem(new HistoryImmutable('events are append-only'))).toMatchObject({ status: 500 });
  });
});
