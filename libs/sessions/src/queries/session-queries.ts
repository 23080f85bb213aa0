import { NotFound, ValidationFailed, type EventEnvelope } from '@agentledger/events';
import { auditSession } from '../audit/audit-session.ts';
import type { CheckpointProblem } from '../audit/checkpoints.ts';
import { InvalidCursor } from '../errors.ts';
import { followStream, withDeltas, type StreamItem } from '../live/follow-stream.ts';
import type { ListSessionsQuery } from '../session-index.ts';
import {
  toListItem,
  toStateView,
  type Caller,
  type SessionContext,
  type SessionList,
  type SessionStateView,
} from '../session-context/index.ts';

export type EventPage = Readonly<{ events: readonly EventEnvelope[]; nextAfter: number | null }>;

export type ListSessionsInput = Omit<ListSessionsQuery, 'tenantId'>;

/**
 * The audit as the edges answer it: the verdicts, without the replay's working data (its own
 * type, not `Omit<SessionAudit, 'replay'>`: the edges' response schemas want mutable arrays).
 */
export type AuditView = Readonly<{
  eventCount: number;
  headHash: string;
  hashChainValid: boolean;
  firstBrokenVersion: number | null;
  replayMatches: boolean;
  firstDivergentVersion: number | null;
  checkpoints: Readonly<{
    enabled: boolean;
    signed: number;
    lastVerified: number | null;
    valid: boolean;
    problems: CheckpointProblem[];
  }>;
  specHash: string | null;
  models: string[];
  tokens: Readonly<{ prompt: number; completion: number; total: number }>;
}>;

async function* mapEvents(events: AsyncIterable<EventEnvelope>): AsyncGenerator<StreamItem> {
  for await (const event of events) yield { kind: 'event', event };
}

/** Reads: state (now or as of a version), lists, events, live streams, audit. */
export const sessionQueriesUseCase = ({ deps, loadOwn, withShutdown }: SessionContext) => {
  const { store, engine } = deps;

  const getSession = async (p: Caller, sessionId: string, atVersion?: number): Promise<SessionStateView> => {
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
    p: Caller,
    { status, teamId, createdAfter, createdBefore, limit, cursor }: ListSessionsInput,
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
      if (!(error instanceof InvalidCursor)) throw error;
      throw new ValidationFailed([
        { in: 'query', field: 'cursor', message: 'not a cursor this server issued' },
      ]);
    }
  };

  /** Chain, signed checkpoints and decision replay (auditSession). */
  const audit = async (p: Caller, sessionId: string): Promise<AuditView> => {
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
    p: Caller,
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

  /** Checks the session is the caller's (else NotFound), then yields its events after `after` and the live ones. */
  const streamEvents = async (
    p: Caller,
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

  /** `streamEvents` with the session's model output merged in as it streams (SSE, gRPC). */
  const streamSession = async (
    p: Caller,
    sessionId: string,
    after: number,
    signal: AbortSignal,
  ): Promise<AsyncIterable<StreamItem>> => {
    const events = await streamEvents(p, sessionId, after, signal);
    const { deltas } = deps;
    if (deltas === undefined) return mapEvents(events);
    return withDeltas(events, (handler) => deltas.watch(p.tenantId, sessionId, handler));
  };

  return { getSession, listSessions, audit, listEvents, streamEvents, streamSession };
};
