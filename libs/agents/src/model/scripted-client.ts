import type {
  ModelClient,
  ModelMessage,
  ModelRequest,
  ModelResponse,
  TokenUsage,
} from '../core/model/model-client.port.ts';
import { ModelCallError } from './model-call-error.ts';

/** One scripted answer. `agent` (an agent name or `selector`) restricts whose request it answers. */
export type ScriptStep = Readonly<{
  agent?: string;
  content?: string | null;
  toolCalls?: readonly Readonly<{
    name: string;
    arguments: string | Readonly<Record<string, unknown>>;
    id?: string;
  }>[];
  usage?: TokenUsage;
  error?: Readonly<{ type: string; message: string; retryable: boolean }>;
}>;

export type ScriptedModelClientOptions = Readonly<{
  script?: readonly ScriptStep[];
  /** Answers when no scripted step fits: `demo` (deterministic demo answers, the default) or `error`. */
  whenExhausted?: 'demo' | 'error';
}>;

export type ScriptedModelClient = ModelClient &
  Readonly<{
    /** Every request received, in order. */
    requests: readonly ModelRequest[];
    remaining: () => number;
  }>;

const estimateTokens = (text: string): number => Math.ceil(text.length / 4);

const textOf = (m: ModelMessage): string =>
  m.role === 'assistant' ? (m.content ?? '') + JSON.stringify(m.toolCalls ?? []) : m.content;

/** Deterministic usage: about a token per four characters. */
export const estimateUsage = (request: ModelRequest, response: Omit<ModelResponse, 'usage'>): TokenUsage => ({
  promptTokens: request.messages.reduce((n, m) => n + estimateTokens(textOf(m)), 0),
  completionTokens: estimateTokens((response.content ?? '') + JSON.stringify(response.toolCalls)),
});

const arithmetic = /(-?\d+(?:\.\d+)?)\s*([+\-*/x×])\s*(-?\d+(?:\.\d+)?)/;

/**
 * The embedded default's answers: a selector names the first candidate it is offered; an agent with
 * the calculator computes the first `a op b` in the task, then reports it; otherwise it
 * acknowledges the last message. Every answer ends with TERMINATE.
 */
export const demoAnswer = (request: ModelRequest): Omit<ModelResponse, 'usage'> => {
  const last = request.messages.at(-1);
  const stop = { toolCalls: [], finishReason: 'stop' as const };
  if (request.purpose === 'select_speaker') {
    return { ...stop, content: request.candidates?.[0] ?? 'unknown' };
  }
  const orchestrator = demoOrchestratorAnswer(request);
  if (orchestrator !== null) return { ...stop, content: orchestrator };
  if (last?.role === 'tool') return { ...stop, content: `The result is ${last.content}. TERMINATE` };
  if (last?.role === 'assistant') return { ...stop, content: `Done: ${last.content ?? ''}. TERMINATE` };
  const lastUser = request.messages.findLast((m) => m.role === 'user');
  const text = lastUser?.content ?? '';
  const match = arithmetic.exec(text);
  if (match && request.tools.some((t) => t.name === 'calculator')) {
    const operator = match[2] === 'x' || match[2] === '×' ? '*' : match[2]!;
    const args = JSON.stringify({ a: Number(match[1]), b: Number(match[3]), operator });
    return {
      content: null,
      toolCalls: [{ id: 'call_1', name: 'calculator', arguments: args }],
      finishReason: 'tool_calls',
    };
  }
  return { ...stop, content: `${request.agent} received: ${text.slice(0, 200)}. TERMINATE` };
};

/**
 * The demo Magentic-One orchestrator: a one-line ledger, then the first participant is asked once;
 * as soon as a participant has answered, the request counts as satisfied and its answer is final.
 */
const demoOrchestratorAnswer = (request: ModelRequest): string | null => {
  const answered = request.messages.findLast(
    (m) => m.role === 'user' && m.name !== undefined && m.name !== 'user',
  );
  switch (request.purpose) {
    case 'task_facts':
      return '1. GIVEN OR VERIFIED FACTS\n- the request';
    case 'task_plan':
      return '- Ask the first participant to answer the request.';
    case 'final_answer':
      return answered?.content ?? 'No answer was found.';
    case 'progress_ledger': {
      const judged = (answer: boolean | string, reason: string) => ({ reason, answer });
      return JSON.stringify({
        is_request_satisfied: judged(
          answered !== undefined,
          answered ? 'a participant answered' : 'just starting',
        ),
        is_in_loop: judged(false, 'no repetition'),
        is_progress_being_made: judged(true, 'just starting'),
        next_speaker: judged(request.candidates?.[0] ?? '', 'the first participant'),
        instruction_or_question: judged('Please answer the request.', 'the plan'),
      });
    }
    default:
      return null;
  }
};

/**
 * A model client that answers from a script, deterministically (the embedded default, demos and
 * tests), and records every request it received.
 */
export const createScriptedModelClient = (options: ScriptedModelClientOptions = {}): ScriptedModelClient => {
  const steps = [...(options.script ?? [])];
  const requests: ModelRequest[] = [];
  return {
    requests,
    remaining: () => steps.length,
    complete: async (request, { signal }) => {
      if (signal?.aborted) throw new ModelCallError('aborted', 'the model call was aborted', true);
      requests.push(request);
      const index = steps.findIndex((s) => s.agent === undefined || s.agent === request.agent);
      const step = index >= 0 ? steps.splice(index, 1)[0] : undefined;
      if (!step) {
        if (options.whenExhausted === 'error')
          throw new ModelCallError('script_exhausted', `no scripted answer left for ${request.agent}`, false);
        const answer = demoAnswer(request);
        return { ...answer, usage: estimateUsage(request, answer) };
      }
      if (step.error) throw new ModelCallError(step.error.type, step.error.message, step.error.retryable);
      const toolCalls = (step.toolCalls ?? []).map((tc, i) => ({
        id: tc.id ?? `call_${requests.length}_${i}`,
        name: tc.name,
        arguments: typeof tc.arguments === 'string' ? tc.arguments : JSON.stringify(tc.arguments),
      }));
      const answer = {
        content: step.content ?? null,
        toolCalls,
        finishReason: toolCalls.length > 0 ? ('tool_calls' as const) : ('stop' as const),
      };
      return { ...answer, usage: step.usage ?? estimateUsage(request, answer) };
    },
  };
};
