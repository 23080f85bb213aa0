import type { Session, SessionMessage, SessionStatus } from '@agentledger/agents';
import type { SessionRow } from '../session-index.ts';

/**
 * What the session use cases answer; the edges serialise these as they are (docs/api.md). Each is
 * built fresh per call, so its arrays are the caller's to keep.
 */
export type SessionSummary = Readonly<{ sessionId: string; status: SessionStatus; version: number }>;
export type MessageAccepted = Readonly<{ messageId: string; version: number }>;
export type MessageView = Readonly<{
  id: string;
  version: number;
  source: string;
  role: 'user' | 'assistant';
  content: string;
}>;
export type TurnResult = Readonly<{ status: SessionStatus; messages: MessageView[] }>;
export type SessionStateView = Readonly<{
  sessionId: string;
  teamId: string;
  status: SessionStatus;
  version: number;
  messages: MessageView[];
  usage: Readonly<{ promptTokens: number; completionTokens: number }>;
  pending: Readonly<{
    modelCalls: Readonly<{ callId: string; agent: string; purpose: string }>[];
    toolCalls: Readonly<{ toolCallId: string; agent: string; name: string }>[];
    approvals: Readonly<{ toolCallId: string; agent: string; name: string; arguments: string }>[];
  }>;
}>;
export type SessionListItem = Readonly<{
  sessionId: string;
  teamId: string;
  status: SessionStatus;
  version: number;
  createdAt: string;
}>;
export type SessionList = Readonly<{ items: SessionListItem[]; nextCursor: string | null }>;

export const toMessageView = ({ id, version, source, role, content }: SessionMessage): MessageView => ({
  id,
  version,
  source,
  role,
  content,
});

export const toSummary = (state: Session): SessionSummary => ({
  sessionId: state.sessionId,
  status: state.status,
  version: state.version,
});

export const toStateView = (state: Session): SessionStateView => ({
  sessionId: state.sessionId,
  teamId: state.teamId,
  status: state.status,
  version: state.version,
  messages: state.messages.map(toMessageView),
  usage: { promptTokens: state.usage.promptTokens, completionTokens: state.usage.completionTokens },
  pending: {
    modelCalls: state.pending.modelCalls.map(({ callId, agent, purpose }) => ({ callId, agent, purpose })),
    toolCalls: state.pending.toolCalls.map(({ toolCallId, agent, name }) => ({ toolCallId, agent, name })),
    approvals: state.pending.approvals.map(({ toolCallId, agent, name, arguments: args, expiresAt }) => ({
      toolCallId,
      agent,
      name,
      arguments: args,
      ...(expiresAt === undefined ? {} : { expiresAt }),
    })),
  },
});

/** ISO-8601 UTC, whether the read model gives a Date-like ISO string or Postgres `timestamptz` text. */
const isoTime = (value: string): string => {
  const time = new Date(value.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
  return Number.isNaN(time.getTime()) ? value : time.toISOString();
};

export const toListItem = ({
  sessionId,
  teamId,
  status,
  version,
  createdAt,
}: SessionRow): SessionListItem => ({
  sessionId,
  teamId,
  status,
  version,
  createdAt: isoTime(createdAt),
});

/** The turn a message started has ended, or waits for the human (input or an approval). */
export const turnSettled = (state: Session, messageId: string): string | undefined => {
  const turnId = state.messages.find((message) => message.id === messageId)?.turnId;
  if (turnId === null || turnId === undefined) return undefined;
  if (state.turn?.turnId !== turnId) return turnId;
  return state.status === 'awaiting_input' || state.status === 'awaiting_approval' ? turnId : undefined;
};
