import { z } from 'zod';
import { hashOf } from '@agentledger/events/canonical';
import { terminationPolicySchema } from './termination.schema.ts';

/** Agent names become message sources and handoff targets; `user` is reserved for the human. */
const agentName = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/,
    'an identifier: letters, digits, _ or -, starting with a letter or _',
  )
  .refine((name) => name !== 'user', { message: '"user" is reserved for the human user' });

/**
 * The model an agent (or a selector) calls, on an operator-configured endpoint named by `endpoint`
 * (absent: `default`). `baseUrl` and `apiKeyEnv` are accepted on input only when they equal a
 * configured endpoint's (`bindModelEndpoints` then replaces them by its name): a spec never carries
 * where a call goes or which secret it sends.
 */
export const modelSpecSchema = z.strictObject({
  provider: z.enum(['openai', 'azure_openai', 'scripted']).default('openai'),
  endpoint: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/)
    .optional(),
  model: z.string().min(1),
  baseUrl: z.url().optional(),
  apiKeyEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .optional(),
  /** Azure OpenAI only. */
  apiVersion: z.string().optional(),
  deployment: z.string().optional(),
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().positive().optional(),
  timeoutSeconds: z.number().positive().optional(),
  maxRetries: z.number().int().min(0).max(10).optional(),
  /** `scripted` only: fixed replies, in order (AutoGen's ReplayChatCompletionClient). */
  script: z.array(z.string()).optional(),
});

export const handoffSpecSchema = z.strictObject({
  target: z.string().min(1),
  /** The function name the model calls; default `transfer_to_<target>`. */
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9_-]{1,64}$/,
      'a function name the model calls: 1 to 64 letters, digits, _ or - (by default transfer_to_<target>)',
    ),
  description: z.string(),
  /** The handoff message's content; AutoGen's default wording. */
  message: z.string(),
});

const handoffInput = z.union([
  z.string().min(1),
  z.strictObject({
    target: z.string().min(1),
    name: z.string().optional(),
    description: z.string().optional(),
    message: z.string().optional(),
  }),
]);

/** AutoGen's chat completion contexts: everything, the last N messages, or the first and last N. */
export const modelContextSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('unbounded') }),
  z.strictObject({ kind: z.literal('buffered'), bufferSize: z.number().int().positive() }),
  z.strictObject({
    kind: z.literal('head_and_tail'),
    headSize: z.number().int().nonnegative(),
    tailSize: z.number().int().positive(),
  }),
]);

/**
 * An MCP server an agent uses, named as the operator registered it, optionally with a subset of its
 * tools. `url`, `command`, `args`, `env` and `headers` are accepted by the schema only so they can
 * be refused by name (422): a URL maps to the registered server with that URL, anything else is
 * operator configuration.
 */
export const mcpToolsetSchema = z.strictObject({
  server: z.string().min(1).optional(),
  tools: z.array(z.string().min(1)).min(1).optional(),
  url: z.string().optional(),
  command: z.unknown().optional(),
  args: z.unknown().optional(),
  env: z.unknown().optional(),
  headers: z.unknown().optional(),
});

/**
 * An MCP tool as it was listed when the team was put, pinned in the spec (so a session keeps the
 * schema its model saw, and replays). Written by the gateway from the server's own listing; a
 * tenant's value is always replaced.
 */
export const mcpToolSchema = z.strictObject({
  server: z.string().min(1),
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  description: z.string(),
  inputSchema: z.record(z.string(), z.unknown()),
  /** The tool declared `idempotentHint: true`; otherwise it is treated as non-idempotent. */
  idempotent: z.boolean(),
});

