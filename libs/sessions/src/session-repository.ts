import {
  evolve,
  foldSession,
  hasRunnableWork,
  initialSession,
  sessionDecider,
  type Session,
  type SessionCommand,
  type SessionEvent,
} from '@agentledger/agents';
import {
  sessionStreamId,
  StreamVersionConflict,
  type AppendResult,
  type EventEnvelope,
  type EventMetadata,
  type EventStore,
} from '@agentledger/events';
import { partitionForKey, partitionKeyOf } from '@agentledger/events/bus';
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
  /**
   * The event stream of the tenant's session: the one the read model records (sessions older than
   * migration 0010 keep `session-<id>`), else `sessionStreamId(tenantId, sessionId)`.
   */
  streamIdOf: (tenantId: string, sessionId: string) => Promise<string>;
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
  /** What the read model holds for a session in `state` on `streamId` (no tokens recorded). */
  projectionOf: (state: Session, streamId: string) => SessionProjection;
}>;

const SNAPSHOT_TAG = 'session-v1';
const MAX_CONFLICT_RETRIES = 30;
/** Jittered and growing, so writers racing on one session spread out instead of colliding again. */
const conflictBackoff = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(100, 2 ** attempt)));

const evolveEnvelope = (state: Session, event: EventEnvelope): Session =>
  evolve(state, event as unknown as SessionEvent);

type Loaded = Readonly<{ state: Session; streamId: string }>;

export const createSessionRepository = <Tx>(deps: SessionRepositoryDeps<Tx>): SessionRepository => {
  // Keyed by (tenant, session id) through the tenant-scoped stream id: two tenants, two entries.
  const cache = new Map<string, Loaded>();
  const cacheSize = deps.cacheSize ?? 1000;
  const cacheKey = sessionStreamId;
  const remember = (loaded: Loaded): void => {
    const key = cacheKey(loaded.state.tenantId, loaded.state.sessionId);
    cache.delete(key);
    cache.set(key, loaded);
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
  };

  const streamIdOf = async (tenantId: string, sessionId: string): Promise<string> =>
    cache.get(cacheKey(tenantId, sessionId))?.streamId ??
    (await deps.index.get(tenantId, sessionId))?.streamId ??
    sessionStreamId(tenantId, sessionId);

  /** The session (initial state when the tenant has none) and the stream it lives on. */
  const loadStream = async (tenantId: string, sessionId: string): Promise<Loaded> => {
    const cached = cache.get(cacheKey(tenantId, sessionId));
    if (cached) {
      const newer = await deps.store.readStream(cached.streamId, {
        tenantId,
        fromVersion: cached.state.version + 1,
      });
      return { state: newer.reduce(evolveEnvelope, cached.state), streamId: cached.streamId };
    }
    const streamId = await streamIdOf(tenantId, sessionId);
    const { state } = await deps.store.aggregate(streamId, evolveEnvelope, initialSession(), {
      tenantId,
      snapshotEvery: deps.snapshotEvery ?? 200,
      schemaTag: SNAPSHOT_TAG,
    });
    return { state, streamId };
  };

  const load = async (tenantId: string, sessionId: string): Promise<Session | undefined> => {
    const loaded = await loadStream(tenantId, sessionId);
    if (loaded.state.version === 0) return undefined;
    remember(loaded);
    return loaded.state;
  };

  const projectionOf = (state: Session, streamId: string): SessionProjection => ({
    tenantId: state.tenantId,
    sessionId: state.sessionId,
    streamId,
    teamId: state.teamId,
    status: state.status,
    version: state.version,
    pendingWork: hasRunnableWork(state),
    partition: partitionForKey(partitionKeyOf({ streamId }), deps.partitions),
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
    for (let attempt = 0; ; attempt += 1) {
      const { state: before, streamId } = await loadStream(tenantId, sessionId);
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
                { ...projectionOf(after, streamId), tokensUsed: tokensIn(decided) },
                options.lease,
              );
            },
          },
        );
        if (result.duplicate) {
          cache.delete(cacheKey(tenantId, sessionId));
          const events = await firstAppend(tenantId, result);
          return { state: (await load(tenantId, sessionId)) ?? before, events, duplicate: true };
        }
        remember({ state: after, streamId });
        return { state: after, events: stored, duplicate: false };
      } catch (error) {
        cache.delete(cacheKey(tenantId, sessionId));
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
    const streamId = await streamIdOf(tenantId, sessionId);
    const events = await deps.store.readStream(streamId, { tenantId, toVersion: version });
    const state = events.reduce(evolveEnvelope, initialSession());
    return state.version === 0 ? undefined : state;
  };

  return { load, streamIdOf, loadAt, execute, projectionOf };
};
