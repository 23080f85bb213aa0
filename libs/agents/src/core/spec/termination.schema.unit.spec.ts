import { describe, expect, it } from 'vitest';
import { terminationPolicySchema } from './termination.schema.ts';

/** Each issue of the schema's refusal (none: it accepts the policy). */
const issues = (input: unknown) =>
  terminationPolicySchema.safeParse(input).error?.issues.map((i) => ({ path: i.path, message: i.message })) ??
  [];

describe('termination policy schema refinements', () => {
  it('max_messages: includeAgentEvents may be false or absent, never true', () => {
    expect(issues({ kind: 'max_messages', limit: 3 })).toStrictEqual([]);
    expect(issues({ kind: 'max_messages', limit: 3, includeAgentEvents: false })).toStrictEqual([]);
    expect(issues({ kind: 'max_messages', limit: 3, includeAgentEvents: true })).toStrictEqual([
      {
        path: ['includeAgentEvents'],
        message: 'includeAgentEvents: true is not supported (only chat messages are counted)',
      },
    ]);
  });

  it('token_budget: any one of its three limits is enough, none is refused', () => {
    for (const limit of ['maxTokens', 'maxPromptTokens', 'maxCompletionTokens'])
      expect(terminationPolicySchema.parse({ kind: 'token_budget', [limit]: 100 })).toStrictEqual({
        kind: 'token_budget',
        [limit]: 100,
      });
    expect(issues({ kind: 'token_budget' })).toStrictEqual([
      { path: [], message: 'token_budget needs maxTokens, maxPromptTokens or maxCompletionTokens' },
    ]);
  });

  it('any_of and all_of take one condition or more', () => {
    const conditions = [
      { kind: 'max_messages', limit: 5 },
      { kind: 'text_mention', text: 'TERMINATE' },
    ];
    for (const kind of ['any_of', 'all_of']) {
      expect(terminationPolicySchema.parse({ kind, conditions })).toStrictEqual({ kind, conditions });
      expect(terminationPolicySchema.parse({ kind, conditions: conditions.slice(0, 1) })).toStrictEqual({
        kind,
        conditions: conditions.slice(0, 1),
      });
      expect(issues({ kind, conditions: [] }).map((i) => i.path)).toStrictEqual([['conditions']]);
    }
  });

  it('source_match takes one source or more', () => {
    for (const sources of [['a'], ['a', 'b']])
      expect(terminationPolicySchema.parse({ kind: 'source_match', sources })).toStrictEqual({
        kind: 'source_match',
        sources,
      });
    expect(issues({ kind: 'source_match', sources: [] }).map((i) => i.path)).toStrictEqual([['sources']]);
  });
});
