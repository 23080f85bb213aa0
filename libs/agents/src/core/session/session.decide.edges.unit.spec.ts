import { describe, expect, it } from 'vitest';
import { given, meta } from '../../testing/decider-spec.ts';
import { approvalTeam, spec, startedSession, T0, types } from '../../testing/session-harness.ts';
import type { SessionCommand } from './session.commands.ts';
import { decide } from './session.decide.ts';
import type { SessionEvent, ToolFailureReason } from './session.events.ts';

/**
 * The edges of each command's decision (mutation testing, docs/mutation.md): which part of an id
 * or condition makes a command a duplicate, late, or illegal, and the exact data of what it emits.
 */
const single = approvalTeam();
const started = startedSession;
/** The rejection's message (the code alone is checked by `thenThrows`). */
const rejection = (events: readonly SessionEvent[], command: Omit<SessionCommand, 'metadata'>): string => {
  const state = given(...events).state;
  try {
    decide({ ...command, metadata: meta() } as SessionCommand, state);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the command was not rejected');
};

describe('StartSession, at its edges', () => {
  const start = (data: Partial<{ sessionId: string; teamId: string }> = {}) =>
    ({
      type: 'StartSession',
      data: { sessionId: 's1', tenantId: 'tenant', teamId: 'team', spec: single, ...data },
    }) as const;

  it('rejects the same spec under another session id or team id', () => {
    const h = started();
    given(...h.events)
      .when({ ...start({ sessionId: 's2' }), metadata: meta() })
      .thenThrows('illegal_session_state');
    given(...h.events)
      .when({ ...start({ teamId: 'other' }), metadata: meta() })
      .thenThrows('illegal_session_state');
    expect(rejection(h.events, start({ teamId: 'other' }))).toBe(
      'session s1 already started with another team spec',
    );
  });

  it('rejects a start onto a stream that holds events but no start', () => {
    const stray: SessionEvent = { type: 'SessionClosed', data: { at: T0 } };
    given(stray)
      .when({ ...start(), metadata: meta() })
      .thenThrows('illegal_session_state');
    expect(rejection([stray], start())).toBe('session already exists');
  });
});

describe('ForkSession, at its edges', () => {
  const parent = () => started().events.slice(0, 1);
  const fork = (
    data: Partial<{ parentSessionId: string; atVersion: number; parentEvents: SessionEvent[] }>,
  ) =>
    ({
      type: 'ForkSession',
      data: {
        sessionId: 's2',
        tenantId: 'tenant',
        parentSessionId: 's1',
        atVersion: 1,
        parentEvents: parent(),
        ...data,
      },
    }) as const;

  it('rejects a fork whose parent events are not exactly its version', () => {
    given()
      .when({ ...fork({ atVersion: 2 }), metadata: meta() })
      .thenThrows('illegal_session_state');
    expect(rejection([], fork({ atVersion: 2 }))).toBe(
      'a fork at version 2 needs exactly that many parent events',
    );
    given()
      .when({ ...fork({ atVersion: 0, parentEvents: [] }), metadata: meta() })
      .thenThrows('illegal_session_state');
  });

  it('rejects a second fork of the same session from another parent or version', () => {
    const forked = given()
      .when({ ...fork({}), metadata: meta() })
      .state();
    const events: SessionEvent[] = [{ type: 'SessionForked', data: { ...fork({}).data, at: T0 } }];
    expect(forked.forkedFrom).toEqual({ sessionId: 's1', atVersion: 1 });
    given(...events)
      .when({ ...fork({ parentSessionId: 'other' }), metadata: meta() })
      .thenThrows('illegal_session_state');
    const twoEvents = started();
    twoEvents.post('m1', 'Hi');
    given(...events)
      .when({ ...fork({ atVersion: 2, parentEvents: twoEvents.events.slice(0, 2) }), metadata: meta() })
      .thenThrows('illegal_session_state');
    expect(rejection(events, fork({ parentSessionId: 'other' }))).toBe('session s2 already exists');
  });
});

describe('PostUserMessage, at its edges', () => {
  it('a reply to a handoff to the user inside a turn comes from the user, not the agent', () => {
    const team = spec({
      type: 'swarm',
      agents: [{ name: 'a', handoffs: ['user'] }, { name: 'b' }],
      maxTurns: 5,
    });
    const h = started(team);
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'transfer_to_user', arguments: '{}' }]);
    expect(h.state().awaitingInput).toEqual({ agent: 'a', reason: 'handoff' });
    expect(h.state().turn?.phase).toBe('awaiting_input');
    h.post('m2', 'here');
    expect(h.state().messages.at(-1)).toMatchObject({ id: 'm2', source: 'user', turnId: 't1' });
  });

  it('interrupting a turn says so in its cancellation', () => {
    const h = started({ ...single, onBusy: 'interrupt' });
    h.post('m1', 'first');
    const out = h.post('m2', 'second');
    expect(out[0]).toEqual({
      type: 'TurnCancelled',
      data: { turnId: 't1', reason: 'interrupted by a new message', at: T0 },
    });
    expect(out[1]).toEqual({
      type: 'UserMessageReceived',
      data: { messageId: 'm2', content: 'second', source: 'user', at: T0 },
    });
  });

  it('a message queued behind a running turn comes from the user and starts nothing yet', () => {
    const h = started();
    h.post('m1', 'first');
    expect(h.post('m2', 'second')).toEqual([
      {
        type: 'UserMessageReceived',
        data: { messageId: 'm2', content: 'second', source: 'user', at: T0 },
      },
    ]);
  });

  it('is rejected before the start with its reason', () =>
    expect(rejection([], { type: 'PostUserMessage', data: { messageId: 'm1', content: 'x' } })).toBe(
      'session not started',
    ));
});

