import { describe, expect, it } from 'vitest';
import { given, meta } from '../../testing/decider-spec.ts';
import { sessionHarness, spec, T0, types } from '../../testing/session-harness.ts';
import { nextAction } from './next-action.ts';
import { foldSession } from './session.decider.ts';

const single = spec({
  type: 'single',
  agents: [{ name: 'a', tools: ['calculator', 'refund'], approvalRequired: ['refund'] }],
});
const rr = spec({
  type: 'round_robin',
  agents: [{ name: 'a' }, { name: 'b' }],
  termination: { kind: 'text_mention', text: 'TERMINATE' },
});
/**
 * `single`'s spec hash, computed outside the code under test: `sha256sum` of its canonical JSON
 * (sorted keys, defaults filled in by the schema), prefixed `sha256:`.
 */
const SINGLE_SPEC_HASH = 'sha256:f04c28524862dd5d3006ff5f8a9a357b6301760ce5c4162c0342b5f079af4c08';
const started = (team = single) => {
  const h = sessionHarness(team);
  h.start();
  return h;
};

describe('StartSession', () => {
  it('starts a session pinning the spec and its hash', () =>
    given()
      .when({
        type: 'StartSession',
        data: { sessionId: 's1', tenantId: 't', teamId: 'team', spec: single },
        metadata: meta(T0),
      })
      .then([
        {
          type: 'SessionStarted',
          data: {
            sessionId: 's1',
            tenantId: 't',
            teamId: 'team',
            spec: single,
            specHash: SINGLE_SPEC_HASH,
            at: T0,
          },
        },
      ]));

  it('ignores the same start twice', () =>
    given(...started().events)
      .when({
        type: 'StartSession',
        data: { sessionId: 's1', tenantId: 'tenant', teamId: 'team', spec: single },
        metadata: meta(),
      })
      .thenNothing());

  it('rejects a start with another spec', () =>
    given(...started().events)
      .when({
        type: 'StartSession',
        data: { sessionId: 's1', tenantId: 'tenant', teamId: 'team', spec: rr },
        metadata: meta(),
      })
      .thenThrows('illegal_session_state'));
});

describe('PostUserMessage', () => {
  it('starts a turn: message, turn, speaker, model call', () =>
    given(...started().events)
      .when({ type: 'PostUserMessage', data: { messageId: 'm1', content: 'Hi' }, metadata: meta(T0) })
      .then((events) => {
        expect(types(events)).toEqual([
          'UserMessageReceived',
          'TurnStarted',
          'SpeakerSelected',
          'ModelCallRequested',
        ]);
        expect(events[3]).toMatchObject({
          data: { callId: 't1.s1.m1', agent: 'a', purpose: 'agent', contextLength: 1 },
        });
      }));

  it('is rejected before the session starts', () =>
    given()
      .when({ type: 'PostUserMessage', data: { messageId: 'm1', content: 'Hi' }, metadata: meta() })
      .thenThrows('illegal_session_state'));

  it('ignores a message id seen before', () => {
    const h = started();
    h.post('m1', 'Hi');
    given(...h.events)
      .when({ type: 'PostUserMessage', data: { messageId: 'm1', content: 'Hi' }, metadata: meta() })
      .thenNothing();
  });

  it('queues a message while a turn runs (onBusy enqueue) and starts it after the turn', () => {
    const h = started();
    h.post('m1', 'first');
    expect(types(h.post('m2', 'second'))).toEqual(['UserMessageReceived']);
    expect(h.state().queue).toEqual(['m2']);
    const after = h.answer('done');
    expect(types(after)).toEqual([
      'ModelCallCompleted',
      'AgentMessageEmitted',
      'TurnCompleted',
      'TurnStarted',
      'SpeakerSelected',
      'ModelCallRequested',
    ]);
    expect(h.state().turn?.turnId).toBe('t2');
  });

  it('rejects a message while a turn runs when onBusy is reject', () => {
    const h = started({ ...single, onBusy: 'reject' });
    h.post('m1', 'first');
    given(...h.events)
      .when({ type: 'PostUserMessage', data: { messageId: 'm2', content: 'x' }, metadata: meta() })
      .thenThrows('session_busy');
  });

  it('cancels the running turn and starts the new one when onBusy is interrupt', () => {
    const h = started({ ...single, onBusy: 'interrupt' });
    h.post('m1', 'first');
    given(...h.events)
      .when({ type: 'PostUserMessage', data: { messageId: 'm2', content: 'x' }, metadata: meta() })
      .then((events) =>
        expect(types(events)).toEqual([
          'TurnCancelled',
          'UserMessageReceived',
          'TurnStarted',
          'SpeakerSelected',
          'ModelCallRequested',
        ]),
      );
  });

  it('answers a user proxy inside the turn, with the proxy as source', () => {
    const team = spec({
      type: 'round_robin',
      agents: [{ name: 'a' }, { kind: 'user_proxy', name: 'human' }],
      maxTurns: 3,
    });
    const h = started(team);
    h.post('m1', 'task');
    expect(types(h.answer('question?'))).toEqual([
      'ModelCallCompleted',
      'AgentMessageEmitted',
      'SpeakerSelected',
      'SessionAwaitingInput',
    ]);
    expect(h.state().status).toBe('awaiting_input');
    const reply = h.post('m2', 'answer');
    expect(types(reply)).toEqual(['UserMessageReceived', 'SpeakerSelected', 'ModelCallRequested']);
    expect(h.state().messages.at(-1)).toMatchObject({ source: 'human', turnId: 't1' });
  });

  it('is rejected on a closed session', () => {
    const h = started();
    h.send({ type: 'CloseSession', data: {} });
    given(...h.events)
      .when({ type: 'PostUserMessage', data: { messageId: 'm9', content: 'x' }, metadata: meta() })
      .thenThrows('session_closed');
  });
});

