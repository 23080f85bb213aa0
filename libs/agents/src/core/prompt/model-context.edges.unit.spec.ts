import { describe, expect, it } from 'vitest';
import { sessionHarness, spec } from '../../testing/session-harness.ts';
import { initialSession, type ModelCallState, type ThreadItem } from '../session/session.state.ts';
import { DEFAULT_SELECTOR_PROMPT, type AssistantAgentSpec } from '../spec/team-spec.ts';
import {
  buildAgentContext,
  buildSelectorContext,
  contextForCall,
  contextHashOf,
  handoffToolSchemas,
  isOrchestratorCall,
  mentionedAgents,
  offeredToolNames,
  renderSelectorPrompt,
  selectorCandidates,
  selectorFeedback,
} from './model-context.ts';

const assistant = (fields: Record<string, unknown> = {}): AssistantAgentSpec =>
  spec({ type: 'single', agents: [{ name: 'me', systemMessage: 'sys', ...fields } as never] })
    .agents[0] as AssistantAgentSpec;

const message = (id: string, source: string, content: string): ThreadItem => ({
  kind: 'message',
  id,
  source,
  content,
  messageType: 'text',
});
const exchange = (callId: string, results: number): ThreadItem => ({
  kind: 'tool_exchange',
  agent: 'me',
  callId,
  content: `calling ${callId}`,
  toolCalls: Array.from({ length: results }, (_, i) => ({
    id: `${callId}.t${i}`,
    name: 'calc',
    arguments: '{}',
  })),
  results: Array.from({ length: results }, (_, i) => ({ toolCallId: `${callId}.t${i}`, content: `r${i}` })),
});

describe('buildAgentContext, the edges', () => {
  it('reads only the first contextLength items', () => {
    const thread = [message('1', 'user', 'a'), message('2', 'me', 'b'), message('3', 'user', 'c')];
    expect(buildAgentContext(thread, assistant(), 2)).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'b' },
    ]);
  });

  it('buffered: drops every leading tool result whose call was cut off', () => {
    const thread = [message('1', 'user', 'task'), exchange('c', 2), message('2', 'me', 'done')];
    const context = buildAgentContext(
      thread,
      assistant({ modelContext: { kind: 'buffered', bufferSize: 2 } }),
      3,
    );
    expect(context).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'assistant', content: 'done' },
    ]);
  });

  it.each([
    { bufferSize: 2, kept: ['d', 'e'] },
    { bufferSize: 5, kept: ['a', 'b', 'c', 'd', 'e'] },
    { bufferSize: 9, kept: ['a', 'b', 'c', 'd', 'e'] },
  ])(
    'buffered: keeps the last $bufferSize messages, all of them when there are no more',
    ({ bufferSize, kept }) => {
      const thread = ['a', 'b', 'c', 'd', 'e'].map((content, i) => message(`${i}`, 'user', content));
      const context = buildAgentContext(
        thread,
        assistant({ modelContext: { kind: 'buffered', bufferSize } }),
        5,
      );
      expect(context.map((m) => m.content)).toEqual(['sys', ...kept]);
    },
  );

  it('head_and_tail: everything when head and tail cover it all', () => {
    const thread = [message('1', 'user', 'a'), message('2', 'me', 'b'), message('3', 'user', 'c')];
    const context = buildAgentContext(
      thread,
      assistant({ modelContext: { kind: 'head_and_tail', headSize: 1, tailSize: 2 } }),
      3,
    );
    expect(context.map((m) => m.content)).toEqual(['sys', 'a', 'b', 'c']);
  });

  it('head_and_tail: the head never ends on a tool call, the tail never starts on its results', () => {
    const thread = [
      message('1', 'user', 'task'),
      exchange('c', 2),
      exchange('d', 1),
      message('2', 'me', 'done'),
    ];
    // body: task, call c, c.t0, c.t1, call d, d.t0, done
    const context = buildAgentContext(
      thread,
      assistant({ modelContext: { kind: 'head_and_tail', headSize: 2, tailSize: 2 } }),
      4,
    );
    expect(context).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'task' },
      { role: 'user', content: 'Skipped 5 messages.' },
      { role: 'assistant', content: 'done' },
    ]);
  });

  it('head_and_tail: only the tool call that ends the head is cut, not what comes before it', () => {
    const thread = [
      message('1', 'user', 'task'),
      message('2', 'other', 'more'),
      exchange('c', 1),
      message('3', 'me', 'done'),
      message('4', 'user', 'next'),
    ];
    // body: task, more, call c, c.t0, done, next
    const context = buildAgentContext(
      thread,
      assistant({ modelContext: { kind: 'head_and_tail', headSize: 3, tailSize: 1 } }),
      5,
    );
    expect(context).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'task' },
      { role: 'user', content: 'more', name: 'other' },
      { role: 'user', content: 'Skipped 3 messages.' },
      { role: 'user', content: 'next' },
    ]);
  });

  it('head_and_tail: a head of 0 keeps only the note and the tail', () => {
    const thread = [message('1', 'user', 'a'), message('2', 'me', 'b'), message('3', 'user', 'c')];
    const context = buildAgentContext(
      thread,
      assistant({ modelContext: { kind: 'head_and_tail', headSize: 0, tailSize: 1 } }),
      3,
    );
    expect(context.map((m) => m.content)).toEqual(['sys', 'Skipped 2 messages.', 'c']);
  });

  it('head_and_tail: an assistant message without tool calls may end the head', () => {
    const thread = [
      message('1', 'me', 'hi'),
      message('2', 'user', 'a'),
      message('3', 'user', 'b'),
      message('4', 'user', 'c'),
    ];
    const context = buildAgentContext(
      thread,
      assistant({ modelContext: { kind: 'head_and_tail', headSize: 1, tailSize: 1 } }),
      4,
    );
    expect(context.map((m) => m.content)).toEqual(['sys', 'hi', 'Skipped 2 messages.', 'c']);
  });
});

