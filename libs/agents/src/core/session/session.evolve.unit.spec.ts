import { describe, expect, it } from 'vitest';
import { given, meta } from '../../testing/decider-spec.ts';
import { approvalTeam, sessionHarness, spec, T0 } from '../../testing/session-harness.ts';
import { nextAction } from './next-action.ts';
import type { SessionEvent } from './session.events.ts';
import { toolResultText } from './session.evolve.ts';
import type { Session, ToolCallState } from './session.state.ts';

/**
 * The fold at its edges (mutation testing, docs/mutation.md): what each event clears, counts or
 * keeps, and that the fold is total (an event out of place changes only what it names).
 */
const started = (team = spec({ type: 'single', agents: [{ name: 'a', tools: ['calculator'] }] })) => {
  const h = sessionHarness(team);
  h.start();
  return h;
};
/** A swarm whose first agent hands the conversation to the user inside the turn. */
const swarm = (extra: object = {}) =>
  spec({ type: 'swarm', agents: [{ name: 'a', handoffs: ['user'] }, { name: 'b' }], maxTurns: 5, ...extra });
const awaitingUser = (team = swarm()) => {
  const h = started(team);
  h.post('m1', 'Hi');
  h.answer(null, [{ name: 'transfer_to_user', arguments: '{}' }]);
  expect(h.state().awaitingInput).toEqual({ agent: 'a', reason: 'handoff' });
  return h;
};
const fork = (parent: readonly SessionEvent[]): Session =>
  given()
    .when({
      type: 'ForkSession',
      data: {
        sessionId: 's2',
        tenantId: 'tenant',
        parentSessionId: 's1',
        atVersion: parent.length,
        parentEvents: parent,
      },
      metadata: meta(),
    })
    .state();
const exchanges = (state: Session) => state.thread.filter((item) => item.kind === 'tool_exchange');
/** A running turn whose agent called the calculator twice: both tool calls are pending. */
const twoToolCalls = () => {
  const h = started();
  h.post('m1', 'Hi');
  h.answer(null, [
    { name: 'calculator', arguments: '{"a":1}' },
    { name: 'calculator', arguments: '{"a":2}' },
  ]);
  return h;
};

