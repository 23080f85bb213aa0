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
  type SessionRow,
} from './session-index.ts';
export {
  createSessionRepository,
  type ExecuteOptions,
  type ExecuteResult,
  type SessionRepository,
  type SessionRepositoryDeps,
} from './session-repository.ts';
export type { ToolAttempts } from './tool-attempts.ts';
export * from './audit/index.ts';
