import {
  foldingEvolve,
  hasRunnableWork,
  initialSession,
  nextDeadline,
  sessionDecider,
  type EffectDeps,
  type Session,
  type SessionCommand,
  type SessionEvent,
} from '@agentledger/agents';
import {
  computeEventHash,
  ConcurrentChange,
  parseSessionStreamId,
  sessionStreamId,
  StreamVersionConflict,
  type AppendResult,
  type EventEnvelope,
  type EventMetadata,
  type EventStore,
} from '@agentledger/events';
import { partitionForKey, partitionKeyOf } from '@agentledger/events/bus';
import { inSpan, traceparentOf } from '@agentledger/telemetry';
import type { Lease, SessionProjection, SessionReadModel } from '../session-index.ts';
import { withConflictRetry } from './conflict-policy.ts';
import { createSessionCache, estimatedBytes } from './session-cache.ts';
import { crossesSnapshotPoint } from './snapshot-points.ts';
import { createStep, type StepHooks, type StepOptions, type StepOutcome } from './session-step.ts';
import { followTrace, NO_TRACE, traceToContinue, type TurnTrace } from './turn-trace.ts';

export type SessionEngineDeps<Tx> = Readonly<{
  store: EventStore<Tx>;
  /**
   * The read model: its write runs with every append (projection and lease fence), declared to the
   * database when the adapter has `declare` (one statement), else `project` in the transaction.
   */
  index: Pick<SessionReadModel<Tx>, 'project' | 'get' | 'declare'>;
  /** Partitions of the session-events topic: the read model records each session's partition. */
  partitions: number;
  /**
   * Estimated bytes of folded sessions kept in memory (LRU, default 256 MiB), caught up from their
   * version on the next load; 0 keeps none.
   */
  cacheMaxBytes?: number;
  /**
   * Snapshot long streams every this many events (default 200; 0: never): when a cold fold passes
   * that many, and when an append to a cached session crosses a snapshot point (every this many
   * events up to 8 times it, then at an interval that doubles as the stream grows: see
   * `snapshotInterval`).
   */
  snapshotEvery?: number;
  /** What `step` runs effects with; callers that only `handle` commands (the gateway) leave it out. */
  effects?: Omit<EffectDeps, 'signal'>;
  /** What a host adds around effects (limits, budgets, parking, attempt markers, metrics). */
  hooks?: StepHooks;
  /**
   * This engine makes every append to its sessions' streams (the embedded product: one process
   * holds the data directory's lock, and its gateway and worker share this engine). A cached
   * session is then the stream's head: loads and first attempts use it without reading the store.
   * An append on a state that is behind all the same (a writer this flag forgot) is refused by its
   * expected version, and the retry reads.
   */
  soleWriter?: boolean;
}>;

/** A session of a tenant: two tenants may use one session id. */
export type SessionRef = Readonly<{ tenantId: string; sessionId: string }>;

export type CommandContext = SessionRef &
  Readonly<{
    /** A worker's lease: the append is fenced by its epoch. */
    lease?: Lease;
    /** The same key on the same session returns the first result and writes nothing. */
    idempotencyKey?: string;
    /**
     * The caller has just loaded the session through this engine (`load`): the first attempt
     * decides on that state without reading the store again (a stale one is refused by its
     * expected version, and the retry reads).
     */
    fresh?: boolean;
    metadata?: EventMetadata;
  }>;

export type Handled = Readonly<{
  /** The session after the command (after the first append, for an idempotent duplicate). */
  state: Session;
  /** The events the command appended (the first append's, for a duplicate); empty when it decided nothing. */
  events: readonly EventEnvelope[];
  duplicate: boolean;
}>;

/**
 * The one session engine: every caller (REST, gRPC, the orchestrator's worker and watchdog, the
 * standalone app, `runTeam`) loads, decides and appends through it.
 */
