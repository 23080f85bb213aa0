#!/usr/bin/env node
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { z } from 'zod';
import { createPostgresApiKeyStore, migrateGatewayDatabase } from './auth/postgres-api-key-store.ts';
import { openPgliteApiKeys } from './auth/pglite-api-keys.ts';
import { runKeysCommand } from './cli/keys-command.ts';

/** The CLI's composition root: its configuration is DATABASE_URL alone. */
const cliConfigSchema = z.object({
  DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/agentledger'),
});

const main = async (): Promise<number> => {
  const config = cliConfigSchema.safeParse(process.env);
  if (!config.success) {
    console.error('DATABASE_URL must be a postgres:// URL');
    return 2;
  }
  const url = config.data.DATABASE_URL;
  return runKeysCommand(
    process.argv.slice(2),
    async (target) => {
      if (target.kind === 'pglite') return openPgliteApiKeys(target.dataDir);
      await migrateGatewayDatabase(url);
      const pool = new pg.Pool({ connectionString: url, max: 1 });
      return { store: createPostgresApiKeyStore(drizzle({ client: pool })), close: () => pool.end() };
    },
    { out: (line) => console.log(line), err: (line) => console.error(line) },
  );
};

process.exitCode = await main().catch((error: unknown) => {
  // e.g. DATA_DIRECTORY_LOCKED while npm start runs, or Postgres unreachable: the message says which
  console.error(error instanceof Error ? error.message : String(error));
  return 1;
});
