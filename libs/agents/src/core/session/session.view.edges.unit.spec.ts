import { describe, expect, it } from 'vitest';
import { sessionHarness, spec } from '../../testing/session-harness.ts';
import type { TeamSpecInput } from '../spec/team-spec.ts';
import { initialSession } from './session.state.ts';
import { nextDeadline, turnDeadline } from './session.view.ts';

/** When the running turn's timeout fires, for each shape of termination policy. */
const runningWith = (input: Partial<TeamSpecInput>) => {
  const h = sessionHarness(spec({ type: 'single', agents: [{ name: 'a' }], ...input }));
  h.start();
  h.post('m1', 'Hi');
  return h.state();
};

describe('turnDeadline, for each policy', () => {
  it('a lone timeout fires its seconds after the turn started', () =>
    expect(turnDeadline(runningWith({ termination: { kind: 'timeout', seconds: 1.5 } }))).toBe(
      '2026-01-01T00:00:01.500Z',
    ));

  it('the earliest of several timeouts in an any_of, whatever their order', () =>
    expect(
      turnDeadline(
        runningWith({
          termination: {
            kind: 'any_of',
            conditions: [
              { kind: 'timeout', seconds: 30 },
              { kind: 'timeout', seconds: 120 },
            ],
          },
        }),
      ),
    ).toBe('2026-01-01T00:00:30.000Z'));

  it('none for a policy without a timeout, an any_of without one, or an all_of with one', () => {
    expect(turnDeadline(runningWith({}))).toBeNull();
    expect(turnDeadline(runningWith({ termination: { kind: 'max_messages', limit: 3 } }))).toBeNull();
    expect(
      turnDeadline(
        runningWith({
          limits: { maxParallelToolCalls: 4, maxTokens: 100 },
          termination: { kind: 'max_messages', limit: 3 },
        }),
      ),
    ).toBeNull();
    expect(
      turnDeadline(
        runningWith({
          termination: {
            kind: 'all_of',
            conditions: [
              { kind: 'timeout', seconds: 30 },
              { kind: 'max_messages', limit: 3 },
            ],
          },
        }),
      ),
    ).toBeNull();
  });

  it('none before the session starts', () => expect(turnDeadline(initialSession())).toBeNull());
});

describe('nextDeadline, at its edges', () => {
  const withTools = (input: Partial<TeamSpecInput>) => {
    const h = sessionHarness(
      spec({
        type: 'single',
        agents: [{ name: 'a', tools: ['calculator', 'refund'], approvalRequired: ['refund'] }],
        ...input,
      }),
    );
    h.start();
    h.post('m1', 'Hi');
    return h;
  };

  it('the turn timeout when it comes before an approval deadline', () => {
    const h = withTools({ limits: { turnTimeoutSeconds: 5 }, approvals: { timeoutSeconds: 10 } });
    h.answer(null, [{ name: 'refund', arguments: '{}' }]);
    expect(nextDeadline(h.state())).toBe('2026-01-01T00:00:05.000Z');
  });

  it('of two deadlines at the same instant, the first listed: the turn timeout as it spells it', () => {
    const h = withTools({ limits: { turnTimeoutSeconds: 10 }, approvals: { timeoutSeconds: 10 } });
    h.answer(null, [{ name: 'refund', arguments: '{}' }]);
    const state = h.state();
    const tool = state.toolCalls['t1.s1.m1.t0']!;
    expect(tool.approvalExpiresAt).toBe('2026-01-01T00:00:10.000Z');
    // The same instant written another way (a log decide did not write) shows which one is kept.
    const respelled = {
      ...state,
      toolCalls: {
        ...state.toolCalls,
        [tool.toolCallId]: { ...tool, approvalExpiresAt: '2026-01-01T00:00:10Z' },
      },
    };
    expect(nextDeadline(respelled)).toBe('2026-01-01T00:00:10.000Z');
  });

  it('a running tool (no approval) has no deadline of its own', () => {
    const h = withTools({ limits: { turnTimeoutSeconds: 5 } });
    h.answer(null, [{ name: 'calculator', arguments: '{}' }]);
    expect(nextDeadline(h.state())).toBe('2026-01-01T00:00:05.000Z');
  });

  it('a granted approval no longer has a deadline', () => {
    const h = withTools({ limits: {}, approvals: { timeoutSeconds: 10 } });
    h.answer(null, [{ name: 'refund', arguments: '{}' }]);
    expect(nextDeadline(h.state())).toBe('2026-01-01T00:00:10.000Z');
    h.send({ type: 'DecideApproval', data: { toolCallId: 't1.s1.m1.t0', approve: true } });
    expect(nextDeadline(h.state())).toBeNull();
  });
});
