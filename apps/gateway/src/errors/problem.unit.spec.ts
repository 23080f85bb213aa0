import { describe, expect, it } from 'vitest';
import { StreamDeleted, StreamTenantMismatch, StreamVersionConflict } from '@agentledger/events';
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