export type SessionEngine = Readonly<{
  /**
   * Load (cache or store) → decide → append with the loaded version as the expected version, the
   * idempotency key and the lease epoch as fencing token, with the read model updated in the same
   * transaction → the new state, folded from the decided events (no re-read, no re-fold). A version
   * conflict, or a concurrent change the database rolled back (`ConcurrentChange`: a deadlock),
   * reloads and decides again under one bounded, jittered policy; a lost lease throws `LeaseLost`
   * and writes nothing.
   */
  handle: (command: SessionCommand, ctx: CommandContext) => Promise<Handled>;
  /**
   * Next action → effect runner → `handle(result)`, until nothing runnable is left, the lease is
   * lost or the signal aborts. One fold per step: the state `handle` returns feeds the next step.
   * `lease` undefined: an unfenced single writer (`runTeam`).
   */
  step: (
    ref: SessionRef,
    lease: Lease | undefined,
    signal: AbortSignal,
    options?: StepOptions,
  ) => Promise<StepOutcome>;
  /** The folded session, or undefined when the tenant has no such session. */
  load: (tenantId: string, sessionId: string, options?: LoadOptions) => Promise<Session | undefined>;
  /** The session as of `version` (a prefix of its history), folded without snapshots or cache. */
  loadAt: (tenantId: string, sessionId: string, version: number) => Promise<Session | undefined>;
  /**
   * The event stream of the tenant's session: the one the read model records (sessions older than
   * migration 0010 keep `session-<id>`), else `sessionStreamId(tenantId, sessionId)`.
   */
  streamIdOf: (tenantId: string, sessionId: string) => Promise<string>;
  /** What the read model holds for a session in `state` on `streamId` (no tokens recorded). */
  projectionOf: (state: Session, streamId: string) => SessionProjection;
  /** The folded-session cache: its budget, the estimated bytes it holds and its entries. */
  cache: () => Readonly<{ maxBytes: number; bytes: number; entries: number }>;
  /**
   * An event as stored, learnt elsewhere: a cached session it continues (the next version, chained
   * to the cached head) takes it in, so the next load need not read it back. From the bus (`'bus'`,
   * the default) its hash is recomputed too, so a message that is not the stored event is never
   * folded; one this process read from the log itself (`'store'`, a subscription's) is the stored
   * event, as any load's read is. Anything else is ignored: the next load reads the store, as before.
   */
  observe: (event: EventEnvelope, from?: 'bus' | 'store') => void;
  /**
   * Stores a whole exported stream as given (`EventStore.importStream`: ids, times and hashes kept,
   * never over an existing stream) with the session's read-model row in the same transaction. The
   * caller verifies the bundle first; the tenant is `tenantId`, the session the one its events start.
   */
  importStream: (tenantId: string, streamId: string, events: readonly EventEnvelope[]) => Promise<Imported>;
}>;

export type Imported = Readonly<{ state: Session; duplicate: boolean }>;

/**
 * When a load may return the cached session without reading the store.
 *
 * A worker (`lease`, `seen`): both must hold. The worker's `lease` is the one (same epoch) under
 * which this engine made the session's last fenced append, so no other worker has appended since
 * (any other needs a newer epoch); and the cached version is at least `seen(streamId)`, the newest
 * version of the session's stream the worker has been delivered, so it holds every append of others
 * (gateways) that asked for this run.
 *
 * A command about to be handled (`forCommand`): whenever the session is cached. Its append carries
 * the version it decided on, so a cache that is behind costs a refused append and a read, never a
 * wrong decision; where the cache follows the log (`observe`, the gateway's live events) it is
 * rarely behind. Never for a read whose answer is the state itself: that reads what others appended.
 *
 * Either way an append on a cache that is still behind is refused by its expected version and the
 * retry reads the store.
 */
export type LoadOptions =
  Readonly<{ lease: Lease; seen: (streamId: string) => number }> | Readonly<{ forCommand: true }>;

const SNAPSHOT_TAG = 'session-v1';
const DEFAULT_SNAPSHOT_EVERY = 200;

// A stored event is a session event with its envelope's fields besides: evolve reads type and data.
const asSessionEvent = (event: EventEnvelope): SessionEvent => event as unknown as SessionEvent;

/** An `evolve` of stored events for one fold (see `foldingEvolve`: only its last state is kept). */
const foldingEnvelopes = (): ((state: Session, event: EventEnvelope) => Session) => {
  const next = foldingEvolve();
  return (state, event) => next(state, asSessionEvent(event));
};

/** Folds stored events into session state (what every replica and every replay does); `from` is unchanged. */
export const foldEnvelopes = (
  envelopes: readonly EventEnvelope[],
  from: Session = initialSession(),
): Session => envelopes.reduce(foldingEnvelopes(), from);

const tokensIn = (events: readonly SessionEvent[]): number =>
  events.reduce(
    (sum, event) =>
      event.type === 'ModelCallCompleted'
        ? sum + event.data.usage.promptTokens + event.data.usage.completionTokens
        : sum,
    0,
  );

