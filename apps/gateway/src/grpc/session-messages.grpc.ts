import type { EventEnvelope, SessionDelta } from '@agentledger/events';
import type { MessageView, SessionStateView, SessionSummary } from '../sessions/sessions.schemas.ts';

/** The Sessions service's messages as proto-loader gives and takes them (snake_case, int64 as strings in). */
export type GrpcEvent = {
  event_id: string;
  stream_id: string;
  tenant_id: string;
  version: number;
  global_position: number;
  type: string;
  schema_version: number;
  data_json: string;
  metadata_json: string;
  recorded_at: string;
  prev_hash: string;
  hash: string;
  /** StreamEvents only: a model-output delta (then `type` is `delta`). */
  delta?: GrpcModelDelta;
};
export type GrpcModelDelta = {
  session_id: string;
  call_id: string;
  turn_id: string;
  agent: string;
  attempt: number;
  seq: number;
  text?: string;
  tool_call?: { index: number; id: string; name: string; args_delta: string };
};
export type CreateSessionRequest = {
  team_id: string;
  session_id: string;
  metadata_json: string;
  idempotency_key: string;
};
export type Summary = { session_id: string; status: string; version: number };
export type SendMessageRequest = {
  session_id: string;
  content: string;
  idempotency_key: string;
  wait_seconds: number;
};
export type GrpcMessage = { id: string; version: number; source: string; role: string; content: string };
export type SendMessageResponse = {
  message_id: string;
  version: number;
  completed: boolean;
  status: string;
  messages: GrpcMessage[];
};
export type GetSessionRequest = { session_id: string; at_version?: string };
export type GrpcSessionState = {
  session_id: string;
  team_id: string;
  status: string;
  version: number;
  messages: GrpcMessage[];
  usage: { prompt_tokens: number; completion_tokens: number };
  pending: {
    model_calls: number;
    tool_calls: number;
    approvals: number;
    approval_requests: { tool_call_id: string; agent: string; name: string; arguments_json: string }[];
  };
};
export type CancelRequest = { session_id: string; reason: string; idempotency_key: string };
export type ApproveRequest = {
  session_id: string;
  tool_call_id: string;
  approve: boolean;
  reason: string;
  idempotency_key: string;
};
export type ListEventsRequest = { session_id: string; after: string; limit: number };
export type ListEventsResponse = { events: GrpcEvent[]; next_after?: number };
export type StreamEventsRequest = { session_id: string; after: string };

export const keyOf = (key: string): string | undefined => (key === '' ? undefined : key);
export const toSummary = (summary: SessionSummary): Summary => ({
  session_id: summary.sessionId,
  status: summary.status,
  version: summary.version,
});
export const toGrpcMessage = (message: MessageView): GrpcMessage => ({ ...message });
export const toGrpcState = (state: SessionStateView): GrpcSessionState => ({
  session_id: state.sessionId,
  team_id: state.teamId,
  status: state.status,
  version: state.version,
  messages: state.messages.map(toGrpcMessage),
  usage: { prompt_tokens: state.usage.promptTokens, completion_tokens: state.usage.completionTokens },
  pending: {
    model_calls: state.pending.modelCalls.length,
    tool_calls: state.pending.toolCalls.length,
    approvals: state.pending.approvals.length,
    approval_requests: state.pending.approvals.map(({ toolCallId, agent, name, arguments: args }) => ({
      tool_call_id: toolCallId,
      agent,
      name,
      arguments_json: args,
    })),
  },
});

/** A delta as a StreamEvents message: type `delta`, the envelope fields empty. */
export const toGrpcDelta = (delta: SessionDelta): GrpcEvent => ({
  event_id: '',
  stream_id: '',
  tenant_id: delta.tenantId,
  version: 0,
  global_position: 0,
  type: 'delta',
  schema_version: 0,
  data_json: '',
  metadata_json: '',
  recorded_at: '',
  prev_hash: '',
  hash: '',
  delta: {
    session_id: delta.sessionId,
    call_id: delta.callId,
    turn_id: delta.turnId,
    agent: delta.agent,
    attempt: delta.attempt,
    seq: delta.seq,
    ...(delta.kind === 'text' ? { text: delta.text ?? '' } : {}),
    ...(delta.toolCall
      ? {
          tool_call: {
            index: delta.toolCall.index,
            id: delta.toolCall.id ?? '',
            name: delta.toolCall.name ?? '',
            args_delta: delta.toolCall.argsDelta,
          },
        }
      : {}),
  },
});

export const toGrpcEvent = (event: EventEnvelope): GrpcEvent => ({
  event_id: event.eventId,
  stream_id: event.streamId,
  tenant_id: event.tenantId,
  version: event.version,
  global_position: event.globalPosition,
  type: event.type,
  schema_version: event.schemaVersion,
  data_json: JSON.stringify(event.data),
  metadata_json: JSON.stringify(event.metadata),
  recorded_at: event.recordedAt,
  prev_hash: event.prevHash,
  hash: event.hash,
});