const assistantAgentSchema = z.strictObject({
  kind: z.literal('assistant').default('assistant'),
  name: agentName,
  description: z.string().default('An agent that provides assistance with ability to use tools.'),
  systemMessage: z.string().default('You are a helpful AI assistant. Solve tasks using your tools.'),
  /** Absent: the deployment's default model (OPENAI_BASE_URL / OPENAI_API_KEY, or scripted). */
  model: modelSpecSchema.optional(),
  tools: z.array(z.string().min(1)).default([]),
  /** MCP servers (operator-registered) whose tools this agent may call; absent in older specs. */
  mcp: z.array(mcpToolsetSchema).optional(),
  mcpTools: z.array(mcpToolSchema).optional(),
  handoffs: z
    .array(handoffInput)
    .default([])
    .transform((handoffs) =>
      handoffs.map((h) => {
        const target = typeof h === 'string' ? h : h.target;
        const given: { name?: string; description?: string; message?: string } =
          typeof h === 'string' ? {} : h;
        return {
          target,
          name: given.name ?? `transfer_to_${target.toLowerCase()}`,
          description: given.description ?? `Handoff to ${target}.`,
          message: given.message ?? `Transferred to ${target}, adopting the role of ${target} immediately.`,
        };
      }),
    )
    // The normalized handoff is what the model is offered: its name must be a function name.
    .pipe(z.array(handoffSpecSchema)),
  /** Tools that need a human's approval before they run (the registry may require it too). */
  approvalRequired: z.array(z.string()).default([]),
  parallelToolCalls: z.boolean().optional(),
  reflectOnToolUse: z.boolean().default(false),
  maxToolIterations: z.number().int().positive().max(100).default(1),
  toolCallSummaryFormat: z.string().default('{result}'),
  modelContext: modelContextSchema.default({ kind: 'unbounded' }),
});

const userProxyAgentSchema = z.strictObject({
  kind: z.literal('user_proxy'),
  name: agentName,
  description: z.string().default('A human user'),
});

export const agentSpecSchema = z.union([userProxyAgentSchema, assistantAgentSchema]);

export const DEFAULT_SELECTOR_PROMPT = `You are in a role play game. The following roles are available:
{roles}.
Read the following conversation. Then select the next role from {participants} to play. Only return the role.

{history}

Read the above conversation. Then select the next role from {participants} to play. Only return the role.`;

export const selectorSpecSchema = z.strictObject({
  model: modelSpecSchema.optional(),
  prompt: z.string().default(DEFAULT_SELECTOR_PROMPT),
  allowRepeatedSpeaker: z.boolean().default(false),
  maxSelectorAttempts: z.number().int().positive().max(10).default(3),
});

/** The Magentic-One orchestrator's own participant name: message source of its ledger and instructions. */
export const MAGENTIC_ORCHESTRATOR = 'MagenticOneOrchestrator';

export const DEFAULT_FINAL_ANSWER_PROMPT = `
We are working on the following task:
{task}

We have completed the task.

The above messages contain the conversation that took place to complete the task.

Based on the information gathered, provide the final answer to the original request.
The answer should be phrased as if you were speaking to the user.
`;

/** AutoGen's MagenticOneGroupChat settings (`max_turns` is the team's `maxTurns`, default 20). */
export const magenticOneSpecSchema = z.strictObject({
  /** The orchestrator's model; absent: the first assistant's. */
  model: modelSpecSchema.optional(),
  /** Stalled or looping rounds (net of progress) that trigger a re-plan. */
  maxStalls: z.number().int().positive().max(100).default(3),
  /** `{task}` is replaced by the task. */
  finalAnswerPrompt: z.string().default(DEFAULT_FINAL_ANSWER_PROMPT),
  /** Malformed progress ledgers retried per round before the turn fails (AutoGen: 10). */
  maxJsonRetries: z.number().int().positive().max(20).default(10),
});

export const limitsSchema = z.strictObject({
  maxParallelToolCalls: z.number().int().positive().max(64).default(4),
  /** A hard per-turn token budget (selector calls count too), on top of any termination condition. */
  maxTokens: z.number().int().positive().optional(),
  turnTimeoutSeconds: z.number().positive().optional(),
});

/** What happens to a tool approval nobody answers: denied after `timeoutSeconds`. */
export const approvalsSchema = z.strictObject({
  timeoutSeconds: z.number().positive().max(604_800),
  onTimeout: z.enum(['deny']).default('deny'),
});

