import { describe, expect, it } from 'vitest';
import { given, meta } from '../../testing/decider-spec.ts';
import { sessionHarness, spec, types } from '../../testing/session-harness.ts';
import { teamSpecSchema } from '../spec/team-spec.ts';
import { nextAction } from './next-action.ts';
import type { SessionCommand } from './session.commands.ts';
import type { SessionEvent } from './session.events.ts';
import { replayDecisions } from './session.replay.ts';
import { nextDeadline } from './session.view.ts';

const at = (seconds: number): string =>
  new Date(Date.parse('2026-01-01T00:00:00.000Z') + seconds * 1000).toISOString();
const check = (seconds: number): SessionCommand => ({
  type: 'CheckTimeout',
  data: {},
  metadata: meta(at(seconds)),
});
const TIMED_OUT = 'Timeout of 3 seconds reached';

const tools = (extra: object = {}) =>
  spec({
    type: 'single',
    agents: [{ name: 'a', tools: ['calculator', 'refund'], approvalRequired: ['refund'] }],
    limits: { turnTimeoutSeconds: 3 },
    ...extra,
  });

const started = (team = tools()) => {
  const h = sessionHarness(team);
  h.start();
  h.post('m1', 'Hi');
  return h;
};

const timedOut = (turnId: string, seconds: number): SessionEvent[] => [
  { type: 'TurnCompleted', data: { turnId, reason: TIMED_OUT, at: at(seconds) } },
];

