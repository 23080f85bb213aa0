import type { Session, SessionCommand, TeamSpec } from '@agentledger/agents';
import { Conflict, IdempotencyKeyReused, NotFound } from '@agentledger/events';
import {
  derivedId,
  toSummary,
  type Caller,
  type Key,
  type SessionContext,
  type SessionSummary,
} from '../session-context/index.ts';

export type StartSessionInput = Readonly<{
  teamId: string;
  sessionId?: string;
  metadata?: Readonly<Record<string, string>>;
}>;

/**
 * Starts a session of one of the tenant's teams. A repeat (same id or same key) gets the first
 * call's answer; the same id with another team is a Conflict (IdempotencyKeyReused with a key).
 */
export const startSessionUseCase = (context: SessionContext) => {
  const { deps, execute, metadataFor } = context;

  /** An existing session answers a repeated create as the first call was answered. */
  const firstAnswer = async (
    p: Caller,
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
    p: Caller,
    { teamId, sessionId: chosen, metadata }: StartSessionInput,
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

  return { createSession };
};