describe('tools offered', () => {
  const agent = assistant({
    tools: ['calc'],
    handoffs: ['other'],
    mcpTools: [{ server: 's', name: 'lookup', description: '', inputSchema: {}, idempotent: true }],
  });

  it('an agent call offers its tools, its MCP tools and its handoffs; a reflection none', () => {
    expect(offeredToolNames(agent, 'agent')).toEqual(['calc', 'lookup', 'transfer_to_other']);
    expect(offeredToolNames(assistant({ tools: ['calc'] }), 'agent')).toEqual(['calc']);
    expect(offeredToolNames(agent, 'reflection')).toEqual([]);
  });

  it('a handoff is a function without parameters', () => {
    expect(handoffToolSchemas(agent)).toStrictEqual([
      {
        name: 'transfer_to_other',
        description: 'Handoff to other.',
        parameters: { type: 'object', properties: {}, additionalProperties: false },
      },
    ]);
  });

  it('the context hash covers the messages and the tool names', () => {
    const messages = [{ role: 'user', content: 'a' }] as const;
    expect(contextHashOf(messages, ['x'])).toMatch(/^sha256:/);
    expect(contextHashOf(messages, ['x'])).toBe(contextHashOf([{ role: 'user', content: 'a' }], ['x']));
    expect(contextHashOf(messages, ['x'])).not.toBe(contextHashOf(messages, []));
    expect(contextHashOf(messages, [])).not.toBe(contextHashOf([{ role: 'user', content: 'b' }], []));
  });
});

