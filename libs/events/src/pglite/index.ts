export {
  createPgliteDriver,
  createPgliteEventStore,
  runPgliteMigrations,
  type PgliteEventStore,
  type PgliteEventStoreOptions,
} from './pglite-event-store.ts';
export { lockDataDirectory } from './data-dir-lock.ts';
export { EVENTS_CHANNEL } from '../postgres/sql-event-store.ts';