describe('RecordModelCall, at its edges', () => {
  const completed = (callId: string, extra: object = {}) =>
    ({
      type: 'RecordModelCall',
      data: {
        callId,
        outcome: 'completed',
        content: 'late',
        toolCalls: [],
        usage: { promptTokens: 1, completionTokens: 1 },
        finishReason: 'stop',
        latencyMs: 4,
        ...extra,
      },
    }) as const;

  it('a completed (not aborted) result for a call cut short by a cancel is late', () => {
    const h = started();
    h.post('m1', 'Hi');
    h.send({ type: 'CancelTurn', data: {} });
    expect(h.state().abortedCalls).toEqual(['t1.s1.m1']);
    given(...h.events)
      .when({ ...completed('t1.s1.m1'), metadata: meta() })
      .thenNothing();
  });

  it('records the model that answered, and nothing when it is not named', () => {
    const h = started();
    h.post('m1', 'Hi');
    given(...h.events)
      .when({ ...completed('t1.s1.m1', { model: 'gpt-x' }), metadata: meta() })
      .then((events) =>
        expect(events[0]).toEqual({
          type: 'ModelCallCompleted',
          data: {
            callId: 't1.s1.m1',
            content: 'late',
            toolCalls: [],
            usage: { promptTokens: 1, completionTokens: 1 },
            finishReason: 'stop',
            latencyMs: 4,
            contextHash: h.state().modelCalls['t1.s1.m1']!.contextHash,
            model: 'gpt-x',
          },
        }),
      );
    given(...h.events)
      .when({ ...completed('t1.s1.m1'), metadata: meta() })
      .then((events) => expect(events[0]!.data).not.toHaveProperty('model'));
  });

  it('a tool call from a selector is not run', () => {
    const team = spec({ type: 'selector', agents: [{ name: 'x', tools: ['calculator'] }, { name: 'y' }] });
    const h = started(team);
    h.post('m1', 'task');
    const out = h.answer('x', [{ name: 'calculator', arguments: '{}' }]);
    expect(types(out)).toEqual(['ModelCallCompleted', 'SpeakerSelected', 'ModelCallRequested']);
  });

  it('runs an MCP tool the agent was given, and fails one it was not, naming it and the agent', () => {
    const team = spec({
      type: 'single',
      agents: [
        {
          name: 'a',
          mcpTools: [{ server: 'crm', name: 'lookup', description: 'd', inputSchema: {}, idempotent: true }],
        },
      ],
    });
    const h = started(team);
    h.post('m1', 'Hi');
    expect(types(h.answer(null, [{ name: 'lookup', arguments: '{}' }]))).toEqual([
      'ModelCallCompleted',
      'ToolCallRequested',
    ]);
    const other = started(team);
    other.post('m1', 'Hi');
    const out = other.answer(null, [{ name: 'erase', arguments: '{}' }]);
    expect(out[2]).toEqual({
      type: 'ToolCallFailed',
      data: {
        toolCallId: 't1.s1.m1.t0',
        reason: 'unknown-tool',
        message: "tool 'erase' is not available to a",
        latencyMs: 0,
      },
    });
  });

  it('runs any one of several MCP tools the agent was given', () => {
    const mcpTool = (name: string) => ({
      server: 'crm',
      name,
      description: 'd',
      inputSchema: {},
      idempotent: true,
    });
    const team = spec({
      type: 'single',
      agents: [{ name: 'a', mcpTools: [mcpTool('lookup'), mcpTool('note')] }],
    });
    const h = started(team);
    h.post('m1', 'Hi');
    expect(types(h.answer(null, [{ name: 'note', arguments: '{}' }]))).toEqual([
      'ModelCallCompleted',
      'ToolCallRequested',
    ]);
  });

  it('requests each tool call with the call, the agent, the name and the arguments', () => {
    const h = started();
    h.post('m1', 'Hi');
    const out = h.answer(null, [
      { name: 'calculator', arguments: '{"a":1}' },
      { name: 'refund', arguments: '{"n":2}' },
    ]);
    expect(out.slice(1)).toEqual([
      {
        type: 'ToolCallRequested',
        data: {
          toolCallId: 't1.s1.m1.t0',
          callId: 't1.s1.m1',
          agent: 'a',
          name: 'calculator',
          arguments: '{"a":1}',
        },
      },
      {
        type: 'ToolCallRequested',
        data: {
          toolCallId: 't1.s1.m1.t1',
          callId: 't1.s1.m1',
          agent: 'a',
          name: 'refund',
          arguments: '{"n":2}',
        },
      },
      {
        type: 'ToolApprovalRequested',
        data: { toolCallId: 't1.s1.m1.t1', name: 'refund', arguments: '{"n":2}', agent: 'a' },
      },
    ]);
  });

  it('a failed call records its error and latency, then fails the turn', () => {
    const h = started();
    h.post('m1', 'Hi');
    const out = h.failModel('overloaded', false);
    expect(out[0]).toEqual({
      type: 'ModelCallFailed',
      data: {
        callId: 't1.s1.m1',
        error: { type: 'server_error', message: 'overloaded', retryable: false },
        latencyMs: 1,
      },
    });
  });
});

