import type { EventEnvelope } from '@agentledger/events';

/**
 * Which trace a session's work belongs to, followed as its events are folded: the trace of the
 * user message the running turn answers (a queued message's trace waits for its `TurnStarted`),
 * else the trace of the last event. Not part of the session state: replay never sees it.
 */
export type TurnTrace = Readonly<{
  last?: string | undefined;
  turn?: string | undefined;
  /** `traceparent` of user messages whose turn has not started, by message id. */
  queued: ReadonlyMap<string, string>;
}>;

export const NO_TRACE: TurnTrace = { queued: new Map() };

const messageIdOf = (event: EventEnvelope): string | undefined => {
  const { messageId } = (event.data ?? {}) as { messageId?: unknown };
  return typeof messageId === 'string' ? messageId : undefined;
};

export const followTrace = (trace: TurnTrace, event: EventEnvelope): TurnTrace => {
  const last = event.metadata.traceparent;
  const messageId = messageIdOf(event);
  if (event.type === 'UserMessageReceived' && last !== undefined && messageId !== undefined)
    return { ...trace, last, queued: new Map(trace.queued).set(messageId, last) };
  if (event.type === 'TurnStarted' && messageId !== undefined) {
    const queued = new Map(trace.queued);
    const turn = queued.get(messageId) ?? last;
    queued.delete(messageId);
    return { last, turn, queued };
  }
  return { ...trace, last };
};

/** The `traceparent` the session's next step continues, if known. */
export const traceToContinue = (trace: TurnTrace): string | undefined => trace.turn ?? trace.last;
