import type { FinishReason, ModelToolCall, TokenUsage } from '../model/model-client.port.ts';
import type { TeamSpec } from '../spec/team-spec.ts';
import type { ErrorInfo, SessionEvent, ToolFailureReason } from './session.events.ts';

/** Everything non-deterministic a decision needs travels here; `decide` never fetches it. */
export type CommandMetadata = Readonly<{
  commandId: string;
  correlationId: string;
  now: Date;
  actor?: string;
}>;

type C<T extends string, D extends object> = Readonly<{
  type: T;
  data: Readonly<D>;
  metadata: CommandMetadata;
}>;

export type StartSession = C<
  'StartSession',
  {
    sessionId: string;
    tenantId: string;
    teamId: string;
    spec: TeamSpec;
    /** The client's labels for the session (string values), kept in `SessionStarted`. */
    metadata?: Readonly<Record<string, string>>;
  }
>;
export type PostUserMessage = C<'PostUserMessage', { messageId: string; content: string }>;

export type ModelCallOutcome =
  | Readonly<{
      outcome: 'completed';
      content: string | null;
      toolCalls: readonly ModelToolCall[];
      usage: TokenUsage;
      finishReason: FinishReason;
      latencyMs: number;
      model?: string;
    }>
  | Readonly<{ outcome: 'failed'; error: ErrorInfo; latencyMs: number }>;

/** The result of an agent's model call (`call_model` action). */
export type RecordModelCall = C<'RecordModelCall', { callId: string } & ModelCallOutcome>;
/** The result of a selector's model call (`select_speaker` action). */
export type RecordSpeakerSelection = C<'RecordSpeakerSelection', { callId: string } & ModelCallOutcome>;

export type RecordToolResult = C<
  'RecordToolResult',
  | Readonly<{ toolCallId: string; outcome: 'completed'; result: string; latencyMs: number }>
  | Readonly<{
      toolCallId: string;
      outcome: 'failed';
      reason: ToolFailureReason;
      message: string;
      latencyMs: number;
    }>
>;
/** Sent by the tool runner when the registered tool requires approval and none was given yet. */
export type RequestApproval = C<'RequestApproval', { toolCallId: string }>;
export type DecideApproval = C<
  'DecideApproval',
  { toolCallId: string; approve: boolean; reason?: string; actor?: string }
>;
export type CancelTurn = C<'CancelTurn', { reason?: string }>;
export type CloseSession = C<'CloseSession', { reason?: string }>;
/** From the watchdog: no progress past the deadline. Visible, not fatal: work may still resume. */
export type MarkStalled = C<'MarkStalled', { reason: string }>;
/** Evaluates time-based termination (timeout conditions) without any new result. */
export type CheckTimeout = C<'CheckTimeout', Record<string, never>>;
/** Sent to a new (empty) session: its history becomes the parent's first `atVersion` events. */
export type ForkSession = C<
  'ForkSession',
  {
    sessionId: string;
    tenantId: string;
    parentSessionId: string;
    atVersion: number;
    parentEvents: readonly SessionEvent[];
  }
>;

export type SessionCommand =
  | StartSession
  | PostUserMessage
  | RecordModelCall
  | RecordSpeakerSelection
  | RecordToolResult
  | RequestApproval
  | DecideApproval
  | CancelTurn
  | CloseSession
  | MarkStalled
  | CheckTimeout
  | ForkSession;

export type SessionCommandType = SessionCommand['type'];
