import {
  dataOf,
  type Caller,
  type Key,
  type SessionContext,
  type SessionSummary,
} from '../session-context/index.ts';

/** Cancels the caller's running turn; a repeat with the key answers the same, another reason is a reused key. */
export const cancelTurnUseCase = ({ execute, loadOwn, metadataFor, matchingOrReused }: SessionContext) => {
  const cancel = async (
    p: Caller,
    sessionId: string,
    reason: string | undefined,
    key: Key,
  ): Promise<SessionSummary> => {
    await loadOwn(p, sessionId, 'forCommand');
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

  return { cancel };
};
