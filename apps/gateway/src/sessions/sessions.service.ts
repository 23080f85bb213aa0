import {
  canonicalJson,
  sessionStreamId,
  type CommandMetadata,
  type Session,
  type SessionCommand,
  type SessionEvent,
  type TeamSpec,
} from '@agentledger/agents';
import type { EventEnvelope, EventStore } from '@agentledger/events';
import type { SessionIndex, SessionRepository } from '@agentledger/sessions';
import type { Principal } from '../auth/api-key.ts';
import {
  IdempotencyKeyReused,
  ResourceConflict,
  ResourceNotFound,
  ValidationFailed,
} from '../errors/gateway-errors.ts';
import type { TeamRepository } from '../teams/team-repository.port.ts';
import { derivedId } from './derived-ids.ts';
import { followStream } from './session-stream.ts';
import { toListItem, toMessageView, toStateView, toSummary, turnSettled } from './session-views.ts';
import type {
  AuditReport,
  MessageAccepted,
  SessionList,
  SessionStateView,
  SessionSummary,
  TurnResult,
} from './sessions.schemas.ts';

export type EventPage = Readonly<{ events: readonly EventEnvelope[]; nextAfter: number | null }>;
export type PostMessageResult =
  | Readonly<{ outcome: 'accepted'; body: MessageAccepted }>
  | Readonly<{ outcome: 'completed'; body: TurnResult }>;
type Key = string | undefined;

/** The one application service behind the REST and gRPC session endpoints. */
export type SessionsService = Readonly<{
  createSession: (
    p: Principal,
    input: { teamId: string; sessionId?: string },
    key: Key,
  ) => Promise<SessionSummary>;
  postMessage: (
    p: Principal,
    sessionId: string,
    input: Readonly<{ content: string; waitSeconds?: number }>,
    key: Key,
  ) => Promise<PostMessageResult>;
  getSession: (p: Principal, sessionId: string, atVersion?: number) => Promise<SessionStateView>;
  listSessions: (
    p: Principal,
    query: Readonly<{ status?: Session['status']; teamId?: string; limit: number; cursor?: string }>,
  ) => Promise<SessionList>;
  cancel: (p: Principal, sessionId: string, reason: string | undefined, key: Key) => Promise<SessionSummary>;
  close: (p: Principal, sessionId: string, reason: string | undefined, key: Key) => Promise<SessionSummary>;
  approve: (
    p: Principal,
    sessionId: string,
    toolCallId: string,
    input: Readonly<{ approve: boolean; reason?: string }>,
    key: Key,
  ) => Promise<SessionSummary>;
  fork: (
    p: Principal,
    sessionId: string,
    input: Readonly<{ atVersion: number; sessionId?: string }>,
    key: Key,
  ) => Promise<SessionSummary>;
  audit: (p: Principal, sessionId: string) => Promise<AuditReport>;
  listEvents: (
    p: Principal,
    sessionId: string,
    page: Readonly<{ after: number; limit: number }>,
  ) => Promise<EventPage>;
  /** Checks the session is the caller's (else 404), then yields its events after `after` and the live ones. */
  streamEvents: (
    p: Principal,
    sessionId: string,
    after: number,
    signal: AbortSignal,
  ) => Promise<AsyncIterable<EventEnvelope>>;
}>;

export type SessionsServiceDeps = Readonly<{
  store: EventStore;
  repository: SessionRepository;
  index: Pick<SessionIndex, 'list'>;
  teams: TeamRepository;
  clock: () => Date;
  newId: () => string;
  pollIntervalMs: number;
  /** Ends every live stream and wait (application shutdown). */
  shutdown?: AbortSignal;
}>;

/** Events that can settle a turn a `?wait` call is waiting for. */
const SETTLING = new Set([
  'TurnCompleted',
  'TurnCancelled',
  'TurnFailed',
  'SessionAwaitingInput',
  'ToolApprovalRequested',
  'SessionClosed',
]);

