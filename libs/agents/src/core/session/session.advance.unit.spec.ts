import { describe, expect, it } from 'vitest';
import { sessionHarness, spec, T0, types } from '../../testing/session-harness.ts';
import type { TeamSpec } from '../spec/team-spec.ts';
import { contextForCall, contextHashOf, offeredToolNames } from '../prompt/model-context.ts';
import { advance } from './session.advance.ts';
import { foldSession } from './session.decider.ts';
import type { SessionEvent } from './session.events.ts';
import type { Session } from './session.state.ts';

/**
 * How the decider follows a session to its next waiting point (session.advance.ts): speaker
 * choice, the selector's retries and fallback, tool iterations, summaries and the ids and data of
 * what it requests. Each case pins a detail the broader specs leave open (docs/mutation.md).
 */
const started = (team: TeamSpec) => {
  const h = sessionHarness(team);
  h.start();
  return h;
};

/** The pending model call's context hash is the one its runner rebuilds from state. */
const expectDerivedContextHash = (state: Session): void => {
  const callId = state.turn?.stepCalls.at(-1);
  const call = callId ? state.modelCalls[callId] : undefined;
  if (!call || call.status !== 'pending') throw new Error('no model call pending');
  const agent = state.spec!.agents.find((a) => a.name === call.agent);
  const tools = agent?.kind === 'assistant' ? offeredToolNames(agent, call.purpose) : [];
  expect(call.contextHash).toBe(contextHashOf(contextForCall(state, call), tools));
};

describe('advance', () => {
  it('starts no queued turn on a closed session', () => {
    const h = started(spec({ type: 'single', agents: [{ name: 'a' }] }));
    h.post('m1', 'first');
    h.post('m2', 'queued');
    h.send({ type: 'CloseSession', data: {} });
    expect(h.state().queue).toEqual(['m2']);
    expect(advance(h.state(), new Date(T0))).toEqual([]);
  });

  it('starts the next queued turn with its id, message and time', () => {
    const h = started(spec({ type: 'single', agents: [{ name: 'a' }] }));
    h.post('m1', 'first');
    h.post('m2', 'queued');
    h.advanceClock(5_000);
    const out = h.answer('done');
    expect(out[3]).toEqual({
      type: 'TurnStarted',
      data: { turnId: 't2', messageId: 'm2', at: '2026-01-01T00:00:05.000Z' },
    });
  });

  it('waits for every tool of a batch, not just the first', () => {
    const h = started(spec({ type: 'single', agents: [{ name: 'a', tools: ['calculator'] }] }));
    h.post('m1', 'Hi');
    h.answer(null, [
      { name: 'calculator', arguments: '{"a":1}' },
      { name: 'calculator', arguments: '{"a":2}' },
    ]);
    expect(types(h.toolResult('t1.s1.m1.t0', '1'))).toEqual(['ToolCallCompleted']);
    expect(types(h.toolResult('t1.s1.m1.t1', '2'))).toEqual([
      'ToolCallCompleted',
      'AgentMessageEmitted',
      'TurnCompleted',
    ]);
  });

  it('fails the turn of a speaker the spec does not have', () => {
    const h = started(spec({ type: 'single', agents: [{ name: 'a' }] }));
    h.post('m1', 'Hi');
    const turn = h.state().turn!;
    const events: SessionEvent[] = [
      ...h.events.slice(0, 3),
      { type: 'SpeakerSelected', data: { turnId: turn.turnId, step: 1, agent: 'ghost', method: 'single' } },
    ];
    expect(advance(foldSession(events), new Date(T0))).toEqual([
      { type: 'TurnFailed', data: { turnId: 't1', reason: 'unknown speaker ghost', at: T0 } },
    ]);
  });

  // 24,000 events folded (0.4 s on an idle machine, seconds under load): a timeout to spare.
  it('settles however many messages wait in the queue, each turn ending at once', { timeout: 60_000 }, () => {
    // Each queued turn ends at once (its first message is the limit): two steps a turn. 5,000
    // messages posted to a busy turn once made 10,000 steps, the old fixed bound, and the answer
    // to the busy turn's call could never be recorded. The queue is set directly to stay fast.
    const team = spec({
      type: 'single',
      agents: [{ name: 'a' }],
      termination: { kind: 'max_messages', limit: 1 },
    });
    const h = started(team);
    const queued = (n: number): Session => ({
      ...h.state(),
      queue: Array.from({ length: n }, (_, i) => `m${i + 1}`),
    });
    // 6,000, not 5,000: 12,000 steps pass a bound of 10,000 plus anything short of 2,000 (5,000
    // made exactly 10,000 steps, which a bound of 10,000 + 4 / 5,000 still allowed).
    const settled = advance(queued(6_000), new Date(T0));
    expect(settled).toHaveLength(12_000);
    expect(types(settled.slice(-2))).toEqual(['TurnStarted', 'TurnCompleted']);
    expect(settled.filter((event) => event.type === 'TurnCompleted')).toHaveLength(6_000);
  });

  it('fails a turn whose agent answered without a speaker selected, naming no speaker', () => {
    const h = started(spec({ type: 'single', agents: [{ name: 'a' }] }));
    h.post('m1', 'Hi');
    h.answer('hello');
    // A log with the agent's call but not the SpeakerSelected before it: the turn speaks as nobody.
    const answered = h.events.findIndex((e) => e.type === 'ModelCallCompleted');
    const events = h.events.slice(0, answered + 1).filter((e) => e.type !== 'SpeakerSelected');
    const state = foldSession(events);
    expect(state.turn).toMatchObject({ phase: 'speaking', speaker: null });
    expect(advance(state, new Date(T0))).toEqual([
      { type: 'TurnFailed', data: { turnId: 't1', reason: 'unknown speaker ', at: T0 } },
    ]);
  });
});

