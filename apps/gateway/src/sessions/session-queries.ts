import type { Session } from '@agentledger/agents';
import { NotFound, ValidationFailed, type EventEnvelope } from '@agentledger/events';
import { auditSession } from '@agentledger/sessions';
import type { Principal } from '../auth/api-key.ts';
import type { SessionContext } from './session-context.ts';
import { followStream } from './session-stream.ts';
import { toListItem, toStateView } from './session-views.ts';
import type { AuditReport, SessionList, SessionStateView } from './sessions.schemas.ts';

export type EventPage = Readonly<{ events: readonly EventEnvelope[]; nextAfter: number | null }>;

const isInvalidCursor = (error: unknown): boolean =>
  error instanceof Error && 'code' in error && error.code === 'INVALID_CURSOR';

/** Reads: state (now or as of a version), lists, events, live streams, audit. */
export const sessionQueryUseCases = ({ deps, loadOwn, withShutdown }: SessionContext) => {
  const { store, engine } = deps;

  const getSession = async (
    p: Principal,
    sessionId: string,
    atVersion?: number,
  ): Promise<SessionStateView> => {
    const head = await loadOwn(p, sessionId);
    if (atVersion === undefined) return toStateView(head);
    if (atVersion > head.version) {
      throw new ValidationFailed([
        { in: 'query', field: 'at', message: `beyond the session's version ${head.version}` },
      ]);
    }
    return toStateView((await engine.loadAt(p.tenantId, sessionId, atVersion)) ?? head);
  };

  const listSessions = async (
    p: Principal,
    {
      status,
      teamId,
      createdAfter,
      createdBefore,
      limit,
      cursor,
    }: Readonly<{
      status?: Session['status'];
      teamId?: string;
      createdAfter?: Date;
      createdBefore?: Date;
      limit: number;
      cursor?: string;
    }>,
  ): Promise<SessionList> => {
    try {
      const page = await deps.index.list({
        tenantId: p.tenantId,
        limit,
        ...(status === undefined ? {} : { status }),
        ...(teamId === undefined ? {} : { teamId }),
        ...(createdAfter === undefined ? {} : { createdAfter }),
        ...(createdBefore === undefined ? {} : { createdBefore }),
        ...(cursor === undefined ? {} : { cursor }),
      });
      return { items: page.items.map(toListItem), nextCursor: page.nextCursor };
    } catch (error) {
      if (!isInvalidCursor(error)) throw error;
      throw new ValidationFailed([
        { in: 'query', field: 'cursor', message: 'not a cursor this server issued' },
      ]);
    }
  };

  /** Chain, signed checkpoints and decision replay (libs/sessions' auditSession). */
  const audit = async (p: Principal, sessionId: string): Promise<AuditReport> => {
    const streamId = await engine.streamIdOf(p.tenantId, sessionId);
    const report = await auditSession(
      { store, ...(deps.audit === undefined ? {} : deps.audit) },
      p.tenantId,
      streamId,
    );
    if (report.eventCount === 0) throw new NotFound('session', sessionId);
    return {
      eventCount: report.eventCount,
      headHash: report.headHash,
      hashChainValid: report.hashChainValid,
      firstBrokenVersion: report.firstBrokenVersion,
      replayMatches: report.replayMatches,
      firstDivergentVersion: report.firstDivergentVersion,
      checkpoints: {
        enabled: report.checkpoints.enabled,
        signed: report.checkpoints.signed,
        lastVerified: report.checkpoints.lastVerified,
        valid: report.checkpoints.valid,
        problems: report.checkpoints.problems.map(({ version, reason, message }) => ({
          version,
          reason,
          message,
        })),
      },
      specHash: report.specHash,
      models: [...report.models],
      tokens: report.tokens,
    };
  };

  const listEvents = async (
    p: Principal,
    sessionId: string,
    { after, limit }: Readonly<{ after: number; limit: number }>,
  ): Promise<EventPage> => {
    const events = await store.readStream(await engine.streamIdOf(p.tenantId, sessionId), {
      tenantId: p.tenantId,
      fromVersion: after + 1,
      limit: limit + 1,
    });
    if (events.length === 0) await loadOwn(p, sessionId);
    const page = events.slice(0, limit);
    return { events: page, nextAfter: events.length > limit ? (page.at(-1)?.version ?? null) : null };
  };

  /** Checks the session is the caller's (else 404), then yields its events after `after` and the live ones. */
  const streamEvents = async (
    p: Principal,
    sessionId: string,
    after: number,
    signal: AbortSignal,
  ): Promise<AsyncIterable<EventEnvelope>> => {
    await loadOwn(p, sessionId);
    return followStream(store, {
      tenantId: p.tenantId,
      streamId: await engine.streamIdOf(p.tenantId, sessionId),
      after,
      signal: withShutdown(signal),
      pollIntervalMs: deps.pollIntervalMs,
      ...(deps.live === undefined ? {} : { live: deps.live }),
    });
  };

  return { getSession, listSessions, audit, listEvents, streamEvents };
};
