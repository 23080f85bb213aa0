import { describe, expect, it } from 'vitest';
import { TurnAborted } from '@agentledger/agents';
import { createTurnCancellation } from './turn-cancellation.ts';

describe('turn cancellation registry', () => {
  it('aborts the running effect of the cancelled turn with TurnAborted', () => {
    const registry = createTurnCancellation();
    const step = registry.open('s');
    registry.working('s', 't1');
    registry.cancel('s', 't1');
    expect(step.signal.reason).toBeInstanceOf(TurnAborted);
    expect((step.signal.reason as TurnAborted).turnId).toBe('t1');
  });

  it('ignores a stale cancel of an earlier turn, and sessions not stepped here', () => {
    const registry = createTurnCancellation();
    const step = registry.open('s');
    registry.working('s', 't2');
    registry.cancel('s', 't1');
    registry.cancel('other', 't2');
    expect(step.signal.aborted).toBe(false);
  });

  it('a cancel that arrives before the turn’s effect starts aborts it when it starts', () => {
    const registry = createTurnCancellation();
    const step = registry.open('s');
    registry.cancel('s', 't1');
    expect(step.signal.aborted).toBe(false);
    registry.working('s', 't1');
    expect(step.signal.aborted).toBe(true);
  });

  it('forgets a closed step: a later cancel reaches only the step open then', () => {
    const registry = createTurnCancellation();
    const first = registry.open('s');
    first.close();
    const second = registry.open('s');
    registry.working('s', 't3');
    registry.cancel('s', 't3');
    expect(first.signal.aborted).toBe(false);
    expect(second.signal.aborted).toBe(true);
  });
});
