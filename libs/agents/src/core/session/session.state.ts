import type { FinishReason, ModelToolCall, TokenUsage } from '../model/model-client.port.ts';
import type { TeamSpec } from '../spec/team-spec.ts';
import type { ProgressLedger } from '../team/progress-ledger.ts';
import type { ChatMessageType, ErrorInfo, ModelCallPurpose, ToolFailureReason } from './session.events.ts';

/** Every status a session can be in (the wire enum of `GET /v1/sessions` is this list). */
export const SESSION_STATUSES = [
  'idle',
  'running',
  'awaiting_input',
  'awaiting_approval',
  'stalled',
  'failed',
  'closed',
] as const;

export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** A chat message as clients see it (`GET /v1/sessions/{id}`): user messages and agent messages. */
export type SessionMessage = Readonly<{
  id: string;
  /** The stream version of the event that recorded it. */
  version: number;
  /** `user`, or an agent's name (a user proxy's name when the human answered for it). */
  source: string;
  role: 'user' | 'assistant';
  content: string;
  messageType: ChatMessageType;
  /** Handoff messages: the target. */
  target?: string;
  /** The turn whose thread it joined; null while queued behind a running turn. */
  turnId: string | null;
}>;

/**
 * The group chat's shared thread, in the order messages entered it (a queued user message enters
 * when its turn starts). Agent-private tool exchanges sit where they happened; only their owner
 * sees them in its model context, as in AutoGen.
 */
export type ThreadItem =
  | Readonly<{ kind: 'message'; id: string; source: string; content: string; messageType: ChatMessageType }>
  | Readonly<{
      kind: 'tool_exchange';
      agent: string;
      callId: string;
      content: string | null;
      toolCalls: readonly ModelToolCall[];
      results: readonly Readonly<{ toolCallId: string; content: string }>[];
    }>;

export type ModelCallState = Readonly<{
  callId: string;
  turnId: string;
  step: number;
  agent: string;
  purpose: ModelCallPurpose;
  iteration: number;
  contextLength: number;
  contextHash: string;
  status: 'pending' | 'completed' | 'failed';
  content?: string | null;
  /** Tool calls with our ids (`<callId>.t<i>`); the model's own ids are not kept. */
  toolCalls?: readonly ModelToolCall[];
  usage?: TokenUsage;
  finishReason?: FinishReason;
  error?: ErrorInfo;
}>;

export type ToolCallState = Readonly<{
  toolCallId: string;
  callId: string;
  turnId: string;
  agent: string;
  name: string;
  arguments: string;
  status: 'pending' | 'completed' | 'failed';
  approval: 'none' | 'requested' | 'granted' | 'denied';
  /** An unanswered approval is denied at this time (ISO), when the team sets an approval deadline. */
  approvalExpiresAt?: string;
  result?: string;
  failure?: Readonly<{ reason: ToolFailureReason; message: string }>;
}>;

export type TurnPhase =
  /** Choose the next speaker (or finish the turn). */
  | 'between_steps'
  /** A selector call is out. */
  | 'selecting'
  /** The speaker works: model calls and tools. */
  | 'speaking'
  /** A user proxy or a handoff to the user waits for the human. */
  | 'awaiting_input'
  /** Magentic-One: the orchestrator's ledger and final-answer calls. */
  | 'orchestrating';

/** Magentic-One's orchestrator state within a turn (AutoGen's MagenticOneOrchestrator fields). */
export type MagenticTurn = Readonly<{
  task: string;
  /** Null until the first TaskLedgerUpdated. */
  facts: string | null;
  plan: string | null;
  /** Task ledgers written so far minus one: 0 after the first plan, +1 per re-plan. */
  outerLoop: number;
  /** Progress ledgers recorded (AutoGen's n_rounds). */
  rounds: number;
  stalls: number;
  /** Where the current outer loop's thread starts: participants and the orchestrator see only it. */
  threadStart: number;
  lastLedger: Readonly<{ callId: string; ledger: ProgressLedger; decision: string }> | null;
}>;