describe('RecordModelCall', () => {
  it('emits the agent message and ends a single-agent turn', () => {
    const h = started();
    h.post('m1', 'Hi');
    const out = h.answer('Hello');
    expect(types(out)).toEqual(['ModelCallCompleted', 'AgentMessageEmitted', 'TurnCompleted']);
    expect(out[2]).toMatchObject({ data: { reason: 'Agent replied' } });
    expect(h.state().status).toBe('idle');
  });

  it('requests the tools the model called, with ids derived from the call', () => {
    const h = started();
    h.post('m1', 'Hi');
    const out = h.answer(null, [{ name: 'calculator', arguments: '{"a":1,"b":2,"operator":"+"}' }]);
    expect(types(out)).toEqual(['ModelCallCompleted', 'ToolCallRequested']);
    expect(out[1]).toMatchObject({ data: { toolCallId: 't1.s1.m1.t0', name: 'calculator' } });
  });

  it('fails a call to a tool the agent does not have, and the model sees the error', () => {
    const h = started();
    h.post('m1', 'Hi');
    const out = h.answer(null, [{ name: 'rm_rf', arguments: '{}' }]);
    expect(types(out)).toEqual([
      'ModelCallCompleted',
      'ToolCallRequested',
      'ToolCallFailed',
      'AgentMessageEmitted',
      'TurnCompleted',
    ]);
    expect(out[3]).toMatchObject({
      data: { messageType: 'tool_call_summary', content: "Error: tool 'rm_rf' is not available to a" },
    });
  });

  it('asks for approval of a tool the spec marks', () => {
    const h = started();
    h.post('m1', 'Hi');
    const out = h.answer(null, [{ name: 'refund', arguments: '{}' }]);
    expect(types(out)).toEqual(['ModelCallCompleted', 'ToolCallRequested', 'ToolApprovalRequested']);
    expect(h.state().status).toBe('awaiting_approval');
    expect(nextAction(h.state())).toEqual({ kind: 'await_approval', toolCallIds: ['t1.s1.m1.t0'] });
  });

  it('fails the turn when the model call failed', () => {
    const h = started();
    h.post('m1', 'Hi');
    const out = h.failModel('500 after retries');
    expect(types(out)).toEqual(['ModelCallFailed', 'TurnFailed']);
    expect(h.state().status).toBe('failed');
  });

  it('ignores a duplicate result', () => {
    const h = started();
    h.post('m1', 'Hi');
    h.answer('Hello');
    given(...h.events)
      .when({
        type: 'RecordModelCall',
        data: {
          callId: 't1.s1.m1',
          outcome: 'completed',
          content: 'again',
          toolCalls: [],
          usage: { promptTokens: 1, completionTokens: 1 },
          finishReason: 'stop',
          latencyMs: 1,
        },
        metadata: meta(),
      })
      .thenNothing();
  });

  it('ignores a late result for a cancelled turn', () => {
    const h = started();
    h.post('m1', 'Hi');
    h.send({ type: 'CancelTurn', data: {} });
    given(...h.events)
      .when({
        type: 'RecordModelCall',
        data: {
          callId: 't1.s1.m1',
          outcome: 'failed',
          error: { type: 'x', message: 'x', retryable: false },
          latencyMs: 1,
        },
        metadata: meta(),
      })
      .thenNothing();
  });

  it('ignores a result for a call never requested', () =>
    given(...started().events)
      .when({
        type: 'RecordModelCall',
        data: {
          callId: 'nope',
          outcome: 'failed',
          error: { type: 'x', message: 'x', retryable: false },
          latencyMs: 1,
        },
        metadata: meta(),
      })
      .thenNothing());

  it('loops tool iterations up to maxToolIterations, then reflects', () => {
    const team = spec({
      type: 'single',
      agents: [{ name: 'a', tools: ['calculator'], maxToolIterations: 2, reflectOnToolUse: true }],
    });
    const h = started(team);
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'calculator', arguments: '{}' }]);
    expect(types(h.toolResult('t1.s1.m1.t0', '3'))).toEqual(['ToolCallCompleted', 'ModelCallRequested']);
    expect(nextAction(h.state())).toMatchObject({ kind: 'call_model', callId: 't1.s1.m2' });
    h.answer(null, [{ name: 'calculator', arguments: '{}' }]);
    h.toolResult('t1.s1.m2.t0', '4');
    expect(nextAction(h.state())).toMatchObject({
      kind: 'call_model',
      callId: 't1.s1.reflect',
      purpose: 'reflection',
    });
    expect(types(h.answer('It is 4'))).toEqual([
      'ModelCallCompleted',
      'AgentMessageEmitted',
      'TurnCompleted',
    ]);
  });

  it('hands off: HandoffOccurred, a handoff message, and the swarm speaker moves', () => {
    const team = spec({
      type: 'swarm',
      agents: [{ name: 'a', handoffs: ['b'] }, { name: 'b' }],
      maxTurns: 5,
    });
    const h = started(team);
    h.post('m1', 'Hi');
    const out = h.answer(null, [{ name: 'transfer_to_b', arguments: '{}' }]);
    expect(types(out)).toEqual([
      'ModelCallCompleted',
      'HandoffOccurred',
      'AgentMessageEmitted',
      'SpeakerSelected',
      'ModelCallRequested',
    ]);
    expect(out[3]).toMatchObject({ data: { agent: 'b', method: 'swarm' } });
  });
});

