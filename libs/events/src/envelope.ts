/** Metadata carried by every event; none of it may hold a secret or a raw prompt. */
export type EventMetadata = Readonly<{
  correlationId?: string;
  causationId?: string;
  idempotencyKey?: string;
  actor?: string;
  replicaId?: string;
  traceparent?: string;
}>;

/**
 * One stored event, as read from the store and as published on the bus (JSON, camelCase).
 * `version` counts 1, 2, 3… per stream without gaps; `globalPosition` increases across all streams
 * (a Postgres bigint, exposed as a number: exact up to 2^53). `hash` chains each event to `prevHash`.
 */
export type EventEnvelope<T extends string = string, D = unknown> = Readonly<{
  eventId: string;
  streamId: string;
  tenantId: string;
  version: number;
  globalPosition: number;
  type: T;
  schemaVersion: number;
  data: D;
  metadata: EventMetadata;
  recordedAt: string;
  prevHash: string;
  hash: string;
}>;

/** An event to append: the store assigns version, position, time and hashes. */
export type NewEvent<T extends string = string, D = unknown> = Readonly<{
  type: T;
  data: D;
  /** Defaults to 1. */
  schemaVersion?: number;
  /** Defaults to a fresh UUIDv7. Give one when the id must be derived from the work. */
  eventId?: string;
  metadata?: EventMetadata;
}>;
