import { type Session, type SessionCommand, type SessionEvent, type TeamSpec } from '@agentledger/agents';
import type { Principal } from '../auth/api-key.ts';
import { IdempotencyKeyReused, Conflict, NotFound, ValidationFailed } from '@agentledger/events';
import { derivedId } from './derived-ids.ts';
import type { Key, SessionContext } from './session-context.ts';
import { toSummary } from './session-views.ts';
import type { SessionSummary } from './sessions.schemas.ts';

/** Session creation and forks: the two commands that start a stream. */
export const startSessionUseCases = (context: SessionContext) => {
  const { deps, execute, loadOwn, metadataFor } = context;

  /** An existing session answers a repeated create as the first call was answered. */
  const firstAnswer = async (
    p: Principal,
    existing: Session,
    teamId: string,
    key: Key,
  ): Promise<SessionSummary> => {
    if (existing.teamId !== teamId) {
      if (key !== undefined) throw new IdempotencyKeyReused();
      throw new Conflict(`Session ${existing.sessionId} already exists with another team`);
    }
    const first = (await deps.engine.loadAt(p.tenantId, existing.sessionId, 1)) ?? existing;
    return toSummary(first);
  };

  const createSession = async (
    p: Principal,
    {
      teamId,
      sessionId: chosen,
      metadata,
    }: Readonly<{ teamId: string; sessionId?: string; metadata?: Readonly<Record<string, string>> }>,
    key: Key,
  ): Promise<SessionSummary> => {
    const team = await deps.teams.get(p.tenantId, teamId);
    if (team === undefined) throw new NotFound('team', teamId);
    const sessionId = chosen ?? (key === undefined ? deps.newId() : derivedId('s', p.tenantId, key));
    const existing = await deps.engine.load(p.tenantId, sessionId);
    if (existing !== undefined) return firstAnswer(p, existing, teamId, key);
    const command: SessionCommand = {
      type: 'StartSession',
      data: {
        sessionId,
        tenantId: p.tenantId,
        teamId,
        spec: team.spec as TeamSpec,
        ...(metadata === undefined ? {} : { metadata }),
      },
      metadata: metadataFor(p),
    };
    const result = await execute(p, sessionId, command, key);
    if (result.events.length === 0 || result.duplicate) return firstAnswer(p, result.state, teamId, key);
    return toSummary(result.state);
  };

  const fork = async (
    p: Principal,
    parentId: string,
    { atVersion, sessionId: chosen }: Readonly<{ atVersion: number; sessionId?: string }>,
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

  return { createSession, fork };
};