describe('termination between steps', () => {
  it("counts only this turn's messages: an earlier turn's TERMINATE does not end the next", () => {
    const team = spec({
      type: 'round_robin',
      agents: [{ name: 'a' }, { name: 'b' }],
      termination: { kind: 'text_mention', text: 'TERMINATE' },
    });
    const h = started(team);
    h.post('m1', 'one');
    expect(types(h.answer('TERMINATE'))).toContain('TurnCompleted');
    const out = h.post('m2', 'two');
    expect(types(out)).toEqual([
      'UserMessageReceived',
      'TurnStarted',
      'SpeakerSelected',
      'ModelCallRequested',
    ]);
  });

  it('stops after exactly maxTurns steps, saying so', () => {
    const h = started(spec({ type: 'round_robin', agents: [{ name: 'a' }, { name: 'b' }], maxTurns: 2 }));
    h.post('m1', 'Hi');
    expect(types(h.answer('from a'))).toEqual([
      'ModelCallCompleted',
      'AgentMessageEmitted',
      'SpeakerSelected',
      'ModelCallRequested',
    ]);
    const out = h.answer('from b');
    expect(out.at(-1)).toEqual({
      type: 'TurnCompleted',
      data: { turnId: 't1', reason: 'Maximum number of turns 2 reached.', at: T0 },
    });
  });

  it('round robin carries its position over to the next turn', () => {
    const team = spec({
      type: 'round_robin',
      agents: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
      maxTurns: 2,
    });
    const h = started(team);
    h.post('m1', 'Hi');
    h.answer('1');
    h.answer('2');
    const out = h.post('m2', 'again');
    expect(out[2]).toEqual({
      type: 'SpeakerSelected',
      data: { turnId: 't2', step: 1, agent: 'c', method: 'round_robin' },
    });
    h.answer('3');
    expect(h.state().turn?.speaker).toBe('a');
  });

  it('waits for the human after a handoff to the user, naming who handed off', () => {
    const h = started(spec({ type: 'swarm', agents: [{ name: 'a', handoffs: ['user'] }, { name: 'b' }] }));
    h.post('m1', 'Hi');
    const out = h.answer(null, [{ name: 'transfer_to_user', arguments: '{}' }]);
    expect(out).toEqual([
      expect.objectContaining({ type: 'ModelCallCompleted' }),
      {
        type: 'HandoffOccurred',
        data: {
          turnId: 't1',
          from: 'a',
          to: 'user',
          toolCallId: 't1.s1.m1.t0',
          message: 'Transferred to user, adopting the role of user immediately.',
        },
      },
      {
        type: 'AgentMessageEmitted',
        data: {
          messageId: 't1.s1.msg',
          turnId: 't1',
          agent: 'a',
          content: 'Transferred to user, adopting the role of user immediately.',
          messageType: 'handoff',
          target: 'user',
        },
      },
      { type: 'SessionAwaitingInput', data: { turnId: 't1', agent: 'a', reason: 'handoff' } },
    ]);
  });

  it('hands off to the target of the handoff called, not the first one declared', () => {
    const h = started(
      spec({ type: 'swarm', agents: [{ name: 'a', handoffs: ['b', 'c'] }, { name: 'b' }, { name: 'c' }] }),
    );
    h.post('m1', 'Hi');
    const out = h.answer(null, [{ name: 'transfer_to_c', arguments: '{}' }]);
    expect(out[1]).toMatchObject({ type: 'HandoffOccurred', data: { from: 'a', to: 'c' } });
    expect(out.at(-2)).toMatchObject({ type: 'SpeakerSelected', data: { agent: 'c', method: 'swarm' } });
  });

  it('hands off even when the handoff is not the first tool called, after the other tools ran', () => {
    const h = started(
      spec({ type: 'swarm', agents: [{ name: 'a', tools: ['calculator'], handoffs: ['b'] }, { name: 'b' }] }),
    );
    h.post('m1', 'Hi');
    h.answer(null, [
      { name: 'calculator', arguments: '{}' },
      { name: 'transfer_to_b', arguments: '{}' },
    ]);
    const out = h.toolResult('t1.s1.m1.t0', '3');
    expect(out[1]).toMatchObject({
      type: 'HandoffOccurred',
      data: { from: 'a', to: 'b', toolCallId: 't1.s1.m1.t1' },
    });
  });

  it('asks the human for a user proxy, naming it', () => {
    const h = started(
      spec({ type: 'round_robin', agents: [{ kind: 'user_proxy', name: 'human' }, { name: 'a' }] }),
    );
    expect(h.post('m1', 'Hi').at(-1)).toEqual({
      type: 'SessionAwaitingInput',
      data: { turnId: 't1', agent: 'human', reason: 'user_proxy' },
    });
  });
});