describe('evolve is total: an event out of place changes only what it names', () => {
  it('a turn event with no turn running starts no turn', () => {
    const h = started();
    const state = given(...h.events, {
      type: 'SessionAwaitingInput',
      data: { turnId: 't9', agent: 'a', reason: 'handoff' },
    }).state;
    expect(state.turn).toBeNull();
  });

  it('a task ledger in a turn that is not Magentic-One adds no Magentic-One state', () => {
    const h = started();
    h.post('m1', 'Hi');
    const state = given(...h.events, {
      type: 'TaskLedgerUpdated',
      data: { turnId: 't1', outerLoop: 1, facts: 'f', plan: 'p', factsCallId: 'f1', planCallId: 'p1' },
    }).state;
    expect(state.turn).not.toHaveProperty('magentic');
  });

  it('a tool result folded twice adds its exchange to the thread once', () => {
    const h = started();
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'calculator', arguments: '{}' }]);
    const result = h.toolResult('t1.s1.m1.t0', '3')[0]!;
    const upToResult = h.events.slice(0, h.events.indexOf(result) + 1);
    expect(exchanges(given(...upToResult).state)).toHaveLength(1);
    expect(exchanges(given(...upToResult, result).state)).toHaveLength(1);
  });

  it('the failure of a call nobody recorded, with no aborted calls, changes nothing', () => {
    const h = started();
    const before = given(...h.events).state;
    const after = given(...h.events, {
      type: 'ToolCallFailed',
      data: { toolCallId: 't1.s1.m1.t0', reason: 'aborted', message: 'x', latencyMs: 1 },
    }).state;
    expect(after).toEqual({ ...before, version: before.version + 1 });
  });

  it('a handoff answered while the turn awaits input adds no tool exchange (only a speaker closes a batch)', () => {
    const h = started(spec({ type: 'swarm', agents: [{ name: 'a', handoffs: ['b'] }, { name: 'b' }] }));
    h.post('m1', 'Hi');
    const state = given(
      ...h.events,
      { type: 'SessionAwaitingInput', data: { turnId: 't1', agent: 'a', reason: 'handoff' } },
      {
        type: 'ModelCallCompleted',
        data: {
          callId: 't1.s1.m1',
          content: null,
          toolCalls: [{ id: 'x', name: 'transfer_to_b', arguments: '{}' }],
          usage: { promptTokens: 1, completionTokens: 1 },
          finishReason: 'tool_calls',
          latencyMs: 1,
          contextHash: '',
        },
      },
    ).state;
    expect(exchanges(state)).toEqual([]);
  });

  it('a tool result for a model call recorded as failed adds no tool exchange', () => {
    const h = started();
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'calculator', arguments: '{}' }]);
    const state = given(
      ...h.events,
      {
        type: 'ModelCallFailed',
        data: {
          callId: 't1.s1.m1',
          error: { type: 'server_error', message: 'x', retryable: false },
          latencyMs: 1,
        },
      },
      { type: 'ToolCallCompleted', data: { toolCallId: 't1.s1.m1.t0', result: '3', latencyMs: 1 } },
    ).state;
    expect(exchanges(state)).toEqual([]);
  });

  const modelCallOut = () => {
    const h = started();
    h.post('m1', 'Hi');
    return h;
  };
  it.each([
    ['model call', modelCallOut],
    ['tool calls', twoToolCalls],
  ])("the end of another turn neither retires nor aborts the running turn's pending %s", (_, running) => {
    const { events } = running();
    const before = given(...events).state;
    const after = given(...events, {
      type: 'TurnCancelled',
      data: { turnId: 't0', reason: 'stale', at: T0 },
    }).state;
    expect(after.modelCalls).toEqual(before.modelCalls);
    expect(after.toolCalls).toEqual(before.toolCalls);
    expect(after).not.toHaveProperty('abortedCalls');
  });

  it("a model call of another phase starts the step's calls afresh", () => {
    const h = started();
    h.post('m1', 'Hi');
    expect(h.state().turn?.stepCalls).toEqual(['t1.s1.m1']);
    const state = given(...h.events, {
      type: 'ModelCallRequested',
      data: {
        callId: 't1.s2.sel1',
        turnId: 't1',
        step: 2,
        agent: 'selector',
        purpose: 'select_speaker',
        iteration: 1,
        contextLength: 1,
        contextHash: '',
      },
    }).state;
    expect(state.turn).toMatchObject({ phase: 'selecting', stepCalls: ['t1.s2.sel1'] });
  });

  it('the result of a tool call nobody recorded adds no function call to the turn', () => {
    const h = started();
    h.post('m1', 'Hi');
    const state = given(...h.events, {
      type: 'ToolCallCompleted',
      data: { toolCallId: 'x', result: '3', latencyMs: 1 },
    }).state;
    expect(state.turn?.functionCalls).toEqual([]);
  });

  it('a handoff in a session with no team is a handoff to the user', () => {
    const state = given(
      { type: 'TurnStarted', data: { turnId: 't1', messageId: 'm1', at: T0 } },
      {
        type: 'HandoffOccurred',
        data: { turnId: 't1', from: 'a', to: 'b', toolCallId: 'x', message: 'Transferred to b' },
      },
    ).state;
    expect(state.turn?.handoffToUser).toBe('a');
    expect(state.swarmSpeaker).toBeNull();
  });
});

describe('a fork starts clean', () => {
  it('a fork of a turn awaiting the user awaits nothing', () => {
    const state = fork(awaitingUser().events);
    expect(state.awaitingInput).toBeNull();
    expect(nextAction(state)).toEqual({ kind: 'idle', status: 'idle' });
  });

  it('a fork of a session with a queued message has an empty queue', () => {
    const h = started();
    h.post('m1', 'first');
    h.post('m2', 'second');
    expect(h.state().queue).toEqual(['m2']);
    expect(fork(h.events).queue).toEqual([]);
  });

  it('a fork of a session whose cancelled turn left calls to abort expects none of them', () => {
    const h = started();
    h.post('m1', 'Hi');
    h.send({ type: 'CancelTurn', data: {} });
    expect(h.state().abortedCalls).toEqual(['t1.s1.m1']);
    expect(fork(h.events)).not.toHaveProperty('abortedCalls');
  });
});

