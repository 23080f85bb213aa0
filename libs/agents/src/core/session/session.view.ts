import type { TerminationPolicy } from '../spec/termination.schema.ts';
import { effectiveTermination } from '../team/termination.ts';
import type { PendingView, Session, SessionStatus } from './session.state.ts';

/** The body of `GET /v1/sessions/{id}` (docs/api.md), derived from state. */
export type SessionView = Readonly<{
  sessionId: string;
  teamId: string;
  status: SessionStatus;
  version: number;
  messages: readonly Readonly<{
    id: string;
    version: number;
    source: string;
    role: 'user' | 'assistant';
    content: string;
  }>[];
  usage: Readonly<{ promptTokens: number; completionTokens: number }>;
  pending: PendingView;
}>;

export const toSessionView = (state: Session): SessionView => ({
  sessionId: state.sessionId,
  teamId: state.teamId,
  status: state.status,
  version: state.version,
  messages: state.messages.map(({ id, version, source, role, content }) => ({
    id,
    version,
    source,
    role,
    content,
  })),
  usage: state.usage,
  pending: state.pending,
});

/** Seconds after which a condition surely fires on time alone (an `all_of` never does by itself). */
const timeoutSeconds = (policy: TerminationPolicy): number | null => {
  switch (policy.kind) {
    case 'timeout':
      return policy.seconds;
    case 'any_of': {
      const all = policy.conditions.map(timeoutSeconds).filter((s): s is number => s !== null);
      return all.length > 0 ? Math.min(...all) : null;
    }
    default:
      return null;
  }
};

/**
 * When the running turn's timeout fires (ISO time), if it has one: the orchestrator's watchdog sends
 * `CheckTimeout` then, since time enters the log only through commands.
 */
export const turnDeadline = (state: Session): string | null => {
  if (!state.turn || !state.spec) return null;
  const policy = effectiveTermination(state.spec);
  const seconds = policy ? timeoutSeconds(policy) : null;
  return seconds === null ? null : new Date(Date.parse(state.turn.startedAt) + seconds * 1000).toISOString();
};

/**
 * The session's nearest deadline (ISO time): its turn's timeout or a pending approval's deadline.
 * The host arms one timer for it and sends `CheckTimeout` then; derived from state alone, so any
 * replica that loads the session after a restart re-arms the same deadline.
 */
export const nextDeadline = (state: Session): string | null => {
  const turn = state.turn;
  if (!turn || state.closed) return null;
  const approvals = turn.batch.flatMap((id) => {
    const tool = state.toolCalls[id];
    return tool?.status === 'pending' && tool.approval === 'requested' && tool.approvalExpiresAt
      ? [tool.approvalExpiresAt]
      : [];
  });
  const all = [turnDeadline(state), ...approvals].filter((at): at is string => at !== null);
  return all.length === 0 ? null : all.reduce((a, b) => (Date.parse(a) <= Date.parse(b) ? a : b));
};
