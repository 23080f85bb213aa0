export { createSqlSessionIndex } from './sql-session-index.ts';
export { createSqlCheckpointStore } from './sql-checkpoint-store.ts';
export { createSqlRetentionStore } from './sql-retention-store.ts';
export { countSessionsByStatus } from './session-status-counts.ts';