describe("the user's reply inside a turn", () => {
  it('ends the handoff to the user: the next agent is called, no new wait', () => {
    const h = awaitingUser();
    h.post('m2', 'here');
    expect(h.state().awaitingInput).toBeNull();
    expect(nextAction(h.state())).toMatchObject({ kind: 'call_model', agent: 'a' });
  });

  it('joins the thread after what the turn said', () => {
    const h = awaitingUser();
    const before = h.state().thread;
    h.post('m2', 'here');
    expect(h.state().thread).toEqual([
      ...before,
      { kind: 'message', id: 'm2', source: 'user', content: 'here', messageType: 'text' },
    ]);
  });

  it('a message posted once the turn no longer awaits input waits in the queue', () => {
    const h = awaitingUser();
    const state = given(
      ...h.events,
      { type: 'SpeakerSelected', data: { turnId: 't1', step: 2, agent: 'b', method: 'swarm' } },
      { type: 'UserMessageReceived', data: { messageId: 'm2', content: 'here', source: 'user', at: T0 } },
    ).state;
    expect(state.queue).toEqual(['m2']);
    expect(state.messages.at(-1)?.turnId).toBeNull();
  });

  it('counts as a message of the turn (max_messages)', () => {
    // m1, the handoff message, the reply: the third message ends the turn.
    const h = awaitingUser(swarm({ termination: { kind: 'max_messages', limit: 3 } }));
    expect(h.post('m2', 'here').at(-1)).toEqual({
      type: 'TurnCompleted',
      data: {
        turnId: 't1',
        reason: 'Maximum number of messages 3 reached, current message count: 3',
        at: T0,
      },
    });
  });
});

describe('turns and the wait for input', () => {
  it('a queued message belongs to its turn once the turn starts', () => {
    const h = started();
    h.post('m1', 'first');
    h.post('m2', 'second');
    expect(h.state().messages.find((m) => m.id === 'm2')?.turnId).toBeNull();
    h.answer('done');
    expect(h.state().messages.find((m) => m.id === 'm2')?.turnId).toBe('t2');
  });

  it('a turn takes its message off the queue and leaves the others queued', () => {
    const h = started();
    h.post('m1', 'first');
    h.post('m2', 'second');
    h.post('m3', 'third');
    h.answer('done');
    expect(h.state().turn?.messageId).toBe('m2');
    expect(h.state().queue).toEqual(['m3']);
  });

  it('a turn starts with no calls, no tools used and, in Magentic-One, its thread after the task', () => {
    const h = started(spec({ type: 'magentic_one', agents: [{ name: 'researcher' }] }));
    h.post('m1', 'Look it up');
    const upToStart = h.events.slice(0, h.events.findIndex((e) => e.type === 'TurnStarted') + 1);
    const turn = given(...upToStart).state.turn;
    expect(turn).toMatchObject({ index: 1, step: 0, stepCalls: [], batch: [], functionCalls: [] });
    expect(turn?.magentic).toMatchObject({ task: 'Look it up', threadStart: 1 });
  });

  it('a turn started for a message the log does not hold starts from an empty user message', () => {
    const h = started(spec({ type: 'magentic_one', agents: [{ name: 'researcher' }] }));
    const state = given(...h.events, {
      type: 'TurnStarted',
      data: { turnId: 't1', messageId: 'mX', at: T0 },
    }).state;
    expect(state.thread).toEqual([
      { kind: 'message', id: 'mX', source: 'user', content: '', messageType: 'text' },
    ]);
    expect(state.turn?.magentic?.task).toBe('');
  });

  it('a turn started after a handoff to the user ended the last one awaits nothing', () => {
    const h = started(swarm({ termination: { kind: 'handoff', target: 'user' } }));
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'transfer_to_user', arguments: '{}' }]);
    expect(h.state().turn).toBeNull();
    expect(h.state().awaitingInput).toEqual({ agent: 'a', reason: 'handoff' });
    h.post('m2', 'here');
    expect(h.state().turn?.turnId).toBe('t2');
    expect(h.state().awaitingInput).toBeNull();
    expect(h.state().status).toBe('running');
  });

  it('a turn awaiting the user has no calls out', () => {
    const h = awaitingUser();
    expect(h.state().turn).toMatchObject({ phase: 'awaiting_input', stepCalls: [], batch: [] });
    expect(h.state().pending).toEqual({ modelCalls: [], toolCalls: [], approvals: [] });
  });

  it('cancelling a turn that awaits the user ends the wait', () => {
    const h = awaitingUser();
    h.send({ type: 'CancelTurn', data: {} });
    expect(h.state().awaitingInput).toBeNull();
    expect(nextAction(h.state())).toEqual({ kind: 'idle', status: 'idle' });
  });

  it('closing a session that awaits the user between turns ends the wait', () => {
    const h = started(swarm({ termination: { kind: 'handoff', target: 'user' } }));
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'transfer_to_user', arguments: '{}' }]);
    expect(h.state().awaitingInput).toEqual({ agent: 'a', reason: 'handoff' });
    h.send({ type: 'CloseSession', data: {} });
    expect(h.state().awaitingInput).toBeNull();
  });
});