export type TurnState = Readonly<{
  turnId: string;
  index: number;
  messageId: string;
  startedAt: string;
  phase: TurnPhase;
  /** Speaker steps taken so far; the current step's number while speaking. */
  step: number;
  speaker: string | null;
  /** Model calls of the current step, in order (agent calls, reflection) or of the selection. */
  stepCalls: readonly string[];
  /** Tool calls of the current batch. */
  batch: readonly string[];
  /** Chat messages in this turn, the task included (what MaxMessageTermination counts). */
  messageCount: number;
  usage: TokenUsage;
  /** Names of tools that completed in this turn (FunctionCallTermination). */
  functionCalls: readonly string[];
  /** The agent whose handoff to a non-member (the human) ended its last step. */
  handoffToUser: string | null;
  /** magentic_one teams only. */
  magentic?: MagenticTurn;
}>;

export type PendingView = Readonly<{
  modelCalls: readonly Readonly<{ callId: string; agent: string; purpose: ModelCallPurpose }>[];
  toolCalls: readonly Readonly<{ toolCallId: string; agent: string; name: string }>[];
  /** `expiresAt`: when the approval is denied unanswered (the team's `approvals.timeoutSeconds`). */
  approvals: readonly Readonly<{
    toolCallId: string;
    agent: string;
    name: string;
    arguments: string;
    expiresAt?: string;
  }>[];
}>;

export type LastTurn = Readonly<{
  turnId: string;
  outcome: 'completed' | 'cancelled' | 'failed';
  reason: string;
}>;

/** The folded session. Plain JSON data (no Map, Set or Date): two folds compare equal byte for byte. */
export type Session = Readonly<{
  sessionId: string;
  tenantId: string;
  teamId: string;
  spec: TeamSpec | null;
  specHash: string;
  status: SessionStatus;
  /** Number of events folded: the stream version. */
  version: number;
  messages: readonly SessionMessage[];
  thread: readonly ThreadItem[];
  usage: TokenUsage;
  pending: PendingView;
  turn: TurnState | null;
  turnCount: number;
  /** User messages waiting for their turn (onBusy: enqueue), oldest first. */
  queue: readonly string[];
  /** Calls of the running turn (records leave with their turn; the thread keeps the content). */
  modelCalls: Readonly<Record<string, ModelCallState>>;
  toolCalls: Readonly<Record<string, ToolCallState>>;
  /** Who waits for the human, when someone does (inside a turn, or after one ended on a handoff). */
  awaitingInput: Readonly<{ agent: string; reason: 'user_proxy' | 'handoff' }> | null;
  lastSpeaker: string | null;
  /** Round robin: index of the next speaker; it carries over between turns as in AutoGen. */
  roundRobinNext: number;
  /** Swarm: the agent that speaks next (the last handoff's target, or who handed off to the user). */
  swarmSpeaker: string | null;
  lastTurn: LastTurn | null;
  stalledReason: string | null;
  closed: boolean;
  forkedFrom: Readonly<{ sessionId: string; atVersion: number }> | null;
  /**
   * Calls that were in flight when their turn was cancelled: the owner that aborted them may still
   * record `ModelCallFailed{aborted}` / `ToolCallFailed{aborted | unknown-outcome}` once each.
   * Absent when there are none (older folds have no such key).
   */
  abortedCalls?: readonly string[];
}>;

export const initialSession = (): Session => ({
  sessionId: '',
  tenantId: '',
  teamId: '',
  spec: null,
  specHash: '',
  status: 'idle',
  version: 0,
  messages: [],
  thread: [],
  usage: { promptTokens: 0, completionTokens: 0 },
  pending: { modelCalls: [], toolCalls: [], approvals: [] },
  turn: null,
  turnCount: 0,
  queue: [],
  modelCalls: {},
  toolCalls: {},
  awaitingInput: null,
  lastSpeaker: null,
  roundRobinNext: 0,
  swarmSpeaker: null,
  lastTurn: null,
  stalledReason: null,
  closed: false,
  forkedFrom: null,
});