describe('CheckTimeout: the turn timeout fires whatever the turn waits for', () => {
  it('a pending model call: nothing before the deadline, the turn completes at it, a late result is a no-op', () => {
    const h = started();
    expect(nextAction(h.state()).kind).toBe('call_model');
    expect(nextDeadline(h.state())).toBe(at(3));
    given(...h.events)
      .when(check(2.999))
      .thenNothing();
    given(...h.events)
      .when(check(3))
      .then(timedOut('t1', 3));
    h.send({ type: 'CheckTimeout', data: {} });
    h.advanceClock(3_000);
    expect(types(h.send({ type: 'CheckTimeout', data: {} }))).toEqual(['TurnCompleted']);
    expect(h.state().status).toBe('idle');
    expect(nextDeadline(h.state())).toBeNull();
    const late = h.state();
    expect(() => h.answer('too late')).toThrow('no model call pending');
    given(...h.events)
      .when({
        type: 'RecordModelCall',
        data: {
          callId: 't1.s1.m1',
          outcome: 'completed',
          content: 'too late',
          toolCalls: [],
          usage: { promptTokens: 1, completionTokens: 1 },
          finishReason: 'stop',
          latencyMs: 3_100,
        },
        metadata: meta(at(4)),
      })
      .thenNothing();
    expect(late.messages.map((m) => m.content)).toEqual(['Hi']);
  });

  it('the call the host aborted at the timeout is recorded once as aborted, and replays', () => {
    const h = started();
    h.advanceClock(3_000);
    h.send({ type: 'CheckTimeout', data: {} });
    const aborted = {
      type: 'RecordModelCall',
      data: {
        callId: 't1.s1.m1',
        outcome: 'failed',
        error: { type: 'aborted', message: 'the turn timed out during the call', retryable: false },
        latencyMs: 3_000,
      },
    } as const;
    expect(types(h.send(aborted))).toEqual(['ModelCallFailed']);
    expect(h.send(aborted)).toEqual([]);
    h.post('m2', 'Again');
    expect(replayDecisions(h.events)).toEqual({ matches: true, eventCount: h.events.length });
  });

  it('a running tool: the turn completes and the late tool result is a no-op', () => {
    const h = started();
    h.answer(null, [{ name: 'calculator', arguments: '{"a":1,"b":2,"op":"add"}' }]);
    expect(nextAction(h.state()).kind).toBe('run_tools');
    given(...h.events)
      .when(check(2))
      .thenNothing();
    given(...h.events)
      .when(check(3.5))
      .then(timedOut('t1', 3.5));
    h.advanceClock(4_000);
    h.send({ type: 'CheckTimeout', data: {} });
    given(...h.events)
      .when({
        type: 'RecordToolResult',
        data: { toolCallId: 't1.s1.m1.t0', outcome: 'completed', result: '3', latencyMs: 4_000 },
        metadata: meta(at(5)),
      })
      .thenNothing();
    expect(replayDecisions(h.events)).toEqual({ matches: true, eventCount: h.events.length });
  });

  it('a pending approval: the turn completes and a late decision is a no-op', () => {
    const h = started();
    h.answer(null, [{ name: 'refund', arguments: '{}' }]);
    expect(h.state().status).toBe('awaiting_approval');
    given(...h.events)
      .when(check(1))
      .thenNothing();
    given(...h.events)
      .when(check(3))
      .then(timedOut('t1', 3));
    h.advanceClock(3_000);
    h.send({ type: 'CheckTimeout', data: {} });
    given(...h.events)
      .when({
        type: 'DecideApproval',
        data: { toolCallId: 't1.s1.m1.t0', approve: true },
        metadata: meta(at(4)),
      })
      .thenNothing();
  });

  it('awaiting input from a user proxy: the turn completes', () => {
    const team = spec({
      type: 'round_robin',
      agents: [{ name: 'a' }, { kind: 'user_proxy', name: 'u' }],
      limits: { turnTimeoutSeconds: 3 },
    });
    const h = started(team);
    h.answer('a question for you');
    expect(h.state().status).toBe('awaiting_input');
    given(...h.events)
      .when(check(2))
      .thenNothing();
    given(...h.events)
      .when(check(3))
      .then(timedOut('t1', 3));
    h.advanceClock(3_000);
    h.send({ type: 'CheckTimeout', data: {} });
    expect(h.state().status).toBe('idle');
    expect(replayDecisions(h.events)).toEqual({ matches: true, eventCount: h.events.length });
  });

  it('the `timeout` termination fires the same way, and a session without one has no deadline', () => {
    const h = started(
      spec({ type: 'single', agents: [{ name: 'a' }], termination: { kind: 'timeout', seconds: 5 } }),
    );
    expect(nextDeadline(h.state())).toBe(at(5));
    given(...h.events)
      .when(check(5))
      .then([
        { type: 'TurnCompleted', data: { turnId: 't1', reason: 'Timeout of 5 seconds reached', at: at(5) } },
      ]);
    const none = started(spec({ type: 'single', agents: [{ name: 'a' }] }));
    expect(nextDeadline(none.state())).toBeNull();
    given(...none.events)
      .when(check(3_600))
      .thenNothing();
  });
});

