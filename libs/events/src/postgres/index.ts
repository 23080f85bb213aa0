export {
  createPgDriver,
  createPostgresEventStore,
  ignoreClientErrors,
  type PostgresEventStore,
  type PostgresEventStoreOptions,
} from './postgres-event-store.ts';
export { ensureDatabase, MIGRATION_LOCK_KEY, MIGRATIONS_FOLDER, runMigrations } from './migrate.ts';
export { createSqlEventStore, EVENTS_CHANNEL, type SqlEventStoreOptions } from './sql-event-store.ts';
export type { AnyPgDatabase, SqlDriver, SqlRow, SqlTransaction } from './sql-driver.ts';
export { checkpoints, events, idempotencyKeys, snapshots, streams } from './schema.ts';
export { driverErrorOf, translatePgError, translatingPgErrors, type DriverError } from './pg-errors.ts';
