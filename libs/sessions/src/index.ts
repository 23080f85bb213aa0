export { InvalidCursor, LeaseLost, SessionNotFound } from './errors.ts';
export { createInMemorySessionIndex } from './memory/memory-session-index.ts';
export {
  decodeCursor,
  encodeCursor,
  type Lease,
  type ListSessionsQuery,
  type SessionIndex,
  type SessionLeases,
  type SessionPage,
  type SessionProjection,
  type SessionReadModel,
  type SessionRecovery,
  type SessionRow,
  type TenantUsage,
} from './session-index.ts';
export {
  createSessionEngine,
  foldEnvelopes,
  type CommandContext,
  type Handled,
  type LoadOptions,
  type SessionEngine,
  type SessionEngineDeps,
  type SessionRef,
} from './engine/session-engine.ts';
export type {
  EffectContext,
  ModelAction,
  ModelResult,
  StepHooks,
  StepOptions,
  StepOutcome,
} from './engine/session-step.ts';
export {
  createTeamSession,
  runTeam,
  type ApprovalPolicy,
  type TeamRunOptions,
  type TeamRunResult,
  type TeamSession,
} from './run-team/team-session.ts';
export type { ToolAttempts } from './tool-attempts.ts';
export { loadToolsModule } from './tools-module.ts';
export * from './audit/index.ts';
export {
  createTokenBucket,
  createTokenBuckets,
  systemClock,
  type Admission,
  type Clock,
  type RateLimit,
  type TokenBucket,
  type TokenBuckets,
} from './rate/token-bucket.ts';
export {
  decideRetention,
  policyFor,
  tombstoneProblem,
  type RetentionAction,
  type RetentionCandidate,
  type RetentionPolicies,
  type RetentionPolicy,
  type Tombstone,
} from './retention/retention.ts';
export {
  closeThroughEngine,
  runRetention,
  type PruneCounts,
  type RetentionDeps,
  type RetentionOptions,
  type RetentionReport,
  type RetentionStore,
  type TenantRetention,
} from './retention/run-retention.ts';
export { createSessionUseCases, type SessionUseCases } from './session-use-cases.ts';
export {
  createSessionContext,
  dataOf,
  derivedId,
  toListItem,
  toMessageView,
  toStateView,
  toSummary,
  turnSettled,
  type Caller,
  type Key,
  type MessageAccepted,
  type MessageView,
  type SessionContext,
  type SessionList,
  type SessionListItem,
  type SessionStateView,
  type SessionSummary,
  type SessionUseCaseDeps,
  type SpecCheck,
  type SpecIssue,
  type TeamSpecs,
  type TurnResult,
} from './session-context/index.ts';
export {
  createLiveDeltas,
  createBusLiveEvents,
  createStoreLiveEvents,
  followStream,
  withDeltas,
  type FollowOptions,
  type LiveDeltas,
  type LiveEvents,
  type StreamItem,
  type Watch,
} from './live/index.ts';
export { startSessionUseCase, type StartSessionInput } from './start-session/index.ts';
export { forkSessionUseCase, type ForkSessionInput } from './fork-session/index.ts';
export { postMessageUseCase, type PostMessageInput, type PostMessageResult } from './post-message/index.ts';
export { cancelTurnUseCase } from './cancel-turn/index.ts';
export { closeSessionUseCase } from './close-session/index.ts';
export { decideApprovalUseCase, type ApprovalInput } from './decide-approval/index.ts';
export {
  sessionQueriesUseCase,
  type AuditView,
  type EventPage,
  type ListSessionsInput,
} from './queries/index.ts';
export { sessionBundlesUseCase } from './bundles/index.ts';