describe('RecordToolResult, at its edges', () => {
  const withTool = (team = single, tool = 'calculator') => {
    const h = started(team);
    h.post('m1', 'Hi');
    h.answer(null, [{ name: tool, arguments: '{}' }]);
    return h;
  };
  const failed = (toolCallId: string, reason: ToolFailureReason) =>
    ({
      type: 'RecordToolResult',
      data: { toolCallId, outcome: 'failed', reason, message: 'cut short', latencyMs: 3 },
    }) as const;

  it('records an aborted tool of a cancelled turn once, as reported', () => {
    const h = withTool();
    h.send({ type: 'CancelTurn', data: {} });
    expect(h.state().abortedCalls).toEqual(['t1.s1.m1.t0']);
    given(...h.events)
      .when({ ...failed('t1.s1.m1.t0', 'aborted'), metadata: meta() })
      .then([
        {
          type: 'ToolCallFailed',
          data: { toolCallId: 't1.s1.m1.t0', reason: 'aborted', message: 'cut short', latencyMs: 3 },
        },
      ]);
    given(...h.events)
      .when({ ...failed('t1.s1.m1.t0', 'timeout'), metadata: meta() })
      .thenNothing();
  });

  it('records a failure of a call awaiting approval (only a completed result waits for it)', () => {
    const h = withTool(single, 'refund');
    given(...h.events)
      .when({ ...failed('t1.s1.m1.t0', 'unknown-outcome'), metadata: meta() })
      .then((events) =>
        expect(events[0]).toEqual({
          type: 'ToolCallFailed',
          data: { toolCallId: 't1.s1.m1.t0', reason: 'unknown-outcome', message: 'cut short', latencyMs: 3 },
        }),
      );
  });

  it('records a completed result with its latency', () => {
    const h = withTool();
    expect(
      h.send({
        type: 'RecordToolResult',
        data: { toolCallId: 't1.s1.m1.t0', outcome: 'completed', result: '3', latencyMs: 9 },
      })[0],
    ).toEqual({ type: 'ToolCallCompleted', data: { toolCallId: 't1.s1.m1.t0', result: '3', latencyMs: 9 } });
  });
});