describe('the selector', () => {
  const model = { provider: 'openai', endpoint: 'main', model: 'gpt-sel' } as const;

  it('picks the only candidate without a model call', () => {
    const h = started(spec({ type: 'selector', agents: [{ name: 'x' }, { name: 'y' }], maxTurns: 3 }));
    h.post('m1', 'task');
    h.answer('x');
    const out = h.answer('from x');
    expect(out.at(-2)).toEqual({
      type: 'SpeakerSelected',
      data: { turnId: 't1', step: 2, agent: 'y', method: 'only_candidate' },
    });
  });

  it("calls the selector's model, with ids, iteration and context derived from the turn", () => {
    const team = spec({
      type: 'selector',
      agents: [{ name: 'x' }, { name: 'y' }, { name: 'z' }],
      selector: { model },
    });
    const h = started(team);
    const out = h.post('m1', 'task');
    expect(out.at(-1)).toEqual({
      type: 'ModelCallRequested',
      data: {
        callId: 't1.s1.sel1',
        turnId: 't1',
        step: 1,
        agent: 'selector',
        purpose: 'select_speaker',
        iteration: 1,
        contextLength: 1,
        contextHash: expect.any(String) as string,
        endpoint: 'main',
        model: 'gpt-sel',
      },
    });
    expectDerivedContextHash(h.state());
    h.answer('nobody');
    expect(h.state().modelCalls['t1.s1.sel2']).toMatchObject({ iteration: 2, step: 1 });
    expectDerivedContextHash(h.state());
  });

  it("without a selector model, calls the first assistant's (a user proxy has none)", () => {
    const team = spec({
      type: 'selector',
      agents: [{ kind: 'user_proxy', name: 'human' }, { name: 'x', model }, { name: 'y' }],
    });
    const h = started(team);
    expect(h.post('m1', 'task').at(-1)).toMatchObject({
      type: 'ModelCallRequested',
      data: { agent: 'selector', endpoint: 'main', model: 'gpt-sel' },
    });
  });

  it('selects on a later step with the earlier steps in its context', () => {
    const team = spec({
      type: 'selector',
      agents: [{ name: 'x' }, { name: 'y' }, { name: 'z' }],
      maxTurns: 3,
    });
    const h = started(team);
    h.post('m1', 'task');
    h.answer('x');
    h.answer('from x');
    expect(h.state().turn?.stepCalls).toEqual(['t1.s2.sel1']);
    expectDerivedContextHash(h.state());
  });

  it('tries three times by default, then falls back', () => {
    const h = started(spec({ type: 'selector', agents: [{ name: 'x' }, { name: 'y' }, { name: 'z' }] }));
    h.post('m1', 'task');
    expect(types(h.answer('nobody'))).toEqual(['ModelCallCompleted', 'ModelCallRequested']);
    expect(types(h.answer('nobody'))).toEqual(['ModelCallCompleted', 'ModelCallRequested']);
    expect(h.answer('nobody')[1]).toMatchObject({
      type: 'SpeakerSelected',
      data: { agent: 'x', method: 'selector_fallback', step: 1 },
    });
  });

  it('a pick without text names no one: the selector is asked again', () => {
    // `here` is a candidate: only the answer's own text may name it, never a stand-in for no text.
    const h = started(spec({ type: 'selector', agents: [{ name: 'x' }, { name: 'here' }, { name: 'z' }] }));
    h.post('m1', 'task');
    expect(types(h.answer(null))).toEqual(['ModelCallCompleted', 'ModelCallRequested']);
    expect(h.state().turn).toMatchObject({
      phase: 'selecting',
      speaker: null,
      stepCalls: ['t1.s1.sel1', 't1.s1.sel2'],
    });
  });

  it('a pick naming two candidates is no pick: the selector is asked again', () => {
    const h = started(spec({ type: 'selector', agents: [{ name: 'x' }, { name: 'y' }, { name: 'z' }] }));
    h.post('m1', 'task');
    expect(types(h.answer('y or z'))).toEqual(['ModelCallCompleted', 'ModelCallRequested']);
    expect(h.state().turn?.stepCalls).toEqual(['t1.s1.sel1', 't1.s1.sel2']);
  });

  it('falls back to the first candidate, not the previous speaker, when repeats are not allowed', () => {
    const team = spec({
      type: 'selector',
      agents: [{ name: 'x' }, { name: 'y' }, { name: 'z' }],
      selector: { maxSelectorAttempts: 1 },
      maxTurns: 3,
    });
    const h = started(team);
    h.post('m1', 'task');
    h.answer('x');
    h.answer('from x');
    expect(h.answer('nobody')[1]).toEqual({
      type: 'SpeakerSelected',
      data: { turnId: 't1', step: 2, agent: 'y', method: 'selector_fallback' },
    });
  });

  it('falls back to the previous speaker when repeats are allowed', () => {
    const team = spec({
      type: 'selector',
      agents: [{ name: 'x' }, { name: 'y' }, { name: 'z' }],
      selector: { allowRepeatedSpeaker: true, maxSelectorAttempts: 1 },
      maxTurns: 3,
    });
    const h = started(team);
    h.post('m1', 'task');
    h.answer('y');
    h.answer('from y');
    expect(h.answer('nobody')[1]).toEqual({
      type: 'SpeakerSelected',
      data: { turnId: 't1', step: 2, agent: 'y', method: 'selector_fallback' },
    });
  });

  it('stops instead of retrying once the turn is over its token budget', () => {
    const team = spec({
      type: 'selector',
      agents: [{ name: 'x' }, { name: 'y' }, { name: 'z' }],
      limits: { maxParallelToolCalls: 4, maxTokens: 15 },
    });
    const h = started(team);
    h.post('m1', 'task');
    const out = h.answer('nobody');
    expect(types(out)).toEqual(['ModelCallCompleted', 'TurnCompleted']);
    expect(out[1]).toMatchObject({
      data: { reason: expect.stringContaining('Token usage limit reached') as string },
    });
  });

  it('a clear pick wins even over the token budget', () => {
    const team = spec({
      type: 'selector',
      agents: [{ name: 'x' }, { name: 'y' }, { name: 'z' }],
      limits: { maxParallelToolCalls: 4, maxTokens: 15 },
    });
    const h = started(team);
    h.post('m1', 'task');
    expect(h.answer('y')[1]).toMatchObject({
      type: 'SpeakerSelected',
      data: { agent: 'y', method: 'selector' },
    });
  });
});

