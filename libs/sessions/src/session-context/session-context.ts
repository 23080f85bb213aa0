import type { CommandMetadata, Session, SessionCommand } from '@agentledger/agents';
import { IdempotencyKeyReused, NotFound, type EventEnvelope, type EventStore } from '@agentledger/events';
import type { CheckpointSigner, CheckpointStore } from '../audit/checkpoints.ts';
import type { SessionEngine } from '../engine/session-engine.ts';
import type { LiveDeltas } from '../live/live-deltas.ts';
import type { LiveEvents } from '../live/live-events.ts';
import type { SessionIndex } from '../session-index.ts';
import { toSummary, type SessionSummary } from './session-views.ts';

/**
 * Who asks: every read and write is scoped by its tenant; `keyId` is recorded as the actor and a
 * valid W3C `traceparent` travels into the events the call causes. (The gateway's principal.)
 */
export type Caller = Readonly<{ tenantId: string; keyId: string; traceparent?: string }>;

/** An idempotency key, when the caller sent one. */
export type Key = string | undefined;

/** Why a team spec was refused (a path into the spec and a message). */
export type SpecIssue = Readonly<{ path: string; message: string }>;

/** The outcome of the operator's team spec check. */
export type SpecCheck = Readonly<{ ok: true }> | Readonly<{ ok: false; issues: readonly SpecIssue[] }>;

/** The tenant's team specs, as the use cases read them. */
export type TeamSpecs = Readonly<{
  get: (tenantId: string, teamId: string) => Promise<Readonly<{ spec: unknown }> | undefined>;
}>;

/** The ports the session use cases run on; the composition root supplies them. */
export type SessionUseCaseDeps = Readonly<{
  store: EventStore;
  engine: SessionEngine;
  index: Pick<SessionIndex, 'list'>;
  /** The operator's team spec check, also run on an imported bundle's pinned spec. */
  parseTeamSpec: (spec: unknown) => SpecCheck | Promise<SpecCheck>;
  teams: TeamSpecs;
  clock: () => Date;
  newId: () => string;
  /** Without news, followers read again after this long. */
  pollIntervalMs: number;
  /** Wake-ups on commits; without it followers poll every `pollIntervalMs`. */
  live?: LiveEvents;
  /** Model output as it streams, merged into live streams; absent: they carry events only. */
  deltas?: LiveDeltas;
  /** Signed checkpoints (store and key) for the audit; absent: checkpoints are off. */
  audit?: Readonly<{ checkpoints: CheckpointStore; signer: CheckpointSigner }>;
  /** Ends every live stream and wait (application shutdown). */
  shutdown?: AbortSignal;
}>;

type Executed = Readonly<{ state: Session; events: readonly EventEnvelope[]; duplicate: boolean }>;

export const dataOf = <T>(event: EventEnvelope | undefined): Partial<T> => (event?.data ?? {}) as Partial<T>;

/** What the session use cases share: the ports and the few rules every command follows. */
export const createSessionContext = (deps: SessionUseCaseDeps) => {
  const { store, engine, clock, newId } = deps;

  const withShutdown = (signal: AbortSignal): AbortSignal =>
    deps.shutdown === undefined ? signal : AbortSignal.any([signal, deps.shutdown]);

  /** Time and ids travel in the command; the decider never fetches them. */
  const metadataFor = (p: Caller): CommandMetadata => {
    const commandId = newId();
    return { commandId, correlationId: commandId, now: clock(), actor: p.keyId };
  };

  /**
   * Fold, decide, append with the key (the store answers a repeat with the first append). Use
   * cases load the session first (`loadOwn`: the tenant's own, else NotFound), so the engine
   * decides on that fold without reading again.
   */
  const execute = (p: Caller, sessionId: string, command: SessionCommand, key: Key) =>
    engine.handle(command, {
      tenantId: p.tenantId,
      sessionId,
      fresh: true,
      ...(key === undefined ? {} : { idempotencyKey: key }),
      metadata: {
        actor: p.keyId,
        correlationId: command.metadata.correlationId,
        ...(key === undefined ? {} : { idempotencyKey: key }),
        ...(p.traceparent === undefined ? {} : { traceparent: p.traceparent }),
      },
    });

  /**
   * The caller's session, or NotFound (another tenant's session is not found either). Before a
   * command (`forCommand`), a cached session as it is: the command's append carries the version it
   * decided on, so a cache that is behind is refused and the retry reads the store.
   */
  const loadOwn = async (p: Caller, sessionId: string, use?: 'forCommand'): Promise<Session> => {
    const state = await engine.load(
      p.tenantId,
      sessionId,
      use === undefined ? undefined : { forCommand: true },
    );
    if (state === undefined) throw new NotFound('session', sessionId);
    return state;
  };

  /**
   * Same key, same request → the same answer; same key, another request → IdempotencyKeyReused.
   * When the command decided nothing (already cancelled, closed, decided), the events stored under
   * the key decide.
   */
  const matchingOrReused = async (
    p: Caller,
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
