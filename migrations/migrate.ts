import { ensureDatabase, runMigrations } from '@agentledger/events/postgres';

/**
 * `npm run db:migrate`: applies the migrations to DATABASE_URL (default: the `agentledger`
 * database on the local server, created when missing) under the migration advisory lock.
 */
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/agentledger';
await ensureDatabase(url);
await runMigrations(url);
console.log(`[db:migrate] ${url.replace(/:[^:@/]*@/, ':***@')} is up to date`);
