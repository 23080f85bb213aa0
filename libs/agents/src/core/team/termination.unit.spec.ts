import { describe, expect, it } from 'vitest';
import type { SessionMessage } from '../session/session.state.ts';
import type { TerminationPolicy } from '../spec/termination.schema.ts';
import { spec } from '../../testing/session-harness.ts';
import { effectiveTermination, terminationReason, type TurnView } from './termination.ts';

const msg = (source: string, content: string, extra: Partial<SessionMessage> = {}): SessionMessage => ({
  id: `${source}-${content}`,
  version: 1,
  source,
  role: source === 'user' ? 'user' : 'assistant',
  content,
  messageType: 'text',
  turnId: 't1',
  ...extra,
});

const view = (over: Partial<TurnView> = {}): TurnView => ({
  messages: [msg('user', 'task'), msg('a', 'working')],
  messageCount: 2,
  usage: { promptTokens: 0, completionTokens: 0 },
  startedAt: '2026-01-01T00:00:00.000Z',
  now: new Date('2026-01-01T00:00:10.000Z'),
  functionCalls: [],
  ...over,
});

const cases: [string, TerminationPolicy, TurnView, string | null][] = [
  ['max messages not reached', { kind: 'max_messages', limit: 3 }, view(), null],
  [
    'max messages reached',
    { kind: 'max_messages', limit: 2 },
    view(),
    'Maximum number of messages 2 reached, current message count: 2',
  ],
  [
    'text mention',
    { kind: 'text_mention', text: 'TERMINATE' },
    view({ messages: [msg('a', 'ok TERMINATE')] }),
    "Text 'TERMINATE' mentioned",
  ],
  [
    'text mention from another source',
    { kind: 'text_mention', text: 'X', sources: ['b'] },
    view({ messages: [msg('a', 'X')] }),
    null,
  ],
  [
    'token budget total',
    { kind: 'token_budget', maxTokens: 10 },
    view({ usage: { promptTokens: 6, completionTokens: 4 } }),
    'Token usage limit reached, total token count: 10, prompt token count: 6, completion token count: 4.',
  ],
  [
    'token budget prompt',
    { kind: 'token_budget', maxPromptTokens: 5 },
    view({ usage: { promptTokens: 4, completionTokens: 40 } }),
    null,
  ],
  [
    'token budget total not reached',
    { kind: 'token_budget', maxTokens: 10 },
    view({ usage: { promptTokens: 6, completionTokens: 3 } }),
    null,
  ],
  [
    'token budget completion not reached',
    { kind: 'token_budget', maxCompletionTokens: 5 },
    view({ usage: { promptTokens: 40, completionTokens: 4 } }),
    null,
  ],
  [
    'token budget prompt reached',
    { kind: 'token_budget', maxPromptTokens: 5 },
    view({ usage: { promptTokens: 5, completionTokens: 0 } }),
    'Token usage limit reached, total token count: 5, prompt token count: 5, completion token count: 0.',
  ],
  [
    'text mention from a listed source',
    { kind: 'text_mention', text: 'X', sources: ['b'] },
    view({ messages: [msg('a', 'X'), msg('b', 'say X')] }),
    "Text 'X' mentioned",
  ],
  [
    'token budget completion',
    { kind: 'token_budget', maxCompletionTokens: 5 },
    view({ usage: { promptTokens: 0, completionTokens: 5 } }),
    'Token usage limit reached, total token count: 5, prompt token count: 0, completion token count: 5.',
  ],
  ['timeout not reached', { kind: 'timeout', seconds: 11 }, view(), null],
  ['timeout reached', { kind: 'timeout', seconds: 10 }, view(), 'Timeout of 10 seconds reached'],
  [
    'handoff',
    { kind: 'handoff', target: 'user' },
    view({ messages: [msg('a', 'bye', { messageType: 'handoff', target: 'user' })] }),
    'Handoff to user from a detected.',
  ],
  [
    'handoff elsewhere',
    { kind: 'handoff', target: 'user' },
    view({ messages: [msg('a', 'bye', { messageType: 'handoff', target: 'b' })] }),
    null,
  ],
  [
    'a target on a message that is not a handoff',
    { kind: 'handoff', target: 'user' },
    view({ messages: [msg('a', 'bye', { target: 'user' })] }),
    null,
  ],
  ['external never fires on messages', { kind: 'external' }, view(), null],
  ['source match', { kind: 'source_match', sources: ['a'] }, view(), "'a' answered"],
  ['source match ignores the user', { kind: 'source_match', sources: ['user'] }, view(), null],
  [
    'stop message',
    { kind: 'stop_message' },
    view({ messages: [msg('a', 'stop', { messageType: 'stop' })] }),
    'Stop message received',
  ],
  [
    'stop message among others',
    { kind: 'stop_message' },
    view({ messages: [msg('a', 'working'), msg('a', 'stop', { messageType: 'stop' })] }),
    'Stop message received',
  ],
  ['no stop message', { kind: 'stop_message' }, view(), null],
  ['text message', { kind: 'text_message', source: 'a' }, view(), "Text message received from 'a'"],
  [
    'text message from any agent, not the user',
    { kind: 'text_message' },
    view(),
    "Text message received from 'a'",
  ],
  ['text message from another source', { kind: 'text_message', source: 'b' }, view(), null],
  [
    'text message: a summary is not text',
    { kind: 'text_message' },
    view({ messages: [msg('a', '3', { messageType: 'tool_call_summary' })] }),
    null,
  ],
  [
    'function call',
    { kind: 'function_call', functionName: 'calculator' },
    view({ functionCalls: ['calculator'] }),
    "Function 'calculator' was executed.",
  ],
  [
    'function not called',
    { kind: 'function_call', functionName: 'calculator' },
    view({ functionCalls: ['search'] }),
    null,
  ],
  [
    'any_of',
    {
      kind: 'any_of',
      conditions: [
        { kind: 'max_messages', limit: 9 },
        { kind: 'source_match', sources: ['a'] },
      ],
    },
    view(),
    "'a' answered",
  ],
  [
    'all_of waits for every member',
    {
      kind: 'all_of',
      conditions: [
        { kind: 'max_messages', limit: 9 },
        { kind: 'source_match', sources: ['a'] },
      ],
    },
    view(),
    null,
  ],
  [
    'all_of',
    {
      kind: 'all_of',
      conditions: [
        { kind: 'max_messages', limit: 2 },
        { kind: 'source_match', sources: ['a'] },
      ],
    },
    view(),
    "Maximum number of messages 2 reached, current message count: 2; 'a' answered",
  ],
];