/**
 * `trace`: the W3C trace the session's work continues (see `TurnTrace`). `epoch`: the lease epoch
 * of the last fenced append this engine made on the session since it last read the store (kept
 * across unfenced appends, which no other worker makes, and across events `observe` took in: they
 * are the stream's own, and a worker under another lease fails `load`'s epoch check).
 * `headHash`: the hash of the last event folded in, when known (not after a snapshot alone).
 */
type Loaded = Readonly<{
  state: Session;
  streamId: string;
  trace: TurnTrace;
  epoch?: number;
  headHash?: string;
}>;

/** `headHash` of a cached session folded up to `events` (kept from before when there are none). */
const headAfter = (events: readonly EventEnvelope[], before?: string): { headHash?: string } => {
  const headHash = events.length === 0 ? before : events.at(-1)?.hash || undefined;
  return headHash === undefined ? {} : { headHash };
};

/** The default budget of the engine's session cache. */
export const DEFAULT_SESSION_CACHE_BYTES = 256 * 1024 * 1024;

/** Creates the session engine over an event store and the sessions read model. */
export const createSessionEngine = <Tx>(deps: SessionEngineDeps<Tx>): SessionEngine => {
  // Keyed by (tenant, session id) through the tenant-scoped stream id: two tenants, two entries.
  // A session's size is measured when it is folded from the store and grows by the size of each
  // event folded into it after that (an over-estimate as work items clear: safe for the bound).
  const cacheMaxBytes = deps.cacheMaxBytes ?? DEFAULT_SESSION_CACHE_BYTES;
  const cache = createSessionCache<Loaded>(cacheMaxBytes);
  const cacheKey = sessionStreamId;
  const remember = (loaded: Loaded, bytes: number): void =>
    cache.set(cacheKey(loaded.state.tenantId, loaded.state.sessionId), loaded, bytes);
  const forget = (tenantId: string, sessionId: string): boolean =>
    cache.delete(cacheKey(tenantId, sessionId));
  const eventBytes = (events: readonly EventEnvelope[]): number =>
    events.reduce((sum, event) => sum + estimatedBytes(event.data), 0);

  const streamIdOf = async (tenantId: string, sessionId: string): Promise<string> =>
    cache.get(cacheKey(tenantId, sessionId))?.value.streamId ??
    (await deps.index.get(tenantId, sessionId))?.streamId ??
    sessionStreamId(tenantId, sessionId);

  /**
   * The session (initial state when the tenant has none), the stream it lives on, its size estimate.
   * `trustCache`: a cached session is used as it is, without reading what others appended since
   * (a lease holder, nearly always the only writer: an append on a stale state is refused by its
   * expected version, and the retry reads from the store).
   */
  const loadStream = async (
    tenantId: string,
    sessionId: string,
    trustCache = false,
  ): Promise<Loaded & { bytes: number }> => {
    const cached = cache.get(cacheKey(tenantId, sessionId));
    if (cached && trustCache) return { ...cached.value, bytes: cached.bytes };
    if (cached) {
      const { state, streamId } = cached.value;
      const newer = await deps.store.readStream(streamId, { tenantId, fromVersion: state.version + 1 });
      // Appends of others since: one may be another worker's, under a newer lease.
      const { epoch } = cached.value;
      return {
        state: foldEnvelopes(newer, state),
        streamId,
        trace: newer.reduce(followTrace, cached.value.trace),
        ...headAfter(newer, cached.value.headHash),
        ...(newer.length === 0 && epoch !== undefined ? { epoch } : {}),
        bytes: cached.bytes + eventBytes(newer),
      };
    }
    const streamId = await streamIdOf(tenantId, sessionId);
    let trace = NO_TRACE;
    let headHash: string | undefined;
    const evolveNext = foldingEnvelopes();
    const fold = (state: Session, event: EventEnvelope): Session => {
      trace = followTrace(trace, event);
      headHash = event.hash;
      return evolveNext(state, event);
    };
    const { state } = await deps.store.aggregate(streamId, fold, initialSession(), {
      tenantId,
      snapshotEvery: deps.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY,
      schemaTag: SNAPSHOT_TAG,
    });
    return { state, streamId, trace, ...(headHash ? { headHash } : {}), bytes: estimatedBytes(state) };
  };

  const load = async (
    tenantId: string,
    sessionId: string,
    options?: LoadOptions,
  ): Promise<Session | undefined> => {
    const cached = cache.get(cacheKey(tenantId, sessionId))?.value;
    if (cached !== undefined && deps.soleWriter === true) return cached.state;
    if (cached !== undefined && options !== undefined && 'forCommand' in options) return cached.state;
    if (
      options !== undefined &&
      'lease' in options &&
      cached?.epoch === options.lease.epoch &&
      cached.state.version >= options.seen(cached.streamId)
    )
      return cached.state;
    const loaded = await loadStream(tenantId, sessionId);
    if (loaded.state.version === 0) return undefined;
    remember(loaded, loaded.bytes);
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
    deadlineAt: nextDeadline(state),
  });

  /** An idempotent duplicate ran no projection: its events (the first append's) are read back. */
  const firstAppend = async (tenantId: string, result: AppendResult): Promise<readonly EventEnvelope[]> => {
    if (result.versions.length === 0) return [];
    return deps.store.readStream(result.streamId, {
      tenantId,
      fromVersion: result.versions[0],
      toVersion: result.versions.at(-1),
    });
  };

  /**
   * A session that stays cached is never folded from the store, so `aggregate` would never
   * snapshot it: each append that crosses a snapshot point (`crossesSnapshotPoint`: every
   * `snapshotEvery` events, spreading as the stream grows) saves the state it folded, so a cold load
   * (a restart, another replica) folds at most that interval past it. Best effort: the events are
   * committed; a failed snapshot only means a longer cold fold.
   */
  const snapshotCrossed = async (from: number, state: Session, streamId: string): Promise<void> => {
    if (!crossesSnapshotPoint(from, state.version, deps.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY)) return;
    await deps.store
      .saveSnapshot({
        streamId,
        tenantId: state.tenantId,
        version: state.version,
        schemaTag: SNAPSHOT_TAG,
        state,
      })
      .catch(() => undefined);
  };

  const handleOnce = async (
    command: SessionCommand,
    ctx: CommandContext,
    trustCache: boolean,
  ): Promise<Handled> => {
    const { tenantId, sessionId } = ctx;
    const trusted = trustCache && cache.get(cacheKey(tenantId, sessionId)) !== undefined;
    const loaded = await loadStream(tenantId, sessionId, trustCache);
    const { state: before, streamId, bytes, trace } = loaded;
    // Nothing to append, or a refusal, is no proof on a cached state that may be behind (no
    // expected version checks it): decide again on what the store holds.
    let decided: readonly SessionEvent[];
    try {
      decided = sessionDecider.decide(command, before);
    } catch (error) {
      if (trusted) return handleOnce(command, ctx, false);
      throw error;
    }
    if (decided.length === 0 && trusted) return handleOnce(command, ctx, false);
    if (decided.length === 0) return { state: before, events: [], duplicate: false };
    // The new state is folded once, from the events as stored (what a replay folds), as the append
    // builds its projection: the read model sees them with versions, ids and times; no read-back.
    let stored: readonly EventEnvelope[] = [];
    let after = before;
    const rowAfter = (events: readonly EventEnvelope[]): SessionProjection => {
      stored = events;
      after = foldEnvelopes(events, before);
      return { ...projectionOf(after, streamId), tokensUsed: tokensIn(decided) };
    };
    const { declare } = deps.index;
    try {
      const result = await deps.store.append(
        streamId,
        decided.map((event) => ({ type: event.type, data: event.data })),
        {
          tenantId,
          expectedVersion: before.version,
          idempotencyKey: ctx.idempotencyKey,
          metadata: ctx.metadata,
          ...(declare === undefined
            ? { inline: ({ tx, events }) => deps.index.project(tx, rowAfter(events), ctx.lease) }
            : { declared: (events) => declare(rowAfter(events), ctx.lease) }),
        },
      );
      // A declared projection saw the events before positions and hashes were known.
      stored = result.events ?? stored;
      if (result.duplicate) {
        forget(tenantId, sessionId);
        const events = await firstAppend(tenantId, result);
        return { state: (await load(tenantId, sessionId)) ?? before, events, duplicate: true };
      }
      const epoch = ctx.lease?.epoch ?? loaded.epoch;
      remember(
        {
          state: after,
          streamId,
          trace: stored.reduce(followTrace, trace),
          ...headAfter(stored, loaded.headHash),
          ...(epoch === undefined ? {} : { epoch }),
        },
        bytes + eventBytes(stored),
      );
      await snapshotCrossed(before.version, after, streamId);
      return { state: after, events: stored, duplicate: false };
    } catch (error) {
      // A conflict leaves the cached session a true prefix of the stream: the retry catches up
      // from it. Anything else (an outcome not known) starts over from the store.
      if (!(error instanceof StreamVersionConflict)) forget(tenantId, sessionId);
      throw error;
    }
  };

  // The append span is a child of the caller's traceparent (a gateway request) or of the active
  // span (a step); the events it writes carry its traceparent in their metadata.
  const handle = (command: SessionCommand, ctx: CommandContext): Promise<Handled> => {
    const parent = ctx.metadata?.traceparent;
    const attributes = { 'agentledger.command': command.type, 'agentledger.session.id': ctx.sessionId };
    return inSpan(
      'session.append',
      { attributes, ...(parent === undefined ? {} : { traceparent: parent }) },
      (span) => {
        const traceparent = traceparentOf(span) ?? parent;
        const traced =
          traceparent === undefined ? ctx : { ...ctx, metadata: { ...ctx.metadata, traceparent } };
        // A lease holder's (or a caller's that just loaded) first attempt decides on the cached
        // session (one round trip: the append); a conflict means someone else appended, and every
        // retry reads what they did. So does any command on a session this engine's own worker
        // appends to under a lease (the in-process runtime): its cache is nearly always the head.
        const trustFirst =
          ctx.lease !== undefined ||
          ctx.fresh === true ||
          deps.soleWriter === true ||
          cache.get(cacheKey(ctx.tenantId, ctx.sessionId))?.value.epoch !== undefined;
        let attempts = 0;
        // A concurrent change that won (a deadlock or serialization failure the database rolled
        // back) wrote nothing either: retried like a conflict, so a worker does not lose the
        // result of an effect it ran (the next owner would run it again).
        return withConflictRetry(
          () => handleOnce(command, traced, trustFirst && attempts++ === 0),
          (error) => error instanceof StreamVersionConflict || error instanceof ConcurrentChange,
        );
      },
    );
  };

  const observe = (event: EventEnvelope, from: 'bus' | 'store' = 'bus'): void => {
    const ref = parseSessionStreamId(event.streamId);
    if (ref === undefined) return;
    const key = cacheKey(event.tenantId, ref.sessionId);
    const entry = cache.get(key);
    if (entry === undefined) return;
    const cached = entry.value;
    if (
      cached.streamId !== event.streamId ||
      cached.state.tenantId !== event.tenantId ||
      cached.headHash === undefined ||
      event.version !== cached.state.version + 1 ||
      event.prevHash !== cached.headHash ||
      (from === 'bus' && computeEventHash(cached.headHash, event) !== event.hash)
    )
      return;
    cache.set(
      key,
      {
        ...cached,
        state: foldEnvelopes([event], cached.state),
        trace: followTrace(cached.trace, event),
        headHash: event.hash,
      },
      entry.bytes + eventBytes([event]),
    );
  };

  const loadAt = async (
    tenantId: string,
    sessionId: string,
    version: number,
  ): Promise<Session | undefined> => {
    const streamId = await streamIdOf(tenantId, sessionId);
    const events = await deps.store.readStream(streamId, { tenantId, toVersion: version });
    const state = foldEnvelopes(events);
    return state.version === 0 ? undefined : state;
  };

  const importStream = async (
    tenantId: string,
    streamId: string,
    events: readonly EventEnvelope[],
  ): Promise<Imported> => {
    const state = foldEnvelopes(events);
    // Tokens were spent where the session ran: they do not count into this tenant's usage today.
    const result = await deps.store.importStream(streamId, events, {
      tenantId,
      inline: ({ tx }) => deps.index.project(tx, projectionOf(state, streamId)),
    });
    forget(tenantId, state.sessionId);
    return { state, duplicate: result.duplicate };
  };

  const traceOf = (tenantId: string, sessionId: string): string | undefined => {
    const cached = cache.get(cacheKey(tenantId, sessionId))?.value.trace;
    return cached === undefined ? undefined : traceToContinue(cached);
  };

  const step = createStep({ handle, load, traceOf, effects: deps.effects, hooks: deps.hooks ?? {} });

  return {
    handle,
    step,
    load,
    loadAt,
    streamIdOf,
    projectionOf,
    importStream,
    cache: () => ({ maxBytes: cacheMaxBytes, ...cache.usage() }),
    observe,
  };
};
