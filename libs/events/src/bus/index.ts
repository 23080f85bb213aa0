export {
  DEFAULT_PARTITIONS,
  SESSION_EVENTS_TOPIC,
  partitionKeyOf,
  type Delivery,
  type PublishOptions,
  type DeliveryHandler,
  type EventBus,
  type Logger,
  type SubscribeOptions,
  type Subscription,
} from '../bus.ts';
export { createInProcessEventBus, type InProcessEventBusOptions } from './in-process-event-bus.ts';
export { murmur2, partitionForKey } from './murmur2.ts';
export { createStreamDedupe, dedupeVerdict, type DedupeVerdict, type StreamDedupe } from './stream-dedupe.ts';
export { quietLogger } from './bus-support.ts';
export {
  RELAY_LOCK_KEY,
  createAdvisoryLockLeadership,
  createAppendedFeed,
  createOutboxRelay,
  createPostgresGapResolver,
  feedRelayOnCommit,
  gaplessPrefix,
  immediateGapResolver,
  registerRelayMetrics,
  timedGapResolver,
  type GapResolver,
  soleLeadership,
  type AdvisoryLockLeadershipOptions,
  type AppendedFeed,
  type LockClient,
  type OutboxRelay,
  type OutboxRelayOptions,
  type RelayLeadership,
  type RelayStatus,
} from '../relay/index.ts';
