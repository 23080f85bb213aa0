export { createAppendedFeed, feedRelayOnCommit, type AppendedFeed } from './appended-feed.ts';
export {
  createOutboxRelay,
  type OutboxRelay,
  type OutboxRelayOptions,
  type RelayStatus,
} from './outbox-relay.ts';
export {
  RELAY_LOCK_KEY,
  createAdvisoryLockLeadership,
  soleLeadership,
  type AdvisoryLockLeadershipOptions,
  type LockClient,
  type RelayLeadership,
} from './relay-leadership.ts';
export { registerRelayMetrics } from './relay-metrics.ts';
export {
  createPostgresGapResolver,
  gaplessPrefix,
  immediateGapResolver,
  timedGapResolver,
  type GapResolver,
} from './position-gaps.ts';