describe('what a turn records', () => {
  it('a tool called in the turn counts for a function_call termination', () => {
    const team = spec({
      type: 'round_robin',
      agents: [{ name: 'a', tools: ['calculator'] }, { name: 'b' }],
      termination: { kind: 'function_call', functionName: 'calculator' },
    });
    const h = started(team);
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'calculator', arguments: '{}' }]);
    expect(h.toolResult('t1.s1.m1.t0', '3').at(-1)).toMatchObject({
      type: 'TurnCompleted',
      data: { turnId: 't1' },
    });
  });

  /** A Magentic-One turn (max_messages 2) whose orchestrator has told the researcher what to do. */
  const instructed = () => {
    const team = spec({
      type: 'magentic_one',
      agents: [{ name: 'researcher' }, { name: 'writer' }],
      termination: { kind: 'max_messages', limit: 2 },
    });
    const h = started(team);
    h.post('m1', 'Look it up');
    h.answer('facts');
    h.answer('plan');
    h.answer(
      JSON.stringify({
        is_request_satisfied: { reason: 'not yet', answer: false },
        is_in_loop: { reason: 'r', answer: false },
        is_progress_being_made: { reason: 'r', answer: true },
        next_speaker: { reason: 'r', answer: 'researcher' },
        instruction_or_question: { reason: 'r', answer: 'Look it up' },
      }),
    );
    return h;
  };

  it("the Magentic-One orchestrator's own messages do not count (max_messages)", () => {
    const h = instructed();
    expect(h.state().turn?.messageCount).toBe(1);
    expect(nextAction(h.state())).toMatchObject({ kind: 'call_model', agent: 'researcher' });
  });

  it("a Magentic-One agent's message counts (max_messages)", () => {
    expect(instructed().answer('found it').at(-1)).toEqual({
      type: 'TurnCompleted',
      data: {
        turnId: 't1',
        reason: 'Maximum number of messages 2 reached, current message count: 2',
        at: T0,
      },
    });
  });

  it("a reflection's tool calls are not recorded, not even a handoff", () => {
    const team = spec({
      type: 'swarm',
      agents: [{ name: 'a', tools: ['calculator'], reflectOnToolUse: true, handoffs: ['b'] }, { name: 'b' }],
      maxTurns: 1,
    });
    const h = started(team);
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'calculator', arguments: '{}' }]);
    h.toolResult('t1.s1.m1.t0', '3');
    h.answer('It is 3', [{ name: 'transfer_to_b', arguments: '{}' }]);
    expect(exchanges(h.state())).toHaveLength(1);
    expect(h.state().messages.at(-1)).toMatchObject({ source: 'a', content: 'It is 3', messageType: 'text' });
  });

  it("an agent's message without a target records none", () => {
    const h = started();
    h.post('m1', 'Hi');
    h.answer('hello');
    expect(h.state().messages.at(-1)).toStrictEqual({
      id: 't1.s1.msg',
      version: h.state().messages.at(-1)!.version,
      source: 'a',
      role: 'assistant',
      content: 'hello',
      messageType: 'text',
      turnId: 't1',
    });
  });
});

