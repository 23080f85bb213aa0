import { type CommandMetadata, type Session, type SessionCommand } from '@agentledger/agents';
import { IdempotencyKeyReused, NotFound, type EventEnvelope, type EventStore } from '@agentledger/events';
import type { CheckpointSigner, CheckpointStore, SessionIndex, SessionEngine } from '@agentledger/sessions';
import type { Principal } from '../auth/api-key.ts';
import type { TeamSpecParser } from '../teams/team-spec.ts';
import type { TeamRepository } from '../teams/team-repository.port.ts';
import type { LiveEvents } from './live-events.ts';
import { toSummary } from './session-views.ts';
import type { SessionSummary } from './sessions.schemas.ts';

export type Key = string | undefined;

export type SessionsServiceDeps = Readonly<{
  store: EventStore;
  engine: SessionEngine;
  index: Pick<SessionIndex, 'list'>;
  /** The operator's team spec check, also run on an imported bundle's pinned spec. */
  parseTeamSpec: TeamSpecParser;
  teams: TeamRepository;
  clock: () => Date;
  newId: () => string;
  /** Without news, followers read again after this long. */
  pollIntervalMs: number;
  /** Wake-ups on commits; without it followers poll every `pollIntervalMs`. */
  live?: LiveEvents;
  /** Signed checkpoints (store and key) for the audit; absent: checkpoints are off. */
  audit?: Readonly<{ checkpoints: CheckpointStore; signer: CheckpointSigner }>;
  /** Ends every live stream and wait (application shutdown). */
  shutdown?: AbortSignal;
}>;

type Executed = Readonly<{ state: Session; events: readonly EventEnvelope[]; duplicate: boolean }>;

export const dataOf = <T>(event: EventEnvelope | undefined): Partial<T> => (event?.data ?? {}) as Partial<T>;

/** What the session use cases share: the ports and the few rules every command follows. */
export const createSessionContext = (deps: SessionsServiceDeps) => {
  const { store, engine, clock, newId } = deps;

  const withShutdown = (signal: AbortSignal): AbortSignal =>
    deps.shutdown === undefined ? signal : AbortSignal.any([signal, deps.shutdown]);

  /** Time and ids travel in the command; the decider never fetches them. */
  const metadataFor = (p: Principal): CommandMetadata => {
    const commandId = newId();
    return { commandId, correlationId: commandId, now: clock(), actor: p.keyId };
  };

  /** Fold, decide, append with the key (the store answers a repeat with the first append). */
  const execute = (p: Principal, sessionId: string, command: SessionCommand, key: Key) =>
    engine.handle(command, {
      tenantId: p.tenantId,
      sessionId,
      ...(key === undefined ? {} : { idempotencyKey: key }),
      metadata: {
        actor: p.keyId,
        correlationId: command.metadata.correlationId,
        ...(key === undefined ? {} : { idempotencyKey: key }),
        ...(p.traceparent === undefined ? {} : { traceparent: p.traceparent }),
      },
    });

  /** The caller's session, or 404 (another tenant's session is not found either). */
  const loadOwn = async (p: Principal, sessionId: string): Promise<Session> => {
    const state = await engine.load(p.tenantId, sessionId);
    if (state === undefined) throw new NotFound('session', sessionId);
    return state;
  };

  /**
   * Same key, same request → the same answer; same key, another request → 422. When the command
   * decided nothing (already cancelled, closed, decided), the events stored under the key decide.
   */
  const matchingOrReused = async (
    p: Principal,
    result: Executed,
    key: Key,
    matches: (events: readonly EventEnvelope[]) => boolean,
  ): Promise<SessionSummary> => {
    if (result.duplicate && !matches(result.events)) throw new IdempotencyKeyReused();
    if (result.events.length === 0 && key !== undefined) {
      const streamId = await engine.streamIdOf(p.tenantId, result.state.sessionId);
      const stream = await store.readStream(streamId, { tenantId: p.tenantId });
      const earlier = stream.filter((event) => event.metadata.idempotencyKey === key);
      if (earlier.length > 0 && !matches(earlier)) throw new IdempotencyKeyReused();
    }
    return toSummary(result.state);
  };

  return { deps, withShutdown, metadataFor, execute, loadOwn, matchingOrReused };
};

export type SessionContext = ReturnType<typeof createSessionContext>;
