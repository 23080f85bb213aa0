import type { SessionCommand } from '@agentledger/agents';
import { Conflict } from '@agentledger/events';
import {
  dataOf,
  type Caller,
  type Key,
  type SessionContext,
  type SessionSummary,
} from '../session-context/index.ts';

export type ApprovalInput = Readonly<{ approve: boolean; reason?: string }>;

/**
 * Grants or denies a tool call waiting for approval; the caller's key is the actor. Deciding it
 * again the same way answers the same; the opposite decision afterwards is a Conflict.
 */
export const decideApprovalUseCase = ({
  execute,
  loadOwn,
  metadataFor,
  matchingOrReused,
}: SessionContext) => {
  const approve = async (
    p: Caller,
    sessionId: string,
    toolCallId: string,
    { approve: granted, reason }: ApprovalInput,
    key: Key,
  ): Promise<SessionSummary> => {
    await loadOwn(p, sessionId, 'forCommand');
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

  return { approve };
};