describe('a speaker at work', () => {
  it('fails the turn with the failed call and its error', () => {
    const h = started(spec({ type: 'single', agents: [{ name: 'a' }] }));
    h.post('m1', 'Hi');
    expect(h.failModel('quota', false)[1]).toEqual({
      type: 'TurnFailed',
      data: {
        turnId: 't1',
        reason: 'model call t1.s1.m1 failed: quota',
        error: { type: 'server_error', message: 'quota', retryable: false },
        at: T0,
      },
    });
  });

  it('requests the agent call with its endpoint, model, ids and derived context', () => {
    const team = spec({
      type: 'single',
      agents: [{ name: 'a', model: { provider: 'openai', model: 'gpt-a' }, tools: ['calculator'] }],
    });
    const h = started(team);
    expect(h.post('m1', 'Hi').at(-1)).toEqual({
      type: 'ModelCallRequested',
      data: {
        callId: 't1.s1.m1',
        turnId: 't1',
        step: 1,
        agent: 'a',
        purpose: 'agent',
        iteration: 1,
        contextLength: 1,
        contextHash: expect.any(String) as string,
        endpoint: 'default',
        model: 'gpt-a',
      },
    });
    expectDerivedContextHash(h.state());
  });

  it('records no endpoint or model for the call of an agent on the scripted provider', () => {
    const team = spec({
      type: 'single',
      agents: [{ name: 'a', model: { provider: 'scripted', model: 'scripted' } }],
    });
    const requested = started(team)
      .post('m1', 'Hi')
      .find((e) => e.type === 'ModelCallRequested');
    expect(requested?.data).not.toHaveProperty('endpoint');
    expect(requested?.data).not.toHaveProperty('model');
    expect(requested?.data).toMatchObject({ agent: 'a', purpose: 'agent' });
  });

  it('a single agent speaks as the single speaker', () => {
    const h = started(spec({ type: 'single', agents: [{ name: 'a' }] }));
    expect(h.post('m1', 'Hi')[2]).toEqual({
      type: 'SpeakerSelected',
      data: { turnId: 't1', step: 1, agent: 'a', method: 'single' },
    });
  });

  it("emits the agent's text with the step's message id", () => {
    const h = started(spec({ type: 'single', agents: [{ name: 'a' }] }));
    h.post('m1', 'Hi');
    const out = h.answer('Hello');
    expect(out[1]).toEqual({
      type: 'AgentMessageEmitted',
      data: { messageId: 't1.s1.msg', turnId: 't1', agent: 'a', content: 'Hello', messageType: 'text' },
    });
    expect(out[1]!.data).not.toHaveProperty('target');
  });

  it('a reply without content is an empty text message', () => {
    const h = started(spec({ type: 'single', agents: [{ name: 'a' }] }));
    h.post('m1', 'Hi');
    expect(h.answer(null)[1]).toMatchObject({
      type: 'AgentMessageEmitted',
      data: { content: '', messageType: 'text' },
    });
  });

  it('a reflection is the final text even when the model asks for tools again', () => {
    const team = spec({
      type: 'single',
      agents: [{ name: 'a', tools: ['calculator'], reflectOnToolUse: true }],
    });
    const h = started(team);
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'calculator', arguments: '{}' }]);
    expect(types(h.toolResult('t1.s1.m1.t0', '3'))).toEqual(['ToolCallCompleted', 'ModelCallRequested']);
    expect(h.state().modelCalls['t1.s1.reflect']).toMatchObject({ purpose: 'reflection', iteration: 1 });
    expectDerivedContextHash(h.state());
    const out = h.answer('It is 3', [{ name: 'calculator', arguments: '{}' }]);
    expect(out[1]).toMatchObject({
      type: 'AgentMessageEmitted',
      data: { content: 'It is 3', messageType: 'text' },
    });
  });

  it('the next tool iteration has its own id and the results in its context', () => {
    const team = spec({
      type: 'single',
      agents: [{ name: 'a', tools: ['calculator'], maxToolIterations: 2 }],
    });
    const h = started(team);
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'calculator', arguments: '{}' }]);
    expect(h.toolResult('t1.s1.m1.t0', '3')[1]).toMatchObject({
      type: 'ModelCallRequested',
      data: { callId: 't1.s1.m2', iteration: 2, purpose: 'agent', contextLength: 2 },
    });
    expectDerivedContextHash(h.state());
  });

  it('stops before the next tool iteration once the turn is over its token budget', () => {
    const team = spec({
      type: 'single',
      agents: [{ name: 'a', tools: ['calculator'], maxToolIterations: 2 }],
      limits: { maxParallelToolCalls: 4, maxTokens: 15 },
    });
    const h = started(team);
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'calculator', arguments: '{}' }]);
    expect(types(h.toolResult('t1.s1.m1.t0', '3'))).toEqual(['ToolCallCompleted', 'TurnCompleted']);
  });

  it('summarises the tool results through the format, one line each, errors marked', () => {
    const team = spec({
      type: 'single',
      agents: [
        {
          name: 'a',
          tools: ['calculator'],
          toolCallSummaryFormat: '{tool_name}({arguments}) = {result} [{is_error}] {other}',
        },
      ],
    });
    const h = started(team);
    h.post('m1', 'Hi');
    h.answer(null, [
      { name: 'calculator', arguments: '{"a":1}' },
      { name: 'nope', arguments: '{}' },
    ]);
    const out = h.toolResult('t1.s1.m1.t0', '1');
    expect(out[1]).toEqual({
      type: 'AgentMessageEmitted',
      data: {
        messageId: 't1.s1.msg',
        turnId: 't1',
        agent: 'a',
        content: [
          'calculator({"a":1}) = 1 [false] {other}',
          "nope({}) = Error: tool 'nope' is not available to a [true] {other}",
        ].join('\n'),
        messageType: 'tool_call_summary',
      },
    });
  });
});

