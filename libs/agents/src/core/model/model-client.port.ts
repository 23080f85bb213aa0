import type { ModelCallPurpose } from '../session/session.events.ts';
import type { ModelSpec } from '../spec/team-spec.ts';

/** A tool call as the model asked for it; `arguments` is the raw JSON text (it may be malformed). */
export type ModelToolCall = Readonly<{ id: string; name: string; arguments: string }>;

export type ModelMessage =
  | Readonly<{ role: 'system'; content: string }>
  | Readonly<{ role: 'user'; content: string; name?: string }>
  | Readonly<{
      role: 'assistant';
      content: string | null;
      name?: string;
      toolCalls?: readonly ModelToolCall[];
    }>
  | Readonly<{ role: 'tool'; toolCallId: string; content: string }>;

/** A function the model may call: JSON schema parameters (derived from zod for registered tools). */
export type ToolSchema = Readonly<{
  name: string;
  description: string;
  parameters: Readonly<Record<string, unknown>>;
}>;

export type TokenUsage = Readonly<{ promptTokens: number; completionTokens: number }>;

export type FinishReason = 'stop' | 'tool_calls' | 'length' | 'content_filter' | 'other';

export type ModelRequest = Readonly<{
  messages: readonly ModelMessage[];
  tools: readonly ToolSchema[];
  toolChoice?: 'auto' | 'none';
  parallelToolCalls?: boolean;
  /** Which model to use; adapters bound to one model may ignore it. */
  model?: ModelSpec;
  /** Who is asking, for scripted clients and logs: the agent name, or `selector`. */
  agent: string;
  /** `agent`, `reflection`, `select_speaker`, or a Magentic-One orchestrator call's purpose. */
  purpose: ModelCallPurpose;
  /** Selector calls: the names it may pick; progress-ledger calls: the participants. */
  candidates?: readonly string[];
  /** Derived from the work (`<sessionId>:<callId>`), the same on every retry. */
  idempotencyKey: string;
}>;

export type ModelResponse = Readonly<{
  content: string | null;
  toolCalls: readonly ModelToolCall[];
  usage: TokenUsage;
  finishReason: FinishReason;
  /** The model that answered, when the provider says. */
  model?: string;
}>;

/**
 * A piece of an answer as it streams. `attempt` is the client's own retry count (0 first): a retry
 * starts the answer again, so a watcher drops what it had of an earlier attempt.
 */
export type ModelDelta =
  | Readonly<{ kind: 'text'; attempt: number; text: string }>
  | Readonly<{
      kind: 'tool_call_args';
      attempt: number;
      /** The tool call's position in the answer (its id and name come with its first piece). */
      index: number;
      id?: string;
      name?: string;
      argsDelta: string;
    }>;

export type ModelCallOptions = Readonly<{
  signal?: AbortSignal;
  /**
   * Asks for the answer as it is produced: adapters that can stream do, and hand each piece here.
   * The response is the same as without it (same content, tool calls, usage, finish reason).
   */
  onDelta?: (delta: ModelDelta) => void;
}>;

/**
 * The capability of answering a chat: messages and tool schemas in, content, tool calls, usage and
 * finish reason out. Implementations honour `signal` (abort the HTTP call) and throw
 * `ModelCallError` (classified retryable or not) on failure.
 */
export type ModelClient = Readonly<{
  complete: (request: ModelRequest, options: ModelCallOptions) => Promise<ModelResponse>;
}>;
