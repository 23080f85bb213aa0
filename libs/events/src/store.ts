import type { EventEnvelope, EventMetadata, NewEvent } from './envelope.ts';

export type ExpectedVersion = number | 'no_stream' | 'any';

/**
 * Runs inside the append's transaction, after the events are inserted and before the commit (the
 * `sessions` read model, the lease fencing check). Whatever it writes through `tx` commits with
 * the events; if it throws, nothing is written and its error reaches the caller of `append`
 * unchanged. It runs for real appends only, never for an idempotent duplicate.
 *
 * `tx` depends on the adapter: a drizzle transaction on Postgres and PGlite, `undefined` in memory.
 */
export type InlineProjection<Tx = unknown> = (context: ProjectionContext<Tx>) => Promise<void> | void;

export type ProjectionContext<Tx = unknown> = Readonly<{
  tx: Tx;
  streamId: string;
  /** The appended events as stored (versions, positions and hashes assigned), not upcast. */
  events: readonly EventEnvelope[];
  options: AppendOptionsBase;
}>;

export type AppendOptions<Tx = unknown> = AppendOptionsBase &
  Readonly<{
    /** Runs in the append transaction after the store's own projections. */
    inline?: InlineProjection<Tx>;
    /**
     * The projection as data, run by the database in the append's own statement (SQL stores only;
     * the memory store refuses it): one round trip and one commit, and it may share a group
     * commit. Called once, before the append is sent, with the events as they will be stored
     * (ids, metadata, times, and versions when `expectedVersion` is a number; `globalPosition` 0,
     * hashes empty, and versions 0 for `'any'`: not known yet).
     */
    declared?: (events: readonly EventEnvelope[]) => DeclaredProjection;
  }>;

/**
 * A projection the database runs with an append: the function `agentledger_project_<name>(jsonb)`
 * of the migrations, called with `argument` right after the events are inserted, in the append's
 * (sub)transaction: if it raises, nothing of the append is written.
 */
export type DeclaredProjection = Readonly<{
  /** Lower-case letters and underscores: `agentledger_project_<name>` must exist. */
  name: string;
  /** Sent as jsonb. */
  argument: unknown;
  /** The caller's error for one the function raised (its SQLSTATE and message); undefined: the store's. */
  refusal?: (error: Readonly<{ code?: string; message?: string }>) => Error | undefined;
}>;

export type AppendOptionsBase = Readonly<{
  tenantId: string;
  /** A number is the stream's current version (0 = no stream yet); 'no_stream' requires a new stream; 'any' skips the check. */
  expectedVersion: ExpectedVersion;
  /** The same key on the same stream (and tenant) returns the first append's result and writes nothing. */
  idempotencyKey?: string;
  /** Merged into every appended event's metadata (an event's own metadata wins). */
  metadata?: EventMetadata;
}>;

export type AppendResult = Readonly<{
  streamId: string;
  /** Versions of the appended events, in order. */
  versions: readonly number[];
  globalPositions: readonly number[];
  /** The stream's version after the append. */
  nextExpectedVersion: number;
  /** True when the idempotency key matched an earlier append and nothing was written. */
  duplicate: boolean;
  /** The appended events as stored, when the adapter built them (an append with `declared`). */
  events?: readonly EventEnvelope[];
}>;

/** Options of {@link EventStore.importStream}. */
export type ImportOptions<Tx = unknown> = Readonly<{
  tenantId: string;
  /** Runs in the import's transaction, as for an append (e.g. the sessions read model). */
  inline?: InlineProjection<Tx>;
}>;

export type ReadStreamOptions = Readonly<{
  tenantId: string;
  /** Inclusive; default 1. */
  fromVersion?: number;
  /** Inclusive; default the head. */
  toVersion?: number;
  limit?: number;
  /** The events as stored and hashed, without the registered upcasters (exports, chain checks). */
  raw?: boolean;
}>;

export type ReadAllOptions = Readonly<{
  /** Exclusive global position; default 0 (from the beginning). */
  after?: number;
  limit?: number;
  /** When set, only this tenant's events. */
  tenantId?: string;
}>;

/** A page of the log and, where the store can hold events back, the committed head it was read at. */
export type Page = Readonly<{ events: readonly EventEnvelope[]; committedHead?: number }>;

export type VerifyResult = Readonly<{
  streamId: string;
  valid: boolean;
  eventCount: number;
  /** Hash of the last event (the genesis hash for an empty stream). */
  headHash: string;
  /** The first version whose row does not verify (edited, missing or out of chain). */
  firstBrokenVersion?: number;
  reason?: 'hash_mismatch' | 'prev_hash_mismatch' | 'version_gap' | 'head_mismatch';
}>;

export type Snapshot<S = unknown> = Readonly<{
  streamId: string;
  tenantId: string;
  version: number;
  /** Identifies the state's shape; a snapshot with another tag is ignored. */
  schemaTag: string;
  state: S;
}>;

export type AggregateOptions = Readonly<{
  tenantId: string;
  /** Save a snapshot when at least this many events were folded past the last one. */
  snapshotEvery?: number;
  /** The state shape's tag; change it whenever `evolve` or the state changes. Default 'v1'. */
  schemaTag?: string;
  /** Page size of the reads while folding. */
  pageSize?: number;
}>;

export type AggregateResult<S> = Readonly<{
  state: S;
  /** The stream version the state includes (0 for an empty stream). */
  version: number;
  /** The version of the snapshot the fold started from, if any. */
  snapshotVersion?: number;
}>;

