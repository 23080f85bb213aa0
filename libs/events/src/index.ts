export type { EventEnvelope, EventMetadata, NewEvent } from './envelope.ts';
export type {
  AggregateOptions,
  AggregateResult,
  AppendOptions,
  AppendOptionsBase,
  AppendResult,
  EventStore,
  EventSubscription,
  EventSubscriptionOptions,
  Evolve,
  ExpectedVersion,
  ImportOptions,
  InlineProjection,
  DeclaredProjection,
  ProjectionContext,
  ReadAllOptions,
  ReadStreamOptions,
  Snapshot,
  VerifyResult,
} from './store.ts';
export {
  AgentLedgerError,
  ConcurrentChange,
  Conflict,
  DataDirectoryLocked,
  HistoryImmutable,
  IdempotencyKeyReused,
  InvalidEvent,
  NotFound,
  PermissionDenied,
  RateLimited,
  StreamDeleted,
  StreamTenantMismatch,
  StreamVersionConflict,
  Unauthenticated,
  Unavailable,
  Unprocessable,
  ValidationFailed,
  type FieldError,
  type FieldLocation,
  type ResourceKind,
} from './errors.ts';
export { canonicalJson, hashOf } from './canonical/canonical.ts';
export { computeEventHash, GENESIS_HASH, HASHED_FIELDS, sha256Hex, type HashedEvent } from './hash.ts';
export { isUuid, uuidv7 } from './ids.ts';
export {
  parseSessionStreamId,
  sessionKeyOf,
  sessionStreamId,
  SESSION_STREAM_PREFIX,
  type SessionStreamRef,
} from './session-stream-id.ts';
export { readLogToHead, type ReadLogOptions } from './read-log.ts';
export { createUpcast, type Upcast, type Upcaster } from './upcasting.ts';
export { createInMemoryEventStore, type InMemoryEventStoreOptions } from './memory/index.ts';
export {
  SESSION_EVENTS_TOPIC,
  type Delivery,
  type PublishOptions,
  type DeliveryHandler,
  type EventBus,
  type SubscribeOptions,
  type Subscription,
} from './bus.ts';
export { verifyChain } from './prepare.ts';
export {
  SESSION_DELTAS_RETENTION_MS,
  SESSION_DELTAS_TOPIC,
  createInProcessDeltaChannel,
  deltaKeyOf,
  parseSessionDelta,
  type DeltaChannel,
  type DeltaHandler,
  type SessionDelta,
} from './deltas/index.ts';
