import type { SessionCommand } from '@agentledger/agents';
import { IdempotencyKeyReused } from '@agentledger/events';
import {
  dataOf,
  derivedId,
  type Caller,
  type Key,
  type MessageAccepted,
  type SessionContext,
  type TurnResult,
} from '../session-context/index.ts';
import { waitForTurn } from './wait-for-turn.ts';

export type PostMessageInput = Readonly<{ content: string; waitSeconds?: number }>;

export type PostMessageResult =
  | Readonly<{ outcome: 'accepted'; body: MessageAccepted }>
  | Readonly<{ outcome: 'completed'; body: TurnResult }>;

/**
 * A user message to the caller's session; with `waitSeconds`, the turn's outcome when it settles
 * in time. A key names the message, so a retry is the same message (another content: reused key).
 */
export const postMessageUseCase = (context: SessionContext) => {
  const { deps, execute, loadOwn, metadataFor } = context;

  const postMessage = async (
    p: Caller,
    sessionId: string,
    { content, waitSeconds }: PostMessageInput,
    key: Key,
  ): Promise<PostMessageResult> => {
    const before = await loadOwn(p, sessionId, 'forCommand');
    const messageId = key === undefined ? deps.newId() : derivedId('m', sessionId, key);
    const command: SessionCommand = {
      type: 'PostUserMessage',
      data: { messageId, content },
      metadata: metadataFor(p),
    };
    // A `?wait` watches the stream before the append: every event after it reaches the watch, so
    // the wait reads nothing until the orchestrator has written.
    const waiting = waitSeconds !== undefined && waitSeconds > 0;
    const watching = waiting
      ? deps.live?.watch(await deps.engine.streamIdOf(p.tenantId, sessionId), before.version)
      : undefined;
    try {
      const result = await execute(p, sessionId, command, key);
      const received = result.events.find((event) => event.type === 'UserMessageReceived');
      const stored = dataOf<{ messageId: string; content: string }>(received);
      const known = result.state.messages.find((message) => message.id === (stored.messageId ?? messageId));
      const storedContent = received === undefined ? known?.content : stored.content;
      const version = received?.version ?? known?.version;
      if (storedContent !== content || version === undefined) throw new IdempotencyKeyReused();
      const accepted = { messageId: stored.messageId ?? messageId, version };
      if (!waiting) return { outcome: 'accepted', body: accepted };
      const turn = await waitForTurn(context, p, result.state, accepted, waitSeconds, watching);
      return turn === undefined
        ? { outcome: 'accepted', body: accepted }
        : { outcome: 'completed', body: turn };
    } catch (error) {
      watching?.cancel();
      throw error;
    }
  };

  return { postMessage };
};
