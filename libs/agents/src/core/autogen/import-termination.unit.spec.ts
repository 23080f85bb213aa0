import { describe, expect, it } from 'vitest';
import { ImportContext } from './import-context.ts';
import { importTermination } from './import-termination.ts';

const cond = (name: string, config: Record<string, unknown> = {}) => ({
  provider: `autogen_agentchat.conditions.${name}`,
  config,
});
const both = (name: 'Or' | 'And', conditions: unknown) => ({
  provider: `autogen_agentchat.base.${name}TerminationCondition`,
  config: { conditions },
});
/** The imported policy and the issues the import collected. */
const imported = (value: unknown) => {
  const ctx = new ImportContext({ toolNames: [] });
  return { policy: importTermination(ctx, value, '$.t'), issues: ctx.issues };
};
const policy = (value: unknown) => imported(value).policy;

describe('importTermination, defaults and exact shapes', () => {
  it("takes AutoGen's defaults when a setting is absent or not of its type", () => {
    expect(policy(cond('MaxMessageTermination'))).toStrictEqual({ kind: 'max_messages', limit: 10 });
    expect(policy(cond('MaxMessageTermination', { max_messages: '5' }))).toStrictEqual({
      kind: 'max_messages',
      limit: 10,
    });
    expect(policy(cond('TextMentionTermination'))).toStrictEqual({ kind: 'text_mention', text: 'TERMINATE' });
    expect(policy(cond('TimeoutTermination'))).toStrictEqual({ kind: 'timeout', seconds: 60 });
    expect(policy(cond('HandoffTermination'))).toStrictEqual({ kind: 'handoff', target: 'user' });
    expect(policy(cond('SourceMatchTermination'))).toStrictEqual({ kind: 'source_match', sources: [] });
    expect(policy(cond('TextMessageTermination', { source: 3 }))).toStrictEqual({ kind: 'text_message' });
    expect(policy(cond('FunctionCallTermination'))).toStrictEqual({
      kind: 'function_call',
      functionName: '',
    });
  });

  it('a handoff termination keeps the target it names', () => {
    expect(policy(cond('HandoffTermination', { target: 'billing' }))).toStrictEqual({
      kind: 'handoff',
      target: 'billing',
    });
  });

  it('keeps text mention sources only when every one is a name', () => {
    expect(policy(cond('TextMentionTermination', { text: 'DONE', sources: ['a', 'b'] }))).toStrictEqual({
      kind: 'text_mention',
      text: 'DONE',
      sources: ['a', 'b'],
    });
    expect(policy(cond('TextMentionTermination', { sources: ['a', 1] }))).toStrictEqual({
      kind: 'text_mention',
      text: 'TERMINATE',
    });
    expect(policy(cond('SourceMatchTermination', { sources: 'a' }))).toStrictEqual({
      kind: 'source_match',
      sources: [],
    });
  });

  it('maps each token budget it is given, and none it is not', () => {
    expect(
      policy(
        cond('TokenUsageTermination', {
          max_total_token: 100,
          max_prompt_token: 60,
          max_completion_token: 40,
        }),
      ),
    ).toStrictEqual({ kind: 'token_budget', maxTokens: 100, maxPromptTokens: 60, maxCompletionTokens: 40 });
    expect(policy(cond('TokenUsageTermination', { max_prompt_token: 60 }))).toStrictEqual({
      kind: 'token_budget',
      maxPromptTokens: 60,
    });
    expect(policy(cond('TokenUsageTermination', { max_completion_token: 40 }))).toStrictEqual({
      kind: 'token_budget',
      maxCompletionTokens: 40,
    });
  });

  it('Or is any_of and And all_of; an empty or partly unknown combination is no policy', () => {
    expect(policy(both('And', [cond('StopMessageTermination'), cond('ExternalTermination')]))).toStrictEqual({
      kind: 'all_of',
      conditions: [{ kind: 'stop_message' }, { kind: 'external' }],
    });
    expect(policy(both('Or', [cond('StopMessageTermination')]))).toStrictEqual({
      kind: 'any_of',
      conditions: [{ kind: 'stop_message' }],
    });
    expect(imported(both('Or', []))).toStrictEqual({ policy: undefined, issues: [] });
    expect(imported(both('Or', 'x'))).toStrictEqual({ policy: undefined, issues: [] });
    expect(imported(both('Or', [cond('StopMessageTermination'), cond('Nope')]))).toStrictEqual({
      policy: undefined,
      issues: [
        {
          path: '$.t.config.conditions[1]',
          provider: 'autogen_agentchat.conditions.Nope',
          message: 'this termination condition cannot run here',
        },
      ],
    });
  });

  it('refuses include_agent_event: true, and only true', () => {
    expect(imported(cond('MaxMessageTermination', { include_agent_event: true }))).toStrictEqual({
      policy: undefined,
      issues: [
        {
          path: '$.t.config.include_agent_event',
          provider: 'autogen_agentchat.conditions.MaxMessageTermination',
          message:
            'include_agent_event: true is not supported (only chat messages are counted); remove it or set it to false',
        },
      ],
    });
    expect(policy(cond('MaxMessageTermination', { include_agent_event: 'true' }))).toStrictEqual({
      kind: 'max_messages',
      limit: 10,
    });
  });

  it('something that is not a component is refused at its path', () => {
    expect(imported('TERMINATE').issues).toStrictEqual([
      {
        path: '$.t',
        provider: '(none)',
        message: 'expected an AutoGen component with "provider" and "config"',
      },
    ]);
  });
});