describe('RecordSpeakerSelection', () => {
  const sel = spec({
    type: 'selector',
    agents: [{ name: 'planner' }, { name: 'coder' }, { name: 'critic' }],
    selector: { allowRepeatedSpeaker: false, maxSelectorAttempts: 2 },
    termination: { kind: 'max_messages', limit: 3 },
  });
  const selecting = () => {
    const h = started(sel);
    h.post('m1', 'task');
    return h;
  };

  it('selects the agent the model names', () => {
    const h = selecting();
    expect(nextAction(h.state())).toMatchObject({ kind: 'select_speaker', callId: 't1.s1.sel1' });
    const out = h.answer('coder');
    expect(types(out)).toEqual(['ModelCallCompleted', 'SpeakerSelected', 'ModelCallRequested']);
    expect(out[1]).toMatchObject({ data: { agent: 'coder', method: 'selector' } });
  });

  it('retries an invalid pick, then falls back deterministically', () => {
    const h = selecting();
    expect(types(h.answer('nobody'))).toEqual(['ModelCallCompleted', 'ModelCallRequested']);
    const out = h.answer('planner or coder');
    expect(out[1]).toMatchObject({
      type: 'SpeakerSelected',
      data: { agent: 'planner', method: 'selector_fallback' },
    });
  });

  it('treats a failed selector call as an invalid pick', () => {
    const h = selecting();
    expect(types(h.failModel())).toEqual(['ModelCallFailed', 'ModelCallRequested']);
  });

  it('ignores a duplicate selection', () => {
    const h = selecting();
    h.answer('coder');
    given(...h.events)
      .when({
        type: 'RecordSpeakerSelection',
        data: {
          callId: 't1.s1.sel1',
          outcome: 'completed',
          content: 'critic',
          toolCalls: [],
          usage: { promptTokens: 1, completionTokens: 1 },
          finishReason: 'stop',
          latencyMs: 1,
        },
        metadata: meta(),
      })
      .thenNothing();
  });
});

