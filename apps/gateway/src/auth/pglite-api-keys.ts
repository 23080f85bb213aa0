import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { createPgliteEventStore, type PgliteEventStore } from '@agentledger/events/pglite';
import type { ApiKeyStore } from './api-key-store.port.ts';
import { createPostgresApiKeyStore, GATEWAY_MIGRATIONS_FOLDER } from './postgres-api-key-store.ts';

/** Applies migrations/gateway to an embedded database (one session: the file lock is enough). */
export const migrateGatewayPglite = async (pglite: PgliteEventStore['pglite']): Promise<void> => {
  await migrate(drizzle({ client: pglite }), {
    migrationsFolder: GATEWAY_MIGRATIONS_FOLDER,
    migrationsTable: '__drizzle_gateway_migrations',
  });
};

/**
 * The API keys of the embedded product (`npm start`), whose PGlite lives in `<dataDir>/pglite`.
 * Opening it takes the data directory's lock: it fails while the product runs.
 */
export const openPgliteApiKeys = async (
  dataDir: string,
): Promise<Readonly<{ store: ApiKeyStore; close: () => Promise<void> }>> => {
  const events = await createPgliteEventStore({ dataDir: join(dataDir, 'pglite') });
  try {
    await migrateGatewayPglite(events.pglite);
  } catch (error) {
    await events.close();
    throw error;
  }
  return { store: createPostgresApiKeyStore(events.db), close: () => events.close() };
};