describe('a magentic_one turn', () => {
  const ledger = (say: string): string =>
    JSON.stringify({
      is_request_satisfied: { reason: 'not yet', answer: false },
      is_in_loop: { reason: 'r', answer: false },
      is_progress_being_made: { reason: 'r', answer: true },
      next_speaker: { reason: 'r', answer: 'researcher' },
      instruction_or_question: { reason: 'r', answer: say },
    });

  it("stops on a participant's text mention, never on the orchestrator's own", () => {
    const team = spec({
      type: 'magentic_one',
      agents: [{ name: 'researcher' }, { name: 'writer' }],
      termination: { kind: 'text_mention', text: 'FOUND' },
    });
    const h = started(team);
    h.post('m1', 'Look it up');
    h.answer('facts');
    h.answer('plan');
    h.answer(ledger('Say FOUND once you have it'));
    expect(h.state().turn?.speaker).toBe('researcher');
    expect(types(h.answer('not yet'))).toEqual([
      'ModelCallCompleted',
      'AgentMessageEmitted',
      'ModelCallRequested',
    ]);
    h.answer(ledger('Keep looking'));
    const out = h.answer('FOUND it');
    expect(out.at(-1)).toEqual({
      type: 'TurnCompleted',
      data: { turnId: 't1', reason: "Text 'FOUND' mentioned", at: T0 },
    });
  });
});