describe('RecordToolResult', () => {
  const withTool = () => {
    const h = started();
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'calculator', arguments: '{}' }]);
    return h;
  };

  it('records a result and continues', () =>
    given(...withTool().events)
      .when({
        type: 'RecordToolResult',
        data: { toolCallId: 't1.s1.m1.t0', outcome: 'completed', result: '3', latencyMs: 2 },
        metadata: meta(),
      })
      .then((events) =>
        expect(types(events)).toEqual(['ToolCallCompleted', 'AgentMessageEmitted', 'TurnCompleted']),
      ));

  it('records an unknown outcome as a failure the model sees', () =>
    given(...withTool().events)
      .when({
        type: 'RecordToolResult',
        data: {
          toolCallId: 't1.s1.m1.t0',
          outcome: 'failed',
          reason: 'unknown-outcome',
          message: 'replica died',
          latencyMs: 0,
        },
        metadata: meta(),
      })
      .then((events) => {
        expect(events[0]).toMatchObject({ type: 'ToolCallFailed', data: { reason: 'unknown-outcome' } });
        expect(events[1]).toMatchObject({ data: { content: 'Error: replica died' } });
      }));

  it('ignores a duplicate result', () => {
    const h = withTool();
    h.toolResult('t1.s1.m1.t0', '3');
    given(...h.events)
      .when({
        type: 'RecordToolResult',
        data: { toolCallId: 't1.s1.m1.t0', outcome: 'completed', result: '3', latencyMs: 2 },
        metadata: meta(),
      })
      .thenNothing();
  });

  it('ignores a late result after the turn was cancelled', () => {
    const h = withTool();
    h.send({ type: 'CancelTurn', data: {} });
    given(...h.events)
      .when({
        type: 'RecordToolResult',
        data: { toolCallId: 't1.s1.m1.t0', outcome: 'completed', result: '3', latencyMs: 2 },
        metadata: meta(),
      })
      .thenNothing();
  });

  it('ignores a completed result for a call still awaiting approval', () => {
    const h = started();
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'refund', arguments: '{}' }]);
    given(...h.events)
      .when({
        type: 'RecordToolResult',
        data: { toolCallId: 't1.s1.m1.t0', outcome: 'completed', result: 'x', latencyMs: 2 },
        metadata: meta(),
      })
      .thenNothing();
  });
});

describe('approvals', () => {
  const awaiting = () => {
    const h = started();
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'calculator', arguments: '{}' }]);
    return h;
  };

  it('RequestApproval records the request once', () => {
    const h = awaiting();
    expect(types(h.send({ type: 'RequestApproval', data: { toolCallId: 't1.s1.m1.t0' } }))).toEqual([
      'ToolApprovalRequested',
    ]);
    expect(h.state().pending.approvals).toHaveLength(1);
    given(...h.events)
      .when({ type: 'RequestApproval', data: { toolCallId: 't1.s1.m1.t0' }, metadata: meta() })
      .thenNothing();
  });

  it('RequestApproval for an unknown call is rejected', () =>
    given(...awaiting().events)
      .when({ type: 'RequestApproval', data: { toolCallId: 'x' }, metadata: meta() })
      .thenThrows('tool_call_not_found'));

  it('a grant lets the tool run', () => {
    const h = awaiting();
    h.send({ type: 'RequestApproval', data: { toolCallId: 't1.s1.m1.t0' } });
    expect(
      types(h.send({ type: 'DecideApproval', data: { toolCallId: 't1.s1.m1.t0', approve: true } })),
    ).toEqual(['ToolApprovalGranted']);
    expect(nextAction(h.state())).toMatchObject({
      kind: 'run_tools',
      calls: [{ toolCallId: 't1.s1.m1.t0', approved: true }],
    });
    expect(h.state().status).toBe('running');
  });

  it('a denial fails the call and the agent continues', () => {
    const h = awaiting();
    h.send({ type: 'RequestApproval', data: { toolCallId: 't1.s1.m1.t0' } });
    const out = h.send({
      type: 'DecideApproval',
      data: { toolCallId: 't1.s1.m1.t0', approve: false, reason: 'too much' },
    });
    expect(types(out)).toEqual([
      'ToolApprovalDenied',
      'ToolCallFailed',
      'AgentMessageEmitted',
      'TurnCompleted',
    ]);
    expect(out[1]).toMatchObject({ data: { reason: 'approval-denied' } });
  });

  it('a decision or request arriving after the turn ended changes nothing', () => {
    const h = awaiting();
    h.send({ type: 'RequestApproval', data: { toolCallId: 't1.s1.m1.t0' } });
    h.send({ type: 'CancelTurn', data: {} });
    given(...h.events)
      .when({ type: 'DecideApproval', data: { toolCallId: 't1.s1.m1.t0', approve: true }, metadata: meta() })
      .thenNothing();
    given(...h.events)
      .when({ type: 'RequestApproval', data: { toolCallId: 't1.s1.m1.t0' }, metadata: meta() })
      .thenNothing();
    given(...h.events)
      .when({ type: 'DecideApproval', data: { toolCallId: 't9.s1.m1.t0', approve: true }, metadata: meta() })
      .thenThrows('tool_call_not_found');
  });

  it('a second decision changes nothing; an unknown call is rejected', () => {
    const h = awaiting();
    h.send({ type: 'RequestApproval', data: { toolCallId: 't1.s1.m1.t0' } });
    h.send({ type: 'DecideApproval', data: { toolCallId: 't1.s1.m1.t0', approve: true } });
    given(...h.events)
      .when({ type: 'DecideApproval', data: { toolCallId: 't1.s1.m1.t0', approve: false }, metadata: meta() })
      .thenNothing();
    given(...h.events)
      .when({ type: 'DecideApproval', data: { toolCallId: 'zz', approve: true }, metadata: meta() })
      .thenThrows('tool_call_not_found');
  });
});

