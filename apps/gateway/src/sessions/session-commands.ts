import type { SessionCommand } from '@agentledger/agents';
import type { Principal } from '../auth/api-key.ts';
import { IdempotencyKeyReused, Conflict } from '@agentledger/events';
import { derivedId } from './derived-ids.ts';
import { dataOf, type Key, type SessionContext } from './session-context.ts';
import type { MessageAccepted, SessionSummary, TurnResult } from './sessions.schemas.ts';
import { waitForTurn } from './wait-for-turn.ts';

export type PostMessageResult =
  | Readonly<{ outcome: 'accepted'; body: MessageAccepted }>
  | Readonly<{ outcome: 'completed'; body: TurnResult }>;

/** The commands on a running session: messages, cancel, close, approvals. */
export const sessionCommandUseCases = (context: SessionContext) => {
  const { deps, execute, loadOwn, metadataFor, matchingOrReused } = context;

  const postMessage = async (
    p: Principal,
    sessionId: string,
    { content, waitSeconds }: Readonly<{ content: string; waitSeconds?: number }>,
    key: Key,
  ): Promise<PostMessageResult> => {
    await loadOwn(p, sessionId);
    const messageId = key === undefined ? deps.newId() : derivedId('m', sessionId, key);
    const command: SessionCommand = {
      type: 'PostUserMessage',
      data: { messageId, content },
      metadata: metadataFor(p),
    };
    const result = await execute(p, sessionId, command, key);
    const received = result.events.find((event) => event.type === 'UserMessageReceived');
    const stored = dataOf<{ messageId: string; content: string }>(received);
    const known = result.state.messages.find((message) => message.id === (stored.messageId ?? messageId));
    const storedContent = received === undefined ? known?.content : stored.content;
    const version = received?.version ?? known?.version;
    if (storedContent !== content || version === undefined) throw new IdempotencyKeyReused();
    const accepted = { messageId: stored.messageId ?? messageId, version };
    if (waitSeconds === undefined || waitSeconds === 0) return { outcome: 'accepted', body: accepted };
    const turn = await waitForTurn(context, p, sessionId, accepted, waitSeconds);
    return turn === undefined
      ? { outcome: 'accepted', body: accepted }
      : { outcome: 'completed', body: turn };
  };

  const cancel = async (
    p: Principal,
    sessionId: string,
    reason: string | undefined,
    key: Key,
  ): Promise<SessionSummary> => {
    await loadOwn(p, sessionId);
    const data = reason === undefined ? {} : { reason };
    const result = await execute(p, sessionId, { type: 'CancelTurn', data, metadata: metadataFor(p) }, key);
    return matchingOrReused(p, result, key, (events) =>
      events.some(
        (event) =>
          event.type === 'TurnCancelled' &&
          dataOf<{ reason: string }>(event).reason === (reason ?? 'cancelled'),
      ),
    );
  };

  const close = async (
    p: Principal,
    sessionId: string,
    reason: string | undefined,
    key: Key,
  ): Promise<SessionSummary> => {
    await loadOwn(p, sessionId);
    const data = reason === undefined ? {} : { reason };
    const result = await execute(p, sessionId, { type: 'CloseSession', data, metadata: metadataFor(p) }, key);
    return matchingOrReused(p, result, key, (events) =>
      events.some(
        (event) => event.type === 'SessionClosed' && dataOf<{ reason: string }>(event).reason === reason,
      ),
    );
  };

  const approve = async (
    p: Principal,
    sessionId: string,
    toolCallId: string,
    { approve: granted, reason }: Readonly<{ approve: boolean; reason?: string }>,
    key: Key,
  ): Promise<SessionSummary> => {
    await loadOwn(p, sessionId);
    const command: SessionCommand = {
      type: 'DecideApproval',
      data: { toolCallId, approve: granted, actor: p.keyId, ...(reason === undefined ? {} : { reason }) },
      metadata: metadataFor(p),
    };
    const result = await execute(p, sessionId, command, key);
    const expected = granted ? 'ToolApprovalGranted' : 'ToolApprovalDenied';
    const summary = await matchingOrReused(p, result, key, (events) =>
      events.some(
        (event) => event.type === expected && dataOf<{ toolCallId: string }>(event).toolCallId === toolCallId,
      ),
    );
    const decided = result.state.toolCalls[toolCallId]?.approval;
    if (result.events.length === 0 && decided === (granted ? 'denied' : 'granted')) {
      throw new Conflict(`Tool call ${toolCallId} was already ${decided}`);
    }
    return summary;
  };

  return { postMessage, cancel, close, approve };
};