describe('approvals, at their edges', () => {
  /** Two tool iterations: the first batch stays recorded while the second model call runs. */
  const iterating = spec({
    type: 'single',
    agents: [
      { name: 'a', tools: ['calculator', 'refund'], approvalRequired: ['refund'], maxToolIterations: 2 },
    ],
  });

  it('an approval request for a call that already ran changes nothing', () => {
    const h = started(iterating);
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'calculator', arguments: '{}' }]);
    h.toolResult('t1.s1.m1.t0', '3');
    expect(h.state().toolCalls['t1.s1.m1.t0']?.status).toBe('completed');
    given(...h.events)
      .when({ type: 'RequestApproval', data: { toolCallId: 't1.s1.m1.t0' }, metadata: meta() })
      .thenNothing();
  });

  it('a decision on a call nobody asked approval for changes nothing', () => {
    const h = started();
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'calculator', arguments: '{}' }]);
    given(...h.events)
      .when({ type: 'DecideApproval', data: { toolCallId: 't1.s1.m1.t0', approve: true }, metadata: meta() })
      .thenNothing();
  });

  const awaitingRefund = () => {
    const h = started();
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'refund', arguments: '{}' }]);
    return h;
  };

  it('a grant records who granted it and why', () => {
    const h = awaitingRefund();
    expect(
      h.send({
        type: 'DecideApproval',
        data: { toolCallId: 't1.s1.m1.t0', approve: true, actor: 'ops@x', reason: 'fine' },
      }),
    ).toEqual([
      { type: 'ToolApprovalGranted', data: { toolCallId: 't1.s1.m1.t0', actor: 'ops@x', reason: 'fine' } },
    ]);
  });

  it('a denial without a reason says only that the user denied it', () => {
    const h = awaitingRefund();
    const out = h.send({ type: 'DecideApproval', data: { toolCallId: 't1.s1.m1.t0', approve: false } });
    expect(out.slice(0, 2)).toEqual([
      { type: 'ToolApprovalDenied', data: { toolCallId: 't1.s1.m1.t0' } },
      {
        type: 'ToolCallFailed',
        data: {
          toolCallId: 't1.s1.m1.t0',
          reason: 'approval-denied',
          message: 'the user denied this tool call',
          latencyMs: 0,
        },
      },
    ]);
  });

  it('a grant or denial without actor or reason records neither (no undefined keys)', () => {
    const granted = awaitingRefund().send({
      type: 'DecideApproval',
      data: { toolCallId: 't1.s1.m1.t0', approve: true },
    });
    expect(granted).toStrictEqual([{ type: 'ToolApprovalGranted', data: { toolCallId: 't1.s1.m1.t0' } }]);
    const denied = awaitingRefund().send({
      type: 'DecideApproval',
      data: { toolCallId: 't1.s1.m1.t0', approve: false },
    });
    expect(denied[0]).toStrictEqual({ type: 'ToolApprovalDenied', data: { toolCallId: 't1.s1.m1.t0' } });
  });

  it('a decision on a call that failed while awaiting approval changes nothing', () => {
    const h = started(iterating);
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'refund', arguments: '{}' }]);
    h.send({
      type: 'RecordToolResult',
      data: {
        toolCallId: 't1.s1.m1.t0',
        outcome: 'failed',
        reason: 'unknown-outcome',
        message: 'x',
        latencyMs: 1,
      },
    });
    expect(h.state().toolCalls['t1.s1.m1.t0']).toMatchObject({ status: 'failed', approval: 'requested' });
    for (const approve of [true, false])
      given(...h.events)
        .when({ type: 'DecideApproval', data: { toolCallId: 't1.s1.m1.t0', approve }, metadata: meta() })
        .thenNothing();
  });

  it('a denial with a reason quotes it', () => {
    const h = awaitingRefund();
    const out = h.send({
      type: 'DecideApproval',
      data: { toolCallId: 't1.s1.m1.t0', approve: false, reason: 'too much' },
    });
    expect(out[1]).toMatchObject({ data: { message: 'the user denied this tool call: too much' } });
  });

  it('a decision on a closed session is rejected', () => {
    const h = awaitingRefund();
    h.send({ type: 'CloseSession', data: {} });
    given(...h.events)
      .when({ type: 'DecideApproval', data: { toolCallId: 't1.s1.m1.t0', approve: true }, metadata: meta() })
      .thenThrows('session_closed');
  });

  it('an id that does not name a past turn is unknown', () => {
    const h = awaitingRefund();
    h.send({ type: 'CancelTurn', data: {} });
    for (const toolCallId of ['xt1.s1.m1.t0', 't1-s1.m1.t0', 't.s1.m1.t0'])
      given(...h.events)
        .when({ type: 'RequestApproval', data: { toolCallId }, metadata: meta() })
        .thenThrows('tool_call_not_found');
  });

  it('an id of a past turn numbered 10 or more is late, not unknown', () => {
    const h = started();
    for (let i = 1; i <= 10; i++) {
      h.post(`m${i}`, 'Hi');
      h.answer('ok');
    }
    expect(h.state().turnCount).toBe(10);
    given(...h.events)
      .when({ type: 'RequestApproval', data: { toolCallId: 't10.s1.m1.t0' }, metadata: meta() })
      .thenNothing();
    given(...h.events)
      .when({ type: 'DecideApproval', data: { toolCallId: 't10.s1.m1.t0', approve: true }, metadata: meta() })
      .thenNothing();
  });
});

