import {
  evolve,
  foldSession,
  hasRunnableWork,
  initialSession,
  sessionDecider,
  sessionStreamId,
  type Session,
  type SessionCommand,
  type SessionEvent,
} from '@agentledger/agents';
import {
  StreamVersionConflict,
  type AppendResult,
  type EventEnvelope,
  type EventMetadata,
  type EventStore,
} from '@agentledger/events';
import { partitionForKey } from '@agentledger/events/bus';
import type { Lease, SessionIndex, SessionProjection } from './session-index.ts';

export type SessionRepositoryDeps<Tx> = Readonly<{
  store: EventStore<Tx>;
  index: SessionIndex<Tx>;
  /** Partitions of the session-events topic: the read model records each session's partition. */
  partitions: number;
  /** Folded sessions kept in memory (LRU), caught up from their version on the next load. */
  cacheSize?: number;
  /** Snapshot long streams every this many events (default 200). */
  snapshotEvery?: number;
}>;

export type ExecuteOptions = Readonly<{
  /** A worker's lease: the append is fenced by its epoch. */
  lease?: Lease;
  /** The same key on the same session returns the first result and writes nothing. */
  idempotencyKey?: string;
  metadata?: EventMetadata;
}>;

export type ExecuteResult = Readonly<{
  /** The session after the command (after the first append, for an idempotent duplicate). */
  state: Session;
  /** The events the command appended (the first append's, for a duplicate); empty when it decided nothing. */
  events: readonly EventEnvelope[];
  duplicate: boolean;
}>;

export type SessionRepository = Readonly<{
  /** The folded session, or undefined when the tenant has no such session. */
  load: (tenantId: string, sessionId: string) => Promise<Session | undefined>;
  /** The session as of `version` (a prefix of its history), folded without snapshots or cache. */
  loadAt: (tenantId: string, sessionId: string, version: number) => Promise<Session | undefined>;
  /**
   * Folds, decides, appends with the folded version as the expected version (and the lease epoch
   * as fencing token), and updates the read model in the same transaction. A version conflict
   * re-folds and re-decides; a lost lease throws `LeaseLost` and writes nothing.
   */
  execute: (
    tenantId: string,
    sessionId: string,
    command: SessionCommand,
    options?: ExecuteOptions,
  ) => Promise<ExecuteResult>;
  /** What the read model holds for a session in `state` (no tokens recorded). */
  projectionOf: (state: Session) => SessionProjection;
}>;

const SNAPSHOT_TAG = 'session-v1';
const MAX_CONFLICT_RETRIES = 30;
/** Jittered and growing, so writers racing on one session spread out instead of colliding again. */
const conflictBackoff = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(100, 2 ** attempt)));

const evolveEnvelope = (state: Session, event: EventEnvelope): Session =>
  evolve(state, event as unknown as SessionEvent);

export const createSessionRepository = <Tx>(deps: SessionRepositoryDeps<Tx>): SessionRepository => {
  const cache = new Map<string, Session>();
  const cacheSize = deps.cacheSize ?? 1000;
  const remember = (state: Session): void => {
    cache.delete(state.sessionId);
    cache.set(state.sessionId, state);
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
  };

  const load = async (tenantId: string, sessionId: string): Promise<Session | undefined> => {
    const streamId = sessionStreamId(sessionId);
    const cached = cache.get(sessionId);
    let state: Session;
    if (cached && cached.tenantId === tenantId) {
      const newer = await deps.store.readStream(streamId, { tenantId, fromVersion: cached.version + 1 });
      state = newer.reduce(evolveEnvelope, cached);
    } else {
      ({ state } = await deps.store.aggregate(streamId, evolveEnvelope, initialSession(), {
        tenantId,
        snapshotEvery: deps.snapshotEvery ?? 200,
        schemaTag: SNAPSHOT_TAG,
      }));
    }
    if (state.version === 0) return undefined;
    remember(state);
    return state;
  };

  const projectionOf = (state: Session): SessionProjection => ({
    tenantId: state.tenantId,
    sessionId: state.sessionId,
    teamId: state.teamId,
    status: state.status,
    version: state.version,
    pendingWork: hasRunnableWork(state),
    partition: partitionForKey(state.sessionId, deps.partitions),
    tokensUsed: 0,
  });

  const tokensIn = (events: readonly SessionEvent[]): number =>
    events.reduce(
      (sum, event) =>
        event.type === 'ModelCallCompleted'
          ? sum + event.data.usage.promptTokens + event.data.usage.completionTokens
          : sum,
      0,
    );

  /** An idempotent duplicate ran no projection: its events (the first append's) are read back. */
  const firstAppend = async (tenantId: string, result: AppendResult): Promise<readonly EventEnvelope[]> => {
    if (result.versions.length === 0) return [];
    return deps.store.readStream(result.streamId, {
      tenantId,
      fromVersion: result.versions[0],
      toVersion: result.versions.at(-1),
    });
  };

  const execute = async (
    tenantId: string,
    sessionId: string,
    command: SessionCommand,
    options: ExecuteOptions = {},
  ): Promise<ExecuteResult> => {
    const streamId = sessionStreamId(sessionId);
    for (let attempt = 0; ; attempt += 1) {
      const before = (await load(tenantId, sessionId)) ?? initialSession();
      const decided = sessionDecider.decide(command, before);
      if (decided.length === 0) return { state: before, events: [], duplicate: false };
      const after = foldSession(decided, before);
      // The projection sees the events as stored (versions, positions, hashes): no read-back needed.
      let stored: readonly EventEnvelope[] = [];
      try {
        const result = await deps.store.append(
          streamId,
          decided.map((event) => ({ type: event.type, data: event.data })),
          {
            tenantId,
            expectedVersion: before.version,
            idempotencyKey: options.idempotencyKey,
            metadata: options.metadata,
            inline: ({ tx, events }) => {
              stored = events;
              return deps.index.project(
                tx,
                { ...projectionOf(after), tokensUsed: tokensIn(decided) },
                options.lease,
              );
            },
          },
        );
        if (result.duplicate) {
          cache.delete(sessionId);
          const events = await firstAppend(tenantId, result);
          return { state: (await load(tenantId, sessionId)) ?? before, events, duplicate: true };
        }
        remember(after);
        return { state: after, events: stored, duplicate: false };
      } catch (error) {
        cache.delete(sessionId);
        if (!(error instanceof StreamVersionConflict) || attempt >= MAX_CONFLICT_RETRIES) throw error;
        await conflictBackoff(attempt);
      }
    }
  };

  const loadAt = async (
    tenantId: string,
    sessionId: string,
    version: number,
  ): Promise<Session | undefined> => {
    const events = await deps.store.readStream(sessionStreamId(sessionId), { tenantId, toVersion: version });
    const state = events.reduce(evolveEnvelope, initialSession());
    return state.version === 0 ? undefined : state;
  };

  return { load, loadAt, execute, projectionOf };
};