describe('CancelTurn, CloseSession, MarkStalled, CheckTimeout', () => {
  it('cancels a running turn and forgets its pending call', () => {
    const h = started();
    h.post('m1', 'Hi');
    const out = h.send({ type: 'CancelTurn', data: { reason: 'user' } });
    expect(types(out)).toEqual(['TurnCancelled']);
    expect(h.state().modelCalls['t1.s1.m1']).toBeUndefined();
    expect(h.state().status).toBe('idle');
  });

  const abortedModel = (callId: string) =>
    ({
      type: 'RecordModelCall',
      data: {
        callId,
        outcome: 'failed',
        error: { type: 'aborted', message: 'the turn was cancelled during the call', retryable: false },
        latencyMs: 5,
      },
    }) as const;

  it('records the aborted model call of a cancelled turn once, without advancing', () => {
    const h = started();
    h.post('m1', 'Hi');
    h.send({ type: 'CancelTurn', data: {} });
    expect(h.state().abortedCalls).toEqual(['t1.s1.m1']);
    const out = h.send(abortedModel('t1.s1.m1'));
    expect(out).toEqual([
      {
        type: 'ModelCallFailed',
        data: { callId: 't1.s1.m1', error: abortedModel('t1.s1.m1').data.error, latencyMs: 5 },
      },
    ]);
    expect(h.state().abortedCalls).toBeUndefined();
    expect(h.state().status).toBe('idle');
    given(...h.events)
      .when({ ...abortedModel('t1.s1.m1'), metadata: meta() })
      .thenNothing();
  });

  it('records an aborted tool as aborted or unknown-outcome after an interrupt, while the next turn runs', () => {
    const h = sessionHarness(
      spec({ type: 'single', onBusy: 'interrupt', agents: [{ name: 'a', tools: ['calculator'] }] }),
    );
    h.start();
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'calculator', arguments: '{}' }]);
    expect(types(h.post('m2', 'Stop, do this instead'))).toContain('TurnCancelled');
    expect(h.state().turn?.turnId).toBe('t2');
    const out = h.send({
      type: 'RecordToolResult',
      data: {
        toolCallId: 't1.s1.m1.t0',
        outcome: 'failed',
        reason: 'unknown-outcome',
        message: 'may have acted',
        latencyMs: 3,
      },
    });
    expect(types(out)).toEqual(['ToolCallFailed']);
    expect(h.state().turn?.turnId).toBe('t2');
    expect(nextAction(h.state())).toMatchObject({ kind: 'call_model' });
  });

  it('ignores an aborted outcome for a call that was not in flight, and a cancelled one that is not aborted', () => {
    const h = started();
    h.post('m1', 'Hi');
    h.send({ type: 'CancelTurn', data: {} });
    given(...h.events)
      .when({ ...abortedModel('t1.s1.m2'), metadata: meta() })
      .thenNothing();
    given(...h.events)
      .when({
        type: 'RecordModelCall',
        data: {
          callId: 't1.s1.m1',
          outcome: 'failed',
          error: { type: 'error', message: 'x', retryable: false },
          latencyMs: 1,
        },
        metadata: meta(),
      })
      .thenNothing();
  });

  it('a tool waiting for approval when its turn is cancelled never ran: nothing to abort', () => {
    const h = started();
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'refund', arguments: '{}' }]);
    h.send({ type: 'CancelTurn', data: {} });
    expect(h.state().abortedCalls).toBeUndefined();
  });

  it('does nothing without a turn', () =>
    given(...started().events)
      .when({ type: 'CancelTurn', data: {}, metadata: meta() })
      .thenNothing());

  it('closes for good, cancelling the turn; closing again changes nothing', () => {
    const h = started();
    h.post('m1', 'Hi');
    expect(types(h.send({ type: 'CloseSession', data: {} }))).toEqual(['TurnCancelled', 'SessionClosed']);
    expect(h.state().status).toBe('closed');
    expect(nextAction(h.state())).toEqual({ kind: 'closed' });
    given(...h.events)
      .when({ type: 'CloseSession', data: {}, metadata: meta() })
      .thenNothing();
  });

  it('marks a running session stalled, once, and progress clears it', () => {
    const h = started();
    h.post('m1', 'Hi');
    expect(types(h.send({ type: 'MarkStalled', data: { reason: 'no progress for 300 s' } }))).toEqual([
      'SessionStalled',
    ]);
    expect(h.state().status).toBe('stalled');
    expect(nextAction(h.state()).kind).toBe('call_model');
    given(...h.events)
      .when({ type: 'MarkStalled', data: { reason: 'again' }, metadata: meta() })
      .thenNothing();
    h.answer('ok');
    expect(h.state().status).toBe('idle');
  });

  it('does not mark an idle session stalled', () =>
    given(...started().events)
      .when({ type: 'MarkStalled', data: { reason: 'x' }, metadata: meta() })
      .thenNothing());

  it('completes a turn past its timeout, and not before', () => {
    const team = spec({
      type: 'single',
      agents: [{ name: 'a' }],
      termination: { kind: 'timeout', seconds: 60 },
    });
    const h = started(team);
    h.post('m1', 'Hi');
    given(...h.events)
      .when({ type: 'CheckTimeout', data: {}, metadata: meta('2026-01-01T00:00:30.000Z') })
      .thenNothing();
    given(...h.events)
      .when({ type: 'CheckTimeout', data: {}, metadata: meta('2026-01-01T00:01:00.000Z') })
      .then([
        {
          type: 'TurnCompleted',
          data: { turnId: 't1', reason: 'Timeout of 60 seconds reached', at: '2026-01-01T00:01:00.000Z' },
        },
      ]);
  });
});

