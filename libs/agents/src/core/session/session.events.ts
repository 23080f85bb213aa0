import type { ModelToolCall, TokenUsage, FinishReason } from '../model/model-client.port.ts';
import type { TeamSpec } from '../spec/team-spec.ts';
import type { ProgressLedger } from '../team/progress-ledger.ts';

/**
 * Session events: a wire contract forever (change by adding optional fields or an upcaster).
 * Every nondeterministic input (time, ids, model output, tool results) is inside an event, so
 * folding the events reproduces the state exactly.
 */
type E<T extends string, D extends object> = Readonly<{ type: T; data: Readonly<D> }>;

/** Magentic-One orchestrator calls: task ledger facts and plan, progress ledger, final answer. */
export type OrchestratorCallPurpose = 'task_facts' | 'task_plan' | 'progress_ledger' | 'final_answer';
export type ModelCallPurpose = 'agent' | 'reflection' | 'select_speaker' | OrchestratorCallPurpose;
export type ChatMessageType = 'text' | 'handoff' | 'tool_call_summary' | 'stop';
export type ErrorInfo = Readonly<{ type: string; message: string; retryable: boolean }>;
export type ToolFailureReason =
  | 'error'
  | 'invalid-arguments'
  | 'unknown-tool'
  | 'unknown-outcome'
  | 'timeout'
  | 'approval-denied'
  | 'cancelled'
  /** Cut short because its turn was cancelled (cancel, close or interrupt). */
  | 'aborted';
export type SpeakerSelectionMethod =
  'single' | 'round_robin' | 'swarm' | 'selector' | 'selector_fallback' | 'only_candidate' | 'magentic_one';

export type SessionStarted = E<
  'SessionStarted',
  {
    sessionId: string;
    tenantId: string;
    teamId: string;
    spec: TeamSpec;
    specHash: string;
    at: string;
    /** The client's labels given at creation (added later: absent in older events). */
    metadata?: Readonly<Record<string, string>>;
  }
>;
/** `source` is `user`, or the user proxy agent whose question the human answers. */
export type UserMessageReceived = E<
  'UserMessageReceived',
  { messageId: string; content: string; source: string; at: string }
>;
export type TurnStarted = E<'TurnStarted', { turnId: string; messageId: string; at: string }>;
export type SpeakerSelected = E<
  'SpeakerSelected',
  { turnId: string; step: number; agent: string; method: SpeakerSelectionMethod }
>;
export type ModelCallRequested = E<
  'ModelCallRequested',
  {
    callId: string;
    turnId: string;
    step: number;
    /** The agent whose model is called, or `selector`. */
    agent: string;
    purpose: ModelCallPurpose;
    /** 1-based tool iteration (agent calls), or selection attempt (selector calls). */
    iteration: number;
    /** How many thread items the context was built from: the context is rebuilt from them. */
    contextLength: number;
    contextHash: string;
    /** The operator endpoint and model the call uses (added later: absent in older streams). */
    endpoint?: string;
    model?: string;
  }
>;
export type ModelCallCompleted = E<
  'ModelCallCompleted',
  {
    callId: string;
    content: string | null;
    toolCalls: readonly ModelToolCall[];
    usage: TokenUsage;
    finishReason: FinishReason;
    latencyMs: number;
    contextHash: string;
    model?: string;
  }
>;
export type ModelCallFailed = E<'ModelCallFailed', { callId: string; error: ErrorInfo; latencyMs: number }>;
export type ToolCallRequested = E<
  'ToolCallRequested',
  { toolCallId: string; callId: string; agent: string; name: string; arguments: string }
>;
export type ToolCallCompleted = E<
  'ToolCallCompleted',
  { toolCallId: string; result: string; latencyMs: number }
>;
export type ToolCallFailed = E<
  'ToolCallFailed',
  { toolCallId: string; reason: ToolFailureReason; message: string; latencyMs: number }
>;
export type ToolApprovalRequested = E<
  'ToolApprovalRequested',
  {
    toolCallId: string;
    name: string;
    arguments: string;
    agent: string;
    /** When it was requested and when it is denied unanswered: only under the team's `approvals.timeoutSeconds`. */
    at?: string;
    expiresAt?: string;
  }
