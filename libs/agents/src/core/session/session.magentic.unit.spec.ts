import { describe, expect, it } from 'vitest';
import { sessionHarness, spec } from '../../testing/session-harness.ts';
import { nextAction } from './next-action.ts';

/** Magentic-One's limits at their edges (mutation testing, docs/mutation.md). */
const ledger = JSON.stringify({
  is_request_satisfied: { reason: 'not yet', answer: false },
  is_in_loop: { reason: 'r', answer: false },
  is_progress_being_made: { reason: 'r', answer: true },
  next_speaker: { reason: 'r', answer: 'researcher' },
  instruction_or_question: { reason: 'r', answer: 'Go on' },
});
const planned = (extra: object) => {
  const h = sessionHarness(spec({ type: 'magentic_one', agents: [{ name: 'researcher' }], ...extra }));
  h.start();
  h.post('m1', 'Look it up');
  h.answer('facts');
  h.answer('plan');
  return h;
};
const purpose = (h: ReturnType<typeof planned>) => {
  const action = nextAction(h.state());
  return action.kind === 'call_model' ? action.purpose : action.kind;
};

describe('Magentic-One limits', () => {
  it('asks for the final answer once more than maxTurns rounds were taken', () => {
    const h = planned({ maxTurns: 1 });
    h.answer(ledger);
    h.answer('round 1');
    expect(purpose(h)).toBe('progress_ledger');
    h.answer(ledger);
    h.answer('round 2');
    expect(purpose(h)).toBe('final_answer');
  });

  it('fails the turn after magenticOne.maxJsonRetries unparseable ledgers', () => {
    const h = planned({ magenticOne: { maxJsonRetries: 2 } });
    h.answer('not json');
    expect(purpose(h)).toBe('progress_ledger');
    const out = h.answer('still not json');
    expect(out.at(-1)).toMatchObject({ type: 'TurnFailed' });
    expect(out.at(-1)?.data).toMatchObject({
      reason: expect.stringMatching(/^Failed to parse ledger information after 2 attempts: /) as string,
    });
  });
});
