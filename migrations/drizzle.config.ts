import { defineConfig } from 'drizzle-kit';

// `npx drizzle-kit generate --config migrations/drizzle.config.ts` writes SQL here; applied by
// `npm run db:migrate` and at start-up (runMigrations, under an advisory lock).
export default defineConfig({
  dialect: 'postgresql',
  schema: './libs/events/src/postgres/schema.ts',
  out: './migrations',
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/agentledger' },
});