describe('ForkSession', () => {
  it('forks at a version: the fork folds to the parent prefix under its own id', () => {
    const h = started(rr);
    h.post('m1', 'Hi');
    h.answer('from a');
    const prefix = h.events.slice(0, 7);
    const fork = given().when({
      type: 'ForkSession',
      data: {
        sessionId: 's2',
        tenantId: 'tenant',
        parentSessionId: 's1',
        atVersion: 7,
        parentEvents: prefix,
      },
      metadata: meta(),
    });
    const state = fork.state();
    expect(state.sessionId).toBe('s2');
    expect(state.messages.map((m) => m.content)).toEqual(['Hi', 'from a']);
    expect(state.forkedFrom).toEqual({ sessionId: 's1', atVersion: 7 });
    expect(state.turn).toBeNull();
    expect(foldSession(prefix).messages).toEqual(state.messages);
  });

  it('ignores the same fork twice and rejects a fork onto an existing session', () => {
    const h = started();
    const data = {
      sessionId: 's2',
      tenantId: 'tenant',
      parentSessionId: 's1',
      atVersion: 1,
      parentEvents: h.events.slice(0, 1),
    };
    const forked = given().when({ type: 'ForkSession', data, metadata: meta() }).state();
    expect(forked.version).toBe(1);
    const events = [{ type: 'SessionForked' as const, data: { ...data, at: T0 } }];
    given(...events)
      .when({ type: 'ForkSession', data, metadata: meta() })
      .thenNothing();
    given(...h.events)
      .when({ type: 'ForkSession', data, metadata: meta() })
      .thenThrows('illegal_session_state');
  });
});
