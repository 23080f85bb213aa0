import {
  dataOf,
  type Caller,
  type Key,
  type SessionContext,
  type SessionSummary,
} from '../session-context/index.ts';

/** Closes the caller's session for good; a repeat with the key answers the same, another reason is a reused key. */
export const closeSessionUseCase = ({ execute, loadOwn, metadataFor, matchingOrReused }: SessionContext) => {
  const close = async (
    p: Caller,
    sessionId: string,
    reason: string | undefined,
    key: Key,
  ): Promise<SessionSummary> => {
    await loadOwn(p, sessionId, 'forCommand');
    const data = reason === undefined ? {} : { reason };
    const result = await execute(p, sessionId, { type: 'CloseSession', data, metadata: metadataFor(p) }, key);
    return matchingOrReused(p, result, key, (events) =>
      events.some(
        (event) => event.type === 'SessionClosed' && dataOf<{ reason: string }>(event).reason === reason,
      ),
    );
  };

  return { close };
};
