import { describe, expect, it } from 'vitest';
import { spec } from '../../testing/session-harness.ts';
import type { ThreadItem } from '../session/session.state.ts';
import type { AssistantAgentSpec } from '../spec/team-spec.ts';
import { buildAgentContext, mentionedAgents, renderSelectorPrompt } from './model-context.ts';

const agent = (modelContext?: unknown): AssistantAgentSpec =>
  spec({
    type: 'single',
    agents: [{ name: 'me', systemMessage: 'sys', ...(modelContext ? { modelContext } : {}) } as never],
  }).agents[0] as AssistantAgentSpec;

const thread: ThreadItem[] = [
  { kind: 'message', id: '1', source: 'user', content: 'task', messageType: 'text' },
  {
    kind: 'tool_exchange',
    agent: 'me',
    callId: 'c',
    content: null,
    toolCalls: [{ id: 'c.t0', name: 'calculator', arguments: '{}' }],
    results: [{ toolCallId: 'c.t0', content: '3' }],
  },
  { kind: 'message', id: '2', source: 'me', content: '3', messageType: 'tool_call_summary' },
  {
    kind: 'tool_exchange',
    agent: 'other',
    callId: 'd',
    content: null,
    toolCalls: [{ id: 'd.t0', name: 'x', arguments: '{}' }],
    results: [{ toolCallId: 'd.t0', content: 'hidden' }],
  },
  { kind: 'message', id: '3', source: 'other', content: 'hello', messageType: 'text' },
];

describe('buildAgentContext', () => {
  it("shows others' messages as named user messages and only the agent's own tool exchanges", () => {
    expect(buildAgentContext(thread, agent(), thread.length)).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'task' },
      { role: 'assistant', content: null, toolCalls: [{ id: 'c.t0', name: 'calculator', arguments: '{}' }] },
      { role: 'tool', toolCallId: 'c.t0', content: '3' },
      { role: 'assistant', content: '3' },
      { role: 'user', content: 'hello', name: 'other' },
    ]);
    expect(buildAgentContext(thread, agent(), 1)).toHaveLength(2);
  });

  it('keeps the last N (buffered) without an orphaned tool result', () => {
    expect(buildAgentContext(thread, agent({ kind: 'buffered', bufferSize: 3 }), thread.length)).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'assistant', content: '3' },
      { role: 'user', content: 'hello', name: 'other' },
    ]);
  });

  it('keeps head and tail with a note of what was skipped', () => {
    expect(
      buildAgentContext(thread, agent({ kind: 'head_and_tail', headSize: 1, tailSize: 2 }), thread.length),
    ).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'task' },
      { role: 'user', content: 'Skipped 2 messages.' },
      { role: 'assistant', content: '3' },
      { role: 'user', content: 'hello', name: 'other' },
    ]);
  });
});

describe('selector prompt', () => {
  it('fills {roles}, {participants} and {history}', () => {
    const team = spec({
      type: 'selector',
      agents: [
        { name: 'a', description: 'A' },
        { name: 'b', description: 'B' },
      ],
    });
    expect(renderSelectorPrompt('{roles}|{participants}|{history}', team.agents, thread, thread.length)).toBe(
      "a: A\nb: B|['a', 'b']|user: task\n\nme: 3\n\nother: hello",
    );
  });

  it('finds mentioned agents as AutoGen does', () => {
    expect(mentionedAgents('I pick web_surfer.', ['web_surfer', 'critic'])).toEqual(['web_surfer']);
    expect(mentionedAgents('web surfer', ['web_surfer'])).toEqual(['web_surfer']);
    expect(mentionedAgents('critical', ['critic'])).toEqual([]);
    expect(mentionedAgents('critic or web_surfer', ['web_surfer', 'critic'])).toEqual([
      'web_surfer',
      'critic',
    ]);
  });
});
