import type { EventEnvelope, EventMetadata, NewEvent } from './envelope.ts';

export type ExpectedVersion = number | 'no_stream' | 'any';

export type AppendOptions = Readonly<{
  tenantId: string;
  /** A number is the stream's current version; 'no_stream' requires a new stream; 'any' skips the check. */
  expectedVersion: ExpectedVersion;
  /** The same key on the same stream returns the first append's result and writes nothing. */
  idempotencyKey?: string;
  /** Merged into every appended event's metadata. */
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
}>;

export type ReadStreamOptions = Readonly<{
  tenantId: string;
  /** Inclusive; default 1. */
  fromVersion?: number;
  /** Inclusive; default the head. */
  toVersion?: number;
  limit?: number;
}>;

export type ReadAllOptions = Readonly<{
  /** Exclusive global position; default 0 (from the beginning). */
  after?: number;
  limit?: number;
  /** When set, only this tenant's events. */
  tenantId?: string;
}>;

/**
 * The system of record. Every adapter (Postgres, PGlite, in-memory) passes one contract suite.
 * `readAll` returns only events whose transactions have committed in position order: it never
 * skips an event that commits late with a lower position.
 */
export type EventStore = Readonly<{
  append: (streamId: string, events: readonly NewEvent[], options: AppendOptions) => Promise<AppendResult>;
  readStream: (streamId: string, options: ReadStreamOptions) => Promise<readonly EventEnvelope[]>;
  readAll: (options?: ReadAllOptions) => Promise<readonly EventEnvelope[]>;
  close: () => Promise<void>;
}>;
