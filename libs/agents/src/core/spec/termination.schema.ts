import { z } from 'zod';

/**
 * Termination conditions as data (AutoGen's conditions, composable with `any_of` / `all_of`).
 * A condition is evaluated over the whole current turn, so `all_of` means "each has fired at some
 * point in this turn", exactly as AutoGen's stateful AndTerminationCondition behaves.
 */
export type TerminationPolicy =
  | Readonly<{ kind: 'max_messages'; limit: number; includeAgentEvents?: boolean }>
  | Readonly<{ kind: 'text_mention'; text: string; sources?: readonly string[] }>
  | Readonly<{
      kind: 'token_budget';
      maxTokens?: number;
      maxPromptTokens?: number;
      maxCompletionTokens?: number;
    }>
  | Readonly<{ kind: 'timeout'; seconds: number }>
  | Readonly<{ kind: 'handoff'; target: string }>
  | Readonly<{ kind: 'external' }>
  | Readonly<{ kind: 'source_match'; sources: readonly string[] }>
  | Readonly<{ kind: 'stop_message' }>
  | Readonly<{ kind: 'text_message'; source?: string }>
  | Readonly<{ kind: 'function_call'; functionName: string }>
  | Readonly<{ kind: 'any_of'; conditions: readonly TerminationPolicy[] }>
  | Readonly<{ kind: 'all_of'; conditions: readonly TerminationPolicy[] }>;

const positiveInt = z.number().int().positive();

export const terminationPolicySchema: z.ZodType<TerminationPolicy> = z.lazy(() =>
  z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('max_messages'),
      limit: positiveInt,
      /** AutoGen's `include_agent_event`: only `false` (chat messages are counted, agent events never). */
      includeAgentEvents: z
        .boolean()
        .optional()
        .refine((v) => v !== true, {
          message: 'includeAgentEvents: true is not supported (only chat messages are counted)',
        }),
    }),
    z.strictObject({
      kind: z.literal('text_mention'),
      text: z.string().min(1),
      sources: z.array(z.string()).optional(),
    }),
    z
      .strictObject({
        kind: z.literal('token_budget'),
        maxTokens: positiveInt.optional(),
        maxPromptTokens: positiveInt.optional(),
        maxCompletionTokens: positiveInt.optional(),
      })
      .refine((p) => p.maxTokens ?? p.maxPromptTokens ?? p.maxCompletionTokens, {
        message: 'token_budget needs maxTokens, maxPromptTokens or maxCompletionTokens',
      }),
    z.strictObject({ kind: z.literal('timeout'), seconds: z.number().positive() }),
    z.strictObject({ kind: z.literal('handoff'), target: z.string().min(1) }),
    z.strictObject({ kind: z.literal('external') }),
    z.strictObject({ kind: z.literal('source_match'), sources: z.array(z.string()).min(1) }),
    z.strictObject({ kind: z.literal('stop_message') }),
    z.strictObject({ kind: z.literal('text_message'), source: z.string().optional() }),
    z.strictObject({ kind: z.literal('function_call'), functionName: z.string().min(1) }),
    z.strictObject({ kind: z.literal('any_of'), conditions: z.array(terminationPolicySchema).min(1) }),
    z.strictObject({ kind: z.literal('all_of'), conditions: z.array(terminationPolicySchema).min(1) }),
  ]),
);
