export {
  createCheckpointSigner,
  InvalidAuditKey,
  publicKeyPemOf,
  verifyCheckpoints,
  type Checkpoint,
  type CheckpointProblem,
  type CheckpointSigner,
  type CheckpointStore,
  type CheckpointVerdict,
  type StreamHead,
} from './checkpoints.ts';
export {
  startCheckpointer,
  TURN_END_EVENTS,
  type Checkpointer,
  type CheckpointerDeps,
} from './checkpointer.ts';
export { createInMemoryCheckpointStore } from './memory-checkpoint-store.ts';
export { auditEvents, auditSession, type AuditDeps, type SessionAudit } from './audit-session.ts';
export { readAuditSigner, type AuditKeyEnv } from './audit-keys.ts';
export {
  BUNDLE_FORMAT,
  BUNDLE_FORMAT_VERSION,
  BundleRejected,
  readBundle,
  writeBundle,
  type BundleCheckpoint,
  type BundleManifest,
  type BundleProblem,
  type SessionBundle,
} from './bundle.ts';
export {
  exportSessionBundle,
  importSessionBundle,
  mapTenant,
  type ExportSessionDeps,
  type ImportedSession,
  type ImportSessionDeps,
} from './session-transfer.ts';
export { readSessionStreams, type SessionStreamsOptions } from './session-streams.ts';
export {
  assertStoredSessionsReplay,
  describeReplayFailure,
  replayStoredSessions,
  type SessionReplayFailure,
  type StoredSessionsReplay,
} from './replay-stored-sessions.ts';