export type Evolve<S> = (state: S, event: EventEnvelope) => S;

export type EventSubscriptionOptions = Readonly<{
  /** The checkpoint is stored under this id. */
  subscriberId: string;
  /** Where to start when no checkpoint is stored: 'start' (default), 'end', or after a position. */
  from?: 'start' | 'end' | number;
  /**
   * false: no checkpoint is loaded or stored, the subscription starts at `from` every time (a live
   * follower that only wakes readers, with nothing to resume after a restart). Default true.
   */
  checkpoints?: boolean;
  /**
   * Saves the checkpoint at most this often (default 0: after each handled page). What was handled
   * since the last save is handed over again after a crash (at least once, as always). The position
   * handled up to is saved once the interval is up, also while no events come, and at `stop`.
   */
  checkpointEveryMs?: number;
  /** Awaited per event, in global order; the checkpoint moves only past handled events. */
  handler: (event: EventEnvelope) => Promise<void> | void;
  /**
   * Awaited once per page read, before its events are handed to `handler` (to look up at once
   * what the page's events need); its error ends the subscription, as the handler's does.
   */
  onPage?: (page: readonly EventEnvelope[]) => Promise<void> | void;
  tenantId?: string;
  batchSize?: number;
  /** Fallback polling period when no notification arrives (default 1000 ms). */
  pollIntervalMs?: number;
  /** Told about store errors, which are retried with backoff (a handler's error ends the subscription). */
  onError?: (error: unknown) => void;
}>;

export type EventSubscription = Readonly<{
  /** Resolves once the subscription has read everything committed when it started. */
  caughtUp: Promise<void>;
  /** Rejects with the handler's error; resolves after `stop`. */
  done: Promise<void>;
  /** The global position of the last handled event. */
  position: () => number;
  /** Stops after the event in progress; its checkpoint is saved. */
  stop: () => Promise<void>;
}>;

/**
 * The system of record. Every adapter (Postgres, PGlite, in-memory) passes one contract suite.
 * `readAll` returns only events whose transactions have committed in position order: it never
 * skips an event that commits late with a lower position. Reads apply the registered upcasters.
 */
export type EventStore<Tx = unknown> = Readonly<{
  append: (
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions<Tx>,
  ) => Promise<AppendResult>;
  /**
   * Stores a whole stream exported elsewhere exactly as given: event ids, versions, times, data,
   * metadata, `prevHash` and `hash` are kept (global positions are this store's). The chain must
   * verify and every event must name `streamId` and the tenant, or `InvalidEvent` names the
   * version. Never overwrites: an existing stream with the same head is a duplicate (nothing
   * written), any other existing stream is a `StreamVersionConflict` (or `StreamTenantMismatch`).
   */
  importStream: (
    streamId: string,
    events: readonly EventEnvelope[],
    options: ImportOptions<Tx>,
  ) => Promise<AppendResult>;
  readStream: (streamId: string, options: ReadStreamOptions) => Promise<readonly EventEnvelope[]>;
  readAll: (options?: ReadAllOptions) => Promise<readonly EventEnvelope[]>;
  /**
   * The highest global position committed (of one tenant's events with `tenantId`; 0 when none),
   * whether `readAll` returns it yet or not: a read stops short of events that committed above a
   * transaction still running, so "read until an empty page" is not "read everything".
   */
  committedHead: (options?: { tenantId?: string }) => Promise<number>;
  /**
   * `readAll` of every tenant with the committed head of the same snapshot, for a reader that must
   * tell "caught up" from "held back": a short page below `committedHead` stopped at a transaction
   * still running (of this database, or of another one not yet seen to be), whose end sends no
   * notification. Adapters whose reads never stop short of a committed event (one session, in
   * memory) return no `committedHead`.
   */
  readPage: (options?: Omit<ReadAllOptions, 'tenantId'>) => Promise<Page>;
  /** Catch-up then live delivery in global order, at least once, with a stored checkpoint. */
  subscribe: (options: EventSubscriptionOptions) => EventSubscription;
  /**
   * Calls `listener` after each commit that may have added events: for this store's own appends
   * and imports at once, in this process, before their promise settles (with their result, whose
   * `events` are the stored envelopes where the adapter returns them); for another process'
   * commits when its notification arrives, and each time the store starts listening again (which
   * it may have missed meanwhile), without a result. The echo of this store's own notifications
   * is not a second call. A listener must not throw. Returns the function that stops the calls.
   */
  onCommit: (listener: (own?: AppendResult) => void) => () => void;
  /** Recomputes the stream's hash chain from the stored rows. */
  verifyStream: (streamId: string, options: { tenantId: string }) => Promise<VerifyResult>;
  /** Folds the stream from its newest matching snapshot; saves snapshots per `snapshotEvery`. */
  aggregate: <S>(
    streamId: string,
    evolve: Evolve<S>,
    initial: S,
    options: AggregateOptions,
  ) => Promise<AggregateResult<S>>;
  loadCheckpoint: (subscriberId: string) => Promise<number | undefined>;
  saveCheckpoint: (subscriberId: string, position: number) => Promise<void>;
  loadSnapshot: <S>(
    streamId: string,
    options: { tenantId: string; schemaTag: string },
  ) => Promise<Snapshot<S> | undefined>;
  saveSnapshot: (snapshot: Snapshot) => Promise<void>;
  close: () => Promise<void>;
}>;