describe('tool results', () => {
  const tool = (patch: Partial<ToolCallState>): ToolCallState => ({
    toolCallId: 't1.s1.m1.t0',
    callId: 't1.s1.m1',
    turnId: 't1',
    agent: 'a',
    name: 'calculator',
    arguments: '{}',
    status: 'completed',
    approval: 'none',
    ...patch,
  });

  it.each([
    ['a completed call without a result', '', tool({ status: 'completed' })],
    ['a failed call without a failure', 'Error: tool call failed', tool({ status: 'failed' })],
  ])('the model sees %s as %j', (_, text, call) => {
    expect(toolResultText(call)).toBe(text);
  });

  it('a batch joins the thread once all its calls are resolved, not at the first result', () => {
    const h = twoToolCalls();
    h.toolResult('t1.s1.m1.t0', '1');
    expect(exchanges(h.state())).toEqual([]);
    h.toolResult('t1.s1.m1.t1', '2');
    expect(exchanges(h.state()).map((x) => x.kind === 'tool_exchange' && x.results)).toEqual([
      [
        { toolCallId: 't1.s1.m1.t0', content: '1' },
        { toolCallId: 't1.s1.m1.t1', content: '2' },
      ],
    ]);
  });

  it('a handoff call is answered with the message of the handoff it names', () => {
    const h = started(
      spec({ type: 'swarm', agents: [{ name: 'a', handoffs: ['b', 'c'] }, { name: 'b' }, { name: 'c' }] }),
    );
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'transfer_to_c', arguments: '{}' }]);
    expect(exchanges(h.state()).map((x) => x.kind === 'tool_exchange' && x.results)).toEqual([
      [{ toolCallId: 't1.s1.m1.t0', content: 'Transferred to c, adopting the role of c immediately.' }],
    ]);
  });

  it('the late failure of one aborted call leaves the others still expected', () => {
    const h = twoToolCalls();
    h.send({ type: 'CancelTurn', data: {} });
    expect(h.state().abortedCalls).toEqual(['t1.s1.m1.t0', 't1.s1.m1.t1']);
    h.send({
      type: 'RecordToolResult',
      data: {
        toolCallId: 't1.s1.m1.t0',
        outcome: 'failed',
        reason: 'aborted',
        message: 'aborted',
        latencyMs: 1,
      },
    });
    expect(h.state().abortedCalls).toEqual(['t1.s1.m1.t1']);
  });

  it('a tool requested with no turn running belongs to no turn', () => {
    const state = given(...started().events, {
      type: 'ToolCallRequested',
      data: { toolCallId: 'x', callId: 'c', agent: 'a', name: 'calculator', arguments: '{}' },
    }).state;
    expect(state.toolCalls['x']?.turnId).toBe('');
  });

  it('an approval without a deadline records none', () => {
    const h = started(approvalTeam());
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'refund', arguments: '{}' }]);
    expect(h.state().toolCalls['t1.s1.m1.t0']).not.toHaveProperty('approvalExpiresAt');
    expect(h.state().pending.approvals).toStrictEqual([
      { toolCallId: 't1.s1.m1.t0', agent: 'a', name: 'refund', arguments: '{}' },
    ]);
  });
});

describe('the pending view', () => {
  it("shows the agent's model call while it is out", () => {
    const h = started();
    h.post('m1', 'Hi');
    expect(h.state().pending).toEqual({
      modelCalls: [{ callId: 't1.s1.m1', agent: 'a', purpose: 'agent' }],
      toolCalls: [],
      approvals: [],
    });
  });

  it('shows only the tool calls of the batch still out', () => {
    const h = twoToolCalls();
    h.toolResult('t1.s1.m1.t0', '1');
    expect(h.state().pending).toEqual({
      modelCalls: [],
      toolCalls: [{ toolCallId: 't1.s1.m1.t1', agent: 'a', name: 'calculator' }],
      approvals: [],
    });
  });

  it('shows a tool call awaiting approval as an approval, not as a tool call to run', () => {
    const h = started(approvalTeam());
    h.post('m1', 'Hi');
    h.answer(null, [
      { name: 'calculator', arguments: '{}' },
      { name: 'refund', arguments: '{}' },
    ]);
    expect(h.state().pending.toolCalls).toEqual([
      { toolCallId: 't1.s1.m1.t0', agent: 'a', name: 'calculator' },
    ]);
    expect(h.state().pending.approvals.map((c) => c.toolCallId)).toEqual(['t1.s1.m1.t1']);
  });
});

describe('who speaks next', () => {
  const agents = [{ name: 'a' }, { name: 'b' }];
  it.each([
    ['round_robin', { roundRobinNext: 1, swarmSpeaker: null }],
    ['swarm', { roundRobinNext: 0, swarmSpeaker: 'a' }],
  ] as const)('a %s team records only its own next speaker', (type, next) => {
    const h = started(spec({ type, agents }));
    h.post('m1', 'Hi');
    expect(h.state()).toMatchObject({ lastSpeaker: 'a', ...next });
  });

  /** A round-robin team whose second agent hands back to the first: a has spoken, b's call is out. */
  const handingBack = () => {
    const h = started(spec({ type: 'round_robin', agents: [{ name: 'a' }, { name: 'b', handoffs: ['a'] }] }));
    h.post('m1', 'Hi');
    h.answer('hello');
    expect(nextAction(h.state())).toMatchObject({ kind: 'call_model', agent: 'b' });
    h.answer(null, [{ name: 'transfer_to_a', arguments: '{}' }]);
    return h;
  };

  it("a handoff outside a swarm leaves the swarm's speaker alone", () => {
    expect(handingBack().state().swarmSpeaker).toBeNull();
  });

  it("a handoff call is answered with the message of the calling agent's handoff", () => {
    expect(exchanges(handingBack().state()).map((x) => x.kind === 'tool_exchange' && x.results)).toEqual([
      [{ toolCallId: 't1.s2.m1.t0', content: 'Transferred to a, adopting the role of a immediately.' }],
    ]);
  });
});
