import { describe, expect, it } from 'vitest';
import { sessionHarness, spec } from '../../testing/session-harness.ts';
import { toSessionView, turnDeadline } from './session.view.ts';

describe('toSessionView', () => {
  it("gives the gateway's session body", () => {
    const h = sessionHarness(spec({ type: 'single', agents: [{ name: 'a', tools: ['calculator'] }] }));
    h.start();
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'calculator', arguments: '{}' }], 7);
    expect(toSessionView(h.state())).toEqual({
      sessionId: 's1',
      teamId: 'team',
      status: 'running',
      version: 7,
      messages: [{ id: 'm1', version: 2, source: 'user', role: 'user', content: 'Hi' }],
      usage: { promptTokens: 7, completionTokens: 7 },
      pending: {
        modelCalls: [],
        toolCalls: [{ toolCallId: 't1.s1.m1.t0', agent: 'a', name: 'calculator' }],
        approvals: [],
      },
    });
  });
});

describe('turnDeadline', () => {
  it('is the earliest timeout of the running turn, or null', () => {
    const team = spec({
      type: 'single',
      agents: [{ name: 'a' }],
      termination: {
        kind: 'any_of',
        conditions: [
          { kind: 'timeout', seconds: 90 },
          { kind: 'max_messages', limit: 4 },
        ],
      },
      limits: { maxParallelToolCalls: 4, turnTimeoutSeconds: 60 },
    });
    const h = sessionHarness(team);
    h.start();
    expect(turnDeadline(h.state())).toBeNull();
    h.post('m1', 'Hi');
    expect(turnDeadline(h.state())).toBe('2026-01-01T00:01:00.000Z');
  });
});