>;
export type ToolApprovalGranted = E<
  'ToolApprovalGranted',
  { toolCallId: string; actor?: string; reason?: string }
>;
export type ToolApprovalDenied = E<
  'ToolApprovalDenied',
  /** `timedOut` (with `at`): denied by the approval deadline (`approvals.onTimeout: deny`), not by a person. */
  { toolCallId: string; actor?: string; reason?: string; timedOut?: boolean; at?: string }
>;
export type AgentMessageEmitted = E<
  'AgentMessageEmitted',
  {
    messageId: string;
    turnId: string;
    agent: string;
    content: string;
    messageType: ChatMessageType;
    target?: string;
  }
>;
export type HandoffOccurred = E<
  'HandoffOccurred',
  { turnId: string; from: string; to: string; toolCallId: string; message: string }
>;
/**
 * Magentic-One: the orchestrator's task ledger (facts and plan) was written (`outerLoop` 0) or
 * rewritten after a stall (`outerLoop` 1, 2, …); the outer loop restarts with a fresh thread.
 */
export type TaskLedgerUpdated = E<
  'TaskLedgerUpdated',
  { turnId: string; outerLoop: number; facts: string; plan: string; factsCallId: string; planCallId: string }
>;
/**
 * Magentic-One: a progress ledger parsed from the orchestrator's model output, the stall count it
 * leads to, and what the orchestrator does next because of it.
 */
export type ProgressLedgerRecorded = E<
  'ProgressLedgerRecorded',
  {
    turnId: string;
    callId: string;
    round: number;
    ledger: ProgressLedger;
    stalls: number;
    decision: 'continue' | 'replan' | 'final_answer';
  }
>;
export type TurnCompleted = E<'TurnCompleted', { turnId: string; reason: string; at: string }>;
export type TurnCancelled = E<'TurnCancelled', { turnId: string; reason: string; at: string }>;
export type TurnFailed = E<'TurnFailed', { turnId: string; reason: string; error?: ErrorInfo; at: string }>;
export type SessionAwaitingInput = E<
  'SessionAwaitingInput',
  { turnId: string; agent: string; reason: 'user_proxy' | 'handoff' }
>;
export type SessionStalled = E<'SessionStalled', { reason: string; at: string }>;
export type SessionClosed = E<'SessionClosed', { reason?: string; at: string }>;
/** First event of a fork: the parent's prefix travels inside it, so the fork folds on its own. */
export type SessionForked = E<
  'SessionForked',
  {
    sessionId: string;
    tenantId: string;
    parentSessionId: string;
    atVersion: number;
    parentEvents: readonly SessionEvent[];
    at: string;
  }
>;

export type SessionEvent =
  | SessionStarted
  | UserMessageReceived
  | TurnStarted
  | SpeakerSelected
  | ModelCallRequested
  | ModelCallCompleted
  | ModelCallFailed
  | ToolCallRequested
  | ToolCallCompleted
  | ToolCallFailed
  | ToolApprovalRequested
  | ToolApprovalGranted
  | ToolApprovalDenied
  | AgentMessageEmitted
  | HandoffOccurred
  | TaskLedgerUpdated
  | ProgressLedgerRecorded
  | TurnCompleted
  | TurnCancelled
  | TurnFailed
  | SessionAwaitingInput
  | SessionStalled
  | SessionClosed
  | SessionForked;

export type SessionEventType = SessionEvent['type'];

export const SESSION_EVENT_TYPES: readonly SessionEventType[] = [
  'SessionStarted',
  'UserMessageReceived',
  'TurnStarted',
  'SpeakerSelected',
  'ModelCallRequested',
  'ModelCallCompleted',
  'ModelCallFailed',
  'ToolCallRequested',
  'ToolCallCompleted',
  'ToolCallFailed',
  'ToolApprovalRequested',
  'ToolApprovalGranted',
  'ToolApprovalDenied',
  'AgentMessageEmitted',
  'HandoffOccurred',
  'TurnCompleted',
  'TurnCancelled',
  'TurnFailed',
  'SessionAwaitingInput',
  'SessionStalled',
  'SessionClosed',
  'SessionForked',
  'TaskLedgerUpdated',
  'ProgressLedgerRecorded',
];