describe('approval deadline (approvals.onTimeout: deny)', () => {
  const team = tools({ limits: {}, approvals: { timeoutSeconds: 10 } });

  it('stamps the request with its time and deadline, denies it at the deadline and goes on', () => {
    const h = started(team);
    h.advanceClock(1_000);
    const requested = h.answer(null, [{ name: 'refund', arguments: '{}' }]);
    expect(requested.at(-1)).toEqual({
      type: 'ToolApprovalRequested',
      data: {
        toolCallId: 't1.s1.m1.t0',
        name: 'refund',
        arguments: '{}',
        agent: 'a',
        at: at(1),
        expiresAt: at(11),
      },
    });
    expect(nextDeadline(h.state())).toBe(at(11));
    expect(h.state().pending.approvals).toEqual([
      { toolCallId: 't1.s1.m1.t0', agent: 'a', name: 'refund', arguments: '{}', expiresAt: at(11) },
    ]);
    given(...h.events)
      .when(check(10.999))
      .thenNothing();
    given(...h.events)
      .when(check(11))
      .then((events) => {
        expect(events.slice(0, 2)).toEqual([
          {
            type: 'ToolApprovalDenied',
            data: {
              toolCallId: 't1.s1.m1.t0',
              reason: 'no decision within the approval deadline of 10 s',
              timedOut: true,
              at: at(11),
            },
          },
          {
            type: 'ToolCallFailed',
            data: {
              toolCallId: 't1.s1.m1.t0',
              reason: 'approval-denied',
              message: 'the tool call was denied: no decision within the approval deadline of 10 s',
              latencyMs: 0,
            },
          },
        ]);
        // As for a person's denial: the failed call's summary is the agent's message, the turn ends.
        expect(types(events.slice(2))).toEqual(['AgentMessageEmitted', 'TurnCompleted']);
      });
    h.advanceClock(10_000);
    h.send({ type: 'CheckTimeout', data: {} });
    expect(h.state().pending.approvals).toEqual([]);
    given(...h.events)
      .when({
        type: 'DecideApproval',
        data: { toolCallId: 't1.s1.m1.t0', approve: true },
        metadata: meta(at(12)),
      })
      .thenNothing();
    expect(replayDecisions(h.events)).toEqual({ matches: true, eventCount: h.events.length });
  });

  it('a registry-required approval (RequestApproval) gets the deadline too; the nearest deadline wins', () => {
    const h = started(tools({ limits: { turnTimeoutSeconds: 30 }, approvals: { timeoutSeconds: 10 } }));
    h.answer(null, [{ name: 'calculator', arguments: '{}' }]);
    h.advanceClock(2_000);
    const out = h.send({ type: 'RequestApproval', data: { toolCallId: 't1.s1.m1.t0' } });
    expect(out[0]?.data).toMatchObject({ at: at(2), expiresAt: at(12) });
    expect(nextDeadline(h.state())).toBe(at(12));
  });

  it('without a deadline a request carries no time and is never denied by CheckTimeout', () => {
    const h = started(tools({ limits: {} }));
    const requested = h.answer(null, [{ name: 'refund', arguments: '{}' }]);
    expect(requested.at(-1)?.data).toEqual({
      toolCallId: 't1.s1.m1.t0',
      name: 'refund',
      arguments: '{}',
      agent: 'a',
    });
    given(...h.events)
      .when(check(86_400))
      .thenNothing();
  });

  it('the spec rejects includeAgentEvents: true on max_messages, naming the field', () => {
    const base = { specVersion: 1, name: 't', type: 'single', agents: [{ name: 'a' }] };
    const issues = (includeAgentEvents: boolean) =>
      teamSpecSchema
        .safeParse({ ...base, termination: { kind: 'max_messages', limit: 3, includeAgentEvents } })
        .error?.issues.map((i) => i.path.join('.'));
    expect(issues(true)).toEqual(['termination.includeAgentEvents']);
    expect(issues(false)).toBeUndefined();
    // stop_message has no such option (nor has AutoGen's StopMessageTermination): an unknown key.
    const stop = teamSpecSchema.safeParse({
      ...base,
      termination: { kind: 'stop_message', includeAgentEvents: true },
    });
    expect(stop.error?.issues.map((i) => [i.path.join('.'), i.code])).toEqual([
      ['termination', 'unrecognized_keys'],
    ]);
  });

  it('the spec rejects a bad deadline or outcome, naming the field', () => {
    const base = { specVersion: 1, name: 't', type: 'single', agents: [{ name: 'a' }] };
    const issues = (approvals: unknown) =>
      teamSpecSchema.safeParse({ ...base, approvals }).error?.issues.map((i) => i.path.join('.'));
    expect(issues({ timeoutSeconds: 0 })).toEqual(['approvals.timeoutSeconds']);
    expect(issues({ timeoutSeconds: 5, onTimeout: 'allow' })).toEqual(['approvals.onTimeout']);
    expect(issues({ timeoutSeconds: 5 })).toBeUndefined();
  });
});