const dataOf = <T>(event: EventEnvelope | undefined): Partial<T> => (event?.data ?? {}) as Partial<T>;

export const createSessionsService = (deps: SessionsServiceDeps): SessionsService => {
  const { store, repository, index, teams, clock, newId } = deps;
  const withShutdown = (signal: AbortSignal): AbortSignal =>
    deps.shutdown === undefined ? signal : AbortSignal.any([signal, deps.shutdown]);

  const metadataFor = (p: Principal): CommandMetadata => {
    const commandId = newId();
    return { commandId, correlationId: commandId, now: clock(), actor: p.keyId };
  };

  const execute = (p: Principal, sessionId: string, command: SessionCommand, key: Key) =>
    repository.execute(p.tenantId, sessionId, command, {
      ...(key === undefined ? {} : { idempotencyKey: key }),
      metadata: {
        actor: p.keyId,
        correlationId: command.metadata.correlationId,
        ...(key === undefined ? {} : { idempotencyKey: key }),
      },
    });

  const loadOwn = async (p: Principal, sessionId: string): Promise<Session> => {
    const state = await repository.load(p.tenantId, sessionId);
    if (state === undefined) throw new ResourceNotFound('session', sessionId);
    return state;
  };

  const takenByAnotherTenant = (error: unknown, sessionId: string): unknown =>
    error instanceof Error && 'code' in error && error.code === 'STREAM_TENANT_MISMATCH'
      ? new ResourceConflict(`The session id ${JSON.stringify(sessionId)} is taken: choose another`)
      : error;

  /** An existing session answers a repeated create as the first call was answered. */
  const firstAnswer = async (
    p: Principal,
    existing: Session,
    teamId: string,
    key: Key,
  ): Promise<SessionSummary> => {
    if (existing.teamId !== teamId) {
      if (key !== undefined) throw new IdempotencyKeyReused();
      throw new ResourceConflict(`Session ${existing.sessionId} already exists with another team`);
    }
    const first = (await repository.loadAt(p.tenantId, existing.sessionId, 1)) ?? existing;
    return toSummary(first);
  };

  const waitForTurn = async (p: Principal, sessionId: string, accepted: MessageAccepted, seconds: number) => {
    const signal = withShutdown(AbortSignal.timeout(seconds * 1000));
    const settledResult = (state: Session): TurnResult | undefined => {
      const turnId = turnSettled(state, accepted.messageId);
      if (turnId === undefined) return undefined;
      const messages = state.messages.filter((message) => message.turnId === turnId).map(toMessageView);
      return { status: state.status, messages };
    };
    const now = settledResult(await loadOwn(p, sessionId));
    if (now !== undefined) return now;
    const events = followStream(store, {
      tenantId: p.tenantId,
      streamId: sessionStreamId(sessionId),
      after: accepted.version,
      signal,
      pollIntervalMs: deps.pollIntervalMs,
    });
    for await (const event of events) {
      if (!SETTLING.has(event.type)) continue;
      const result = settledResult(await loadOwn(p, sessionId));
      if (result !== undefined) return result;
    }
    return undefined;
  };

  /**
   * Same key, same request → the same answer; same key, another request → 422. When the command
   * decided nothing (already cancelled, closed, decided), the events stored under the key decide.
   */
  const matchingOrReused = async (
    p: Principal,
    result: Readonly<{ state: Session; events: readonly EventEnvelope[]; duplicate: boolean }>,
    key: Key,
    matches: (events: readonly EventEnvelope[]) => boolean,
  ): Promise<SessionSummary> => {
    if (result.duplicate && !matches(result.events)) throw new IdempotencyKeyReused();
    if (result.events.length === 0 && key !== undefined) {
      const stream = await store.readStream(sessionStreamId(result.state.sessionId), {
        tenantId: p.tenantId,
      });
      const earlier = stream.filter((event) => event.metadata.idempotencyKey === key);
      if (earlier.length > 0 && !matches(earlier)) throw new IdempotencyKeyReused();
    }
    return toSummary(result.state);
  };

  return {
    createSession: async (p, { teamId, sessionId: chosen }, key) => {
      const team = await teams.get(p.tenantId, teamId);
      if (team === undefined) throw new ResourceNotFound('team', teamId);
      const sessionId = chosen ?? (key === undefined ? newId() : derivedId('s', p.tenantId, key));
      const existing = await repository.load(p.tenantId, sessionId);
      if (existing !== undefined) return firstAnswer(p, existing, teamId, key);
      const command: SessionCommand = {
        type: 'StartSession',
        data: { sessionId, tenantId: p.tenantId, teamId, spec: team.spec as TeamSpec },
        metadata: metadataFor(p),
      };
      try {
        const result = await execute(p, sessionId, command, key);
        if (result.events.length === 0 || result.duplicate) return firstAnswer(p, result.state, teamId, key);
        return toSummary(result.state);
      } catch (error) {
        throw takenByAnotherTenant(error, sessionId);
      }
    },

    postMessage: async (p, sessionId, { content, waitSeconds }, key) => {
      await loadOwn(p, sessionId);
      const messageId = key === undefined ? newId() : derivedId('m', sessionId, key);
      const command: SessionCommand = {
        type: 'PostUserMessage',
        data: { messageId, content },
        metadata: metadataFor(p),
      };
      const result = await execute(p, sessionId, command, key);
      const received = result.events.find((event) => event.type === 'UserMessageReceived');
      const stored = dataOf<{ messageId: string; content: string }>(received);
      const known = result.state.messages.find((message) => message.id === (stored.messageId ?? messageId));
      const storedContent = received === undefined ? known?.content : stored.content;
      const version = received?.version ?? known?.version;
      if (storedContent !== content || version === undefined) throw new IdempotencyKeyReused();
      const accepted = { messageId: stored.messageId ?? messageId, version };
      if (waitSeconds === undefined || waitSeconds === 0) return { outcome: 'accepted', body: accepted };
      const turn = await waitForTurn(p, sessionId, accepted, waitSeconds);
      return turn === undefined
        ? { outcome: 'accepted', body: accepted }
        : { outcome: 'completed', body: turn };
    },

    getSession: async (p, sessionId, atVersion) => {
      const head = await loadOwn(p, sessionId);
      if (atVersion === undefined) return toStateView(head);
      if (atVersion > head.version) {
        throw new ValidationFailed([
          { in: 'query', field: 'at', message: `beyond the session's version ${head.version}` },
        ]);
      }
      return toStateView((await repository.loadAt(p.tenantId, sessionId, atVersion)) ?? head);
    },

    listSessions: async (p, { status, teamId, limit, cursor }) => {
      try {
        const page = await index.list({
          tenantId: p.tenantId,
          limit,
          ...(status === undefined ? {} : { status }),
          ...(teamId === undefined ? {} : { teamId }),
          ...(cursor === undefined ? {} : { cursor }),
        });
        return { items: page.items.map(toListItem), nextCursor: page.nextCursor };
      } catch (error) {
        if (error instanceof Error && 'code' in error && error.code === 'INVALID_CURSOR') {
          throw new ValidationFailed([
            { in: 'query', field: 'cursor', message: 'not a cursor this server issued' },
          ]);
        }
        throw error;
      }
    },

    cancel: async (p, sessionId, reason, key) => {
      await loadOwn(p, sessionId);
      const command: SessionCommand = {
        type: 'CancelTurn',
        data: reason === undefined ? {} : { reason },
        metadata: metadataFor(p),
      };
      const result = await execute(p, sessionId, command, key);
      return matchingOrReused(p, result, key, (events) =>
        events.some(
          (event) =>
            event.type === 'TurnCancelled' &&
            dataOf<{ reason: string }>(event).reason === (reason ?? 'cancelled'),
        ),
      );
    },

    close: async (p, sessionId, reason, key) => {
      await loadOwn(p, sessionId);
      const command: SessionCommand = {
        type: 'CloseSession',
        data: reason === undefined ? {} : { reason },
        metadata: metadataFor(p),
      };
      const result = await execute(p, sessionId, command, key);
      return matchingOrReused(p, result, key, (events) =>
        events.some(
          (event) => event.type === 'SessionClosed' && dataOf<{ reason: string }>(event).reason === reason,
        ),
      );
    },

    approve: async (p, sessionId, toolCallId, { approve, reason }, key) => {
      await loadOwn(p, sessionId);
      const command: SessionCommand = {
        type: 'DecideApproval',
        data: { toolCallId, approve, actor: p.keyId, ...(reason === undefined ? {} : { reason }) },
        metadata: metadataFor(p),
      };
      const result = await execute(p, sessionId, command, key);
      const expected = approve ? 'ToolApprovalGranted' : 'ToolApprovalDenied';
      const summary = await matchingOrReused(p, result, key, (events) =>
        events.some(
          (event) =>
            event.type === expected && dataOf<{ toolCallId: string }>(event).toolCallId === toolCallId,
        ),
      );
      const decided = result.state.toolCalls[toolCallId]?.approval;
      if (result.events.length === 0 && decided === (approve ? 'denied' : 'granted')) {
        throw new ResourceConflict(`Tool call ${toolCallId} was already ${decided}`);
      }
      return summary;
    },

    fork: async (p, parentId, { atVersion, sessionId: chosen }, key) => {
      const parent = await loadOwn(p, parentId);
      if (atVersion > parent.version) {
        throw new ValidationFailed([
          {
            in: 'body',
            field: 'atVersion',
            pointer: '#/atVersion',
            message: `beyond the session's version ${parent.version}`,
          },
        ]);
      }
      const prefix = await store.readStream(sessionStreamId(parentId), {
        tenantId: p.tenantId,
        toVersion: atVersion,
      });
      const parentEvents = prefix.map((event) => ({ type: event.type, data: event.data }) as SessionEvent);
      const sessionId = chosen ?? (key === undefined ? newId() : derivedId('f', p.tenantId, parentId, key));
      const command: SessionCommand = {
        type: 'ForkSession',
        data: { sessionId, tenantId: p.tenantId, parentSessionId: parentId, atVersion, parentEvents },
        metadata: metadataFor(p),
      };
      try {
        return toSummary((await execute(p, sessionId, command, key)).state);
      } catch (error) {
        throw takenByAnotherTenant(error, sessionId);
      }
    },

    audit: async (p, sessionId) => {
      const verified = await store.verifyStream(sessionStreamId(sessionId), { tenantId: p.tenantId });
      if (verified.eventCount === 0) throw new ResourceNotFound('session', sessionId);
      const replayed = await repository.loadAt(p.tenantId, sessionId, verified.eventCount);
      const current = await repository.load(p.tenantId, sessionId);
      return {
        eventCount: verified.eventCount,
        headHash: verified.headHash,
        hashChainValid: verified.valid,
        replayMatches:
          replayed !== undefined &&
          current !== undefined &&
          canonicalJson(replayed) === canonicalJson(current),
      };
    },

    listEvents: async (p, sessionId, { after, limit }) => {
      const events = await store.readStream(sessionStreamId(sessionId), {
        tenantId: p.tenantId,
        fromVersion: after + 1,
        limit: limit + 1,
      });
      if (events.length === 0) await loadOwn(p, sessionId);
      const page = events.slice(0, limit);
      return { events: page, nextAfter: events.length > limit ? (page.at(-1)?.version ?? null) : null };
    },

    streamEvents: async (p, sessionId, after, signal) => {
      await loadOwn(p, sessionId);
      return followStream(store, {
        tenantId: p.tenantId,
        streamId: sessionStreamId(sessionId),
        after,
        signal: withShutdown(signal),
        pollIntervalMs: deps.pollIntervalMs,
      });
    },
  };
};