describe('the selector', () => {
  const team = spec({
    type: 'selector',
    agents: [
      { name: 'a', description: 'A ' },
      { name: 'b', description: '' },
    ],
  });
  const call = (iteration: number, fields: Partial<ModelCallState>): ModelCallState => ({
    callId: `s${iteration}`,
    turnId: 't',
    step: 0,
    agent: 'selector',
    purpose: 'select_speaker',
    iteration,
    contextLength: 1,
    contextHash: 'h',
    status: 'completed',
    ...fields,
  });

  it('renders roles trimmed, the history to contextLength with trailing blanks trimmed, placeholders repeated', () => {
    const thread = [message('1', 'user', 'task  '), exchange('c', 1), message('2', 'a', 'x')];
    expect(
      renderSelectorPrompt('{roles}/{participants}/{history}/{roles}/{other}', team.agents, thread, 2),
    ).toBe("a: A\nb:/['a', 'b']/user: task/a: A\nb:/{other}");
  });

  it('says why an answer was refused: no name, or more than one', () => {
    expect(selectorFeedback('nobody', ['a', 'b'])).toBe(
      "No valid name was mentioned. Please select from: ['a', 'b'].",
    );
    expect(selectorFeedback('a and b', ['a', 'b'])).toBe(
      "Expected exactly one name to be mentioned. Please select only one from: ['a', 'b'].",
    );
  });

  it('replays each earlier completed attempt and its feedback after the prompt', () => {
    const messages = buildSelectorContext(team, [message('1', 'user', 'task')], 1, team.agents, [
      call(0, { content: 'a and b' }),
      call(1, { status: 'failed' }),
      call(2, { content: null }),
    ]);
    expect(messages).toEqual([
      {
        role: 'system',
        content: renderSelectorPrompt(
          DEFAULT_SELECTOR_PROMPT,
          team.agents,
          [message('1', 'user', 'task')],
          1,
        ),
      },
      { role: 'assistant', content: 'a and b' },
      {
        role: 'user',
        content: "Expected exactly one name to be mentioned. Please select only one from: ['a', 'b'].",
      },
      { role: 'assistant', content: '' },
      { role: 'user', content: "No valid name was mentioned. Please select from: ['a', 'b']." },
    ]);
  });

  it("rebuilds a selection from this selection's earlier attempts only: same turn and step, lower iteration", () => {
    const thread = [message('1', 'user', 'task')];
    const now = call(2, { callId: 'now', content: 'own answer' });
    const modelCalls = Object.fromEntries(
      [
        call(0, { callId: 'first', content: 'nobody' }),
        call(0, { callId: 'other turn', turnId: 'u', content: 'other turn' }),
        call(0, { callId: 'other step', step: 1, content: 'other step' }),
        call(0, { callId: 'agent', agent: 'a', purpose: 'agent', content: 'agent reply' }),
        call(1, { callId: 'second', content: 'a and b' }),
        now,
        call(3, { callId: 'later', content: 'later' }),
      ].map((c) => [c.callId, c]),
    );
    const messages = contextForCall({ ...initialSession(), spec: team, thread, modelCalls }, now);
    expect(messages).toEqual([
      { role: 'system', content: renderSelectorPrompt(DEFAULT_SELECTOR_PROMPT, team.agents, thread, 1) },
      { role: 'assistant', content: 'nobody' },
      { role: 'user', content: "No valid name was mentioned. Please select from: ['a', 'b']." },
      { role: 'assistant', content: 'a and b' },
      {
        role: 'user',
        content: "Expected exactly one name to be mentioned. Please select only one from: ['a', 'b'].",
      },
    ]);
  });

  it("uses the team's own prompt when it has one", () => {
    const own = spec({ ...team, selector: { prompt: 'pick from {participants}' } });
    expect(buildSelectorContext(own, [], 0, own.agents, [])).toEqual([
      { role: 'system', content: "pick from ['a', 'b']" },
    ]);
  });

  it('candidates: all but the previous speaker, unless repeats are allowed or nobody else is left', () => {
    expect(selectorCandidates(team, 'a').map((a) => a.name)).toEqual(['b']);
    expect(selectorCandidates(team, null).map((a) => a.name)).toEqual(['a', 'b']);
    const repeats = spec({ ...team, selector: { allowRepeatedSpeaker: true } });
    expect(selectorCandidates(repeats, 'a').map((a) => a.name)).toEqual(['a', 'b']);
    const alone = spec({ type: 'selector', agents: [{ name: 'a' }] });
    expect(selectorCandidates(alone, 'a').map((a) => a.name)).toEqual(['a']);
  });

  it('only orchestrator purposes are orchestrator calls', () => {
    expect(
      ['agent', 'reflection', 'select_speaker'].map((purpose) => isOrchestratorCall({ purpose } as never)),
    ).toEqual([false, false, false]);
    expect(isOrchestratorCall({ purpose: 'progress_ledger' } as never)).toBe(true);
  });
});

describe('mentionedAgents, the edges', () => {
  it('matches a name with regex characters literally, and `_` written as `\\_`', () => {
    expect(mentionedAgents('ask a.b now', ['a.b', 'axb'])).toEqual(['a.b']);
    expect(mentionedAgents('ask axb now', ['a.b'])).toEqual([]);
    expect(mentionedAgents('web\\_surfer', ['web_surfer'])).toEqual(['web_surfer']);
    expect(mentionedAgents('web_surfer_2', ['web_surfer'])).toEqual([]);
    expect(mentionedAgents('critic', ['critic'])).toEqual(['critic']);
  });
});

describe('contextForCall, a Magentic-One participant', () => {
  it("rebuilds the call from the outer loop's thread as it was when requested, not as it grew since", () => {
    const h = sessionHarness(spec({ type: 'magentic_one', agents: [{ name: 'researcher' }] }));
    h.start();
    h.post('m1', 'Look it up');
    h.answer('facts');
    h.answer('plan');
    h.answer(
      JSON.stringify({
        is_request_satisfied: { reason: 'not yet', answer: false },
        is_in_loop: { reason: 'r', answer: false },
        is_progress_being_made: { reason: 'r', answer: true },
        next_speaker: { reason: 'r', answer: 'researcher' },
        instruction_or_question: { reason: 'r', answer: 'Go on' },
      }),
    );
    const callId = h.state().turn!.stepCalls.at(-1)!;
    const requested = contextForCall(h.state(), h.state().modelCalls[callId]!);
    h.answer('round 1');
    const later = h.state();
    expect(later.modelCalls[callId]?.status).toBe('completed');
    expect(later.thread.length).toBeGreaterThan(later.modelCalls[callId]!.contextLength);
    expect(contextForCall(later, later.modelCalls[callId]!)).toEqual(requested);
    expect(requested.map((m) => m.role)).toEqual(['system', 'user', 'user']);
    expect(requested.at(-1)).toEqual({ role: 'user', content: 'Go on', name: 'MagenticOneOrchestrator' });
  });
});
