import type { SessionCommand, SessionEvent } from '@agentledger/agents';
import { ValidationFailed } from '@agentledger/events';
import {
  derivedId,
  toSummary,
  type Caller,
  type Key,
  type SessionContext,
  type SessionSummary,
} from '../session-context/index.ts';

export type ForkSessionInput = Readonly<{ atVersion: number; sessionId?: string }>;

/** Starts a new session from the caller's session as it was at `atVersion`. */
export const forkSessionUseCase = ({ deps, execute, loadOwn, metadataFor }: SessionContext) => {
  const fork = async (
    p: Caller,
    parentId: string,
    { atVersion, sessionId: chosen }: ForkSessionInput,
    key: Key,
  ): Promise<SessionSummary> => {
    const parent = await loadOwn(p, parentId);
    if (atVersion > parent.version) {
      const message = `beyond the session's version ${parent.version}`;
      throw new ValidationFailed([{ in: 'body', field: 'atVersion', pointer: '#/atVersion', message }]);
    }
    const prefix = await deps.store.readStream(await deps.engine.streamIdOf(p.tenantId, parentId), {
      tenantId: p.tenantId,
      toVersion: atVersion,
    });
    const parentEvents = prefix.map((event) => ({ type: event.type, data: event.data }) as SessionEvent);
    const sessionId =
      chosen ?? (key === undefined ? deps.newId() : derivedId('f', p.tenantId, parentId, key));
    const command: SessionCommand = {
      type: 'ForkSession',
      data: { sessionId, tenantId: p.tenantId, parentSessionId: parentId, atVersion, parentEvents },
      metadata: metadataFor(p),
    };
    return toSummary((await execute(p, sessionId, command, key)).state);
  };

  return { fork };
};
