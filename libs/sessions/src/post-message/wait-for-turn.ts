import { evolve, type Session, type SessionEvent } from '@agentledger/agents';
import { followStream } from '../live/follow-stream.ts';
import type { Watch } from '../live/live-events.ts';
import {
  toMessageView,
  turnSettled,
  type Caller,
  type MessageAccepted,
  type SessionContext,
  type TurnResult,
} from '../session-context/index.ts';

/** Events that can settle a turn a `?wait` call is waiting for. */
const SETTLING = new Set([
  'TurnCompleted',
  'TurnCancelled',
  'TurnFailed',
  'SessionAwaitingInput',
  'ToolApprovalRequested',
  'SessionClosed',
]);

const settledResult = (state: Session, messageId: string): TurnResult | undefined => {
  const turnId = turnSettled(state, messageId);
  if (turnId === undefined) return undefined;
  const messages = state.messages.filter((message) => message.turnId === turnId).map(toMessageView);
  return { status: state.status, messages };
};

/**
 * The outcome of the turn the accepted message started (its messages and the session status) once
 * the turn ends or waits for the human; undefined at the deadline. `since`: the session as the
 * message's append left it; `watching`: a live watch of its stream registered before that append
 * (then nothing is read until it has news), cancelled when the wait ends.
 */
export const waitForTurn = async (
  context: SessionContext,
  p: Caller,
  since: Session,
  accepted: MessageAccepted,
  seconds: number,
  watching?: Watch,
): Promise<TurnResult | undefined> => {
  // No load: the followed events are folded into the state the append returned (versions are
  // contiguous after its own).
  let state = since;
  const { sessionId } = since;
  const now = settledResult(state, accepted.messageId);
  if (now !== undefined) {
    watching?.cancel();
    return now;
  }
  const events = followStream(context.deps.store, {
    tenantId: p.tenantId,
    streamId: await context.deps.engine.streamIdOf(p.tenantId, sessionId),
    after: state.version,
    signal: context.withShutdown(AbortSignal.timeout(seconds * 1000)),
    pollIntervalMs: context.deps.pollIntervalMs,
    ...(context.deps.live === undefined ? {} : { live: context.deps.live }),
    ...(watching === undefined ? {} : { watching }),
  });
  for await (const event of events) {
    state = evolve(state, event as unknown as SessionEvent);
    if (!SETTLING.has(event.type)) continue;
    const result = settledResult(state, accepted.messageId);
    if (result !== undefined) return result;
  }
  return undefined;
};