describe('CancelTurn, CloseSession, MarkStalled, at their edges', () => {
  it('a cancel without a reason says cancelled', () => {
    const h = started();
    h.post('m1', 'Hi');
    expect(h.send({ type: 'CancelTurn', data: {} })).toEqual([
      { type: 'TurnCancelled', data: { turnId: 't1', reason: 'cancelled', at: T0 } },
    ]);
  });

  it('a cancel of a closed session is rejected', () => {
    const h = started();
    h.send({ type: 'CloseSession', data: {} });
    given(...h.events)
      .when({ type: 'CancelTurn', data: {}, metadata: meta() })
      .thenThrows('session_closed');
  });

  it('closing records its reason; closing an idle session cancels nothing', () => {
    const h = started();
    expect(h.send({ type: 'CloseSession', data: { reason: 'done' } })).toEqual([
      { type: 'SessionClosed', data: { reason: 'done', at: T0 } },
    ]);
  });

  it('closing a running turn says the session closed; no reason given, none recorded', () => {
    const h = started();
    h.post('m1', 'Hi');
    expect(h.send({ type: 'CloseSession', data: {} })).toStrictEqual([
      { type: 'TurnCancelled', data: { turnId: 't1', reason: 'session closed', at: T0 } },
      { type: 'SessionClosed', data: { at: T0 } },
    ]);
  });

  it('closing a session never started is rejected', () => {
    given().when({ type: 'CloseSession', data: {}, metadata: meta() }).thenThrows('illegal_session_state');
    expect(rejection([], { type: 'CloseSession', data: {} })).toBe('session not started');
  });

  it('marks stalled with the reason and time given', () => {
    const h = started();
    h.post('m1', 'Hi');
    given(...h.events)
      .when({
        type: 'MarkStalled',
        data: { reason: 'no progress' },
        metadata: meta('2026-01-01T00:05:00.000Z'),
      })
      .then([{ type: 'SessionStalled', data: { reason: 'no progress', at: '2026-01-01T00:05:00.000Z' } }]);
  });

  it('a granted approval past its deadline is not denied while its tool runs', () => {
    const h = started({ ...single, approvals: { timeoutSeconds: 10, onTimeout: 'deny' } });
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'refund', arguments: '{}' }]);
    h.send({ type: 'DecideApproval', data: { toolCallId: 't1.s1.m1.t0', approve: true } });
    expect(h.state().toolCalls['t1.s1.m1.t0']).toMatchObject({
      status: 'pending',
      approval: 'granted',
      approvalExpiresAt: '2026-01-01T00:00:10.000Z',
    });
    given(...h.events)
      .when({ type: 'CheckTimeout', data: {}, metadata: meta('2026-01-01T00:00:11.000Z') })
      .thenNothing();
  });

  it('a timeout check without a running turn does nothing', () => {
    const team = spec({
      type: 'single',
      agents: [{ name: 'a' }],
      termination: { kind: 'timeout', seconds: 1 },
    });
    const h = started(team);
    given(...h.events)
      .when({ type: 'CheckTimeout', data: {}, metadata: meta('2026-01-02T00:00:00.000Z') })
      .thenNothing();
  });
});

describe('a command decide does not know', () => {
  it('is refused as an illegal state naming its type (a caller that bypassed the types)', () => {
    const h = startedSession();
    expect(() => decide({ type: 'Bogus', data: {}, metadata: meta() } as never, h.state())).toThrow(
      /^unknown command Bogus$/,
    );
  });
});