describe('terminationReason', () => {
  it.each(cases)('%s', (_, policy, turn, expected) => expect(terminationReason(policy, turn)).toBe(expected));
});

describe('effectiveTermination', () => {
  it('adds the hard limits to the team condition', () => {
    const team = spec({
      type: 'single',
      agents: [{ name: 'a' }],
      termination: { kind: 'text_mention', text: 'T' },
      limits: { maxParallelToolCalls: 1, maxTokens: 100, turnTimeoutSeconds: 30 },
    });
    expect(effectiveTermination(team)).toEqual({
      kind: 'any_of',
      conditions: [
        { kind: 'text_mention', text: 'T' },
        { kind: 'token_budget', maxTokens: 100 },
        { kind: 'timeout', seconds: 30 },
      ],
    });
    expect(effectiveTermination(spec({ type: 'single', agents: [{ name: 'a' }] }))).toBeNull();
  });

  it('is the single condition itself when there is only one', () => {
    const condition = { kind: 'text_mention', text: 'T' } as const;
    expect(
      effectiveTermination(spec({ type: 'single', agents: [{ name: 'a' }], termination: condition })),
    ).toEqual(condition);
    const limitsOnly = spec({
      type: 'single',
      agents: [{ name: 'a' }],
      limits: { maxParallelToolCalls: 1, turnTimeoutSeconds: 30 },
    });
    expect(effectiveTermination(limitsOnly)).toEqual({ kind: 'timeout', seconds: 30 });
  });
});
