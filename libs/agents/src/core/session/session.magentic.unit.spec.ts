import { describe, expect, it } from 'vitest';
import { sessionHarness, spec, T0 } from '../../testing/session-harness.ts';
import { nextAction } from './next-action.ts';
import { magenticStep } from './session.magentic.ts';

/** Magentic-One's limits at their edges (mutation testing, docs/mutation.md). */
const ledger = JSON.stringify({
  is_request_satisfied: { reason: 'not yet', answer: false },
  is_in_loop: { reason: 'r', answer: false },
  is_progress_being_made: { reason: 'r', answer: true },
  next_speaker: { reason: 'r', answer: 'researcher' },
  instruction_or_question: { reason: 'r', answer: 'Go on' },
});
const team = (extra: object = {}) =>
  spec({ type: 'magentic_one', agents: [{ name: 'researcher' }], ...extra });
/** A Magentic-One turn whose facts call is out. */
const asked = (extra: object = {}) => {
  const h = sessionHarness(team(extra));
  h.start();
  h.post('m1', 'Look it up');
  return h;
};
const planned = (extra: object) => {
  const h = asked(extra);
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
    expect(h.answer(null).slice(1)).toEqual([
      {
        type: 'AgentMessageEmitted',
        data: {
          messageId: 't1.final.msg',
          turnId: 't1',
          agent: 'MagenticOneOrchestrator',
          content: '',
          messageType: 'text',
        },
      },
      { type: 'TurnCompleted', data: { turnId: 't1', reason: 'Max rounds reached.', at: T0 } },
    ]);
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

describe('the orchestrator step', () => {
  const now = new Date(T0);
  const none = () => null;

  it('fails the turn when the orchestrator has no state for it', () => {
    const h = sessionHarness(spec({ type: 'single', agents: [{ name: 'a' }] }));
    h.start();
    h.post('m1', 'Hi');
    const s = h.state();
    expect(magenticStep(s, team(), s.turn!, now, none)).toEqual([
      { type: 'TurnFailed', data: { turnId: 't1', reason: 'no orchestrator state', at: T0 } },
    ]);
  });

  it("waits while the orchestrator's call is out", () => {
    const s = asked().state();
    expect(s.turn?.phase).toBe('orchestrating');
    expect(magenticStep(s, team(), s.turn!, now, none)).toEqual([]);
  });

  it("fails the turn when the orchestrator's call fails, with the model's error", () => {
    const h = asked();
    expect(h.failModel('boom', false).at(-1)).toEqual({
      type: 'TurnFailed',
      data: {
        turnId: 't1',
        reason: 'model call t1.l0.facts failed: boom',
        error: { type: 'server_error', message: 'boom', retryable: false },
        at: T0,
      },
    });
  });

  it('a failed orchestrator call without an error fails the turn with an unknown error', () => {
    const s = asked().state();
    const failed = {
      ...s,
      modelCalls: { 't1.l0.facts': { ...s.modelCalls['t1.l0.facts']!, status: 'failed' as const } },
    };
    expect(magenticStep(failed, team(), s.turn!, now, none)).toEqual([
      {
        type: 'TurnFailed',
        data: { turnId: 't1', reason: 'model call t1.l0.facts failed: unknown error', at: T0 },
      },
    ]);
  });

  it('facts and a plan the model left empty make an empty task ledger', () => {
    const h = asked();
    h.answer(null);
    expect(h.answer(null)[1]).toMatchObject({ type: 'TaskLedgerUpdated', data: { facts: '', plan: '' } });
  });
});