export const teamSpecSchema = z
  .strictObject({
    specVersion: z.literal(1),
    name: z.string().min(1).max(128),
    description: z.string().optional(),
    type: z.enum(['single', 'round_robin', 'selector', 'swarm', 'magentic_one']),
    agents: z.array(agentSpecSchema).min(1).max(32),
    selector: selectorSpecSchema.optional(),
    magenticOne: magenticOneSpecSchema.optional(),
    termination: terminationPolicySchema.optional(),
    /** AutoGen's `max_turns`: agent turns (speaker steps) per run; magentic_one: orchestration rounds. */
    maxTurns: z.number().int().positive().optional(),
    limits: limitsSchema.default({ maxParallelToolCalls: 4 }),
    /** Absent: an approval waits until someone answers it (or the turn ends). */
    approvals: approvalsSchema.optional(),
    onBusy: z.enum(['enqueue', 'reject', 'interrupt']).default('enqueue'),
  })
  .superRefine((spec, ctx) => {
    const names = spec.agents.map((a) => a.name);
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i)
        ctx.addIssue({
          code: 'custom',
          path: ['agents', i, 'name'],
          message: `duplicate agent name "${name}"`,
        });
    });
    if (spec.type === 'single' && (spec.agents.length !== 1 || spec.agents[0]?.kind !== 'assistant'))
      ctx.addIssue({
        code: 'custom',
        path: ['agents'],
        message: 'a single team has exactly one assistant agent',
      });
    if (spec.type === 'swarm' && spec.agents[0]?.kind !== 'assistant')
      ctx.addIssue({
        code: 'custom',
        path: ['agents', 0],
        message: 'a swarm starts with an assistant agent',
      });
    if (!spec.agents.some((a) => a.kind === 'assistant'))
      ctx.addIssue({
        code: 'custom',
        path: ['agents'],
        message: 'a team needs at least one assistant agent',
      });
    if (spec.type === 'magentic_one') refineMagenticOne(spec, ctx);
    spec.agents.forEach((agent, i) => {
      if (agent.kind !== 'assistant') return;
      agent.handoffs.forEach((h, j) => {
        // A target outside the team (the human, another system) pauses the session for input,
        // as AutoGen's HandoffTermination does.
        if (h.target === agent.name)
          ctx.addIssue({
            code: 'custom',
            path: ['agents', i, 'handoffs', j, 'target'],
            message: `agent "${agent.name}" cannot hand off to itself`,
          });
      });
      if (new Set(agent.tools).size !== agent.tools.length)
        ctx.addIssue({ code: 'custom', path: ['agents', i, 'tools'], message: 'duplicate tool name' });
    });
  });

type RawSpec = Readonly<{
  agents: readonly Readonly<{ name: string; kind: string; handoffs?: readonly unknown[] }>[];
}>;

/** The orchestrator picks speakers: handoffs have no meaning there, and its name is taken. */
const refineMagenticOne = (spec: RawSpec, ctx: z.RefinementCtx): void =>
  spec.agents.forEach((agent, i) => {
    if (agent.name === MAGENTIC_ORCHESTRATOR)
      ctx.addIssue({
        code: 'custom',
        path: ['agents', i, 'name'],
        message: `"${MAGENTIC_ORCHESTRATOR}" is the orchestrator's name in a magentic_one team`,
      });
    if (agent.handoffs?.length)
      ctx.addIssue({
        code: 'custom',
        path: ['agents', i, 'handoffs'],
        message: 'a magentic_one team has no handoffs: the orchestrator picks every speaker',
      });
  });

/** A validated, normalized team spec (defaults filled in): what `SessionStarted` pins. */
export type TeamSpec = z.output<typeof teamSpecSchema>;
/** A team spec as written (defaults optional). */
export type TeamSpecInput = z.input<typeof teamSpecSchema>;
export type AgentSpec = TeamSpec['agents'][number];
export type AssistantAgentSpec = Extract<AgentSpec, { kind: 'assistant' }>;
export type UserProxyAgentSpec = Extract<AgentSpec, { kind: 'user_proxy' }>;
export type ModelSpec = z.output<typeof modelSpecSchema>;
export type HandoffSpec = z.output<typeof handoffSpecSchema>;
export type SelectorSpec = z.output<typeof selectorSpecSchema>;
export type MagenticOneSpec = z.output<typeof magenticOneSpecSchema>;
export type TeamType = TeamSpec['type'];

export const TEAM_SPEC_VERSION = 1;

/** The hash a session pins with its spec: SHA-256 over the canonical JSON of the normalized spec. */
export const teamSpecHash = (spec: TeamSpec): string => hashOf(spec);

export type McpToolset = z.output<typeof mcpToolsetSchema>;
export type McpToolSpec = z.output<typeof mcpToolSchema>;
