import { createPgliteEventStore } from '@agentledger/events/pglite';
import { apiKeyStoreContract } from './api-key-store.contract.ts';
import { migrateGatewayPglite } from './pglite-api-keys.ts';
import { createPostgresApiKeyStore } from './postgres-api-key-store.ts';

// The embedded product's keys: the SQL adapter on PGlite, migrated as `npm start` migrates it.
apiKeyStoreContract(
  'pglite',
  async () => {
    const events = await createPgliteEventStore();
    await migrateGatewayPglite(events.pglite);
    return {
      store: createPostgresApiKeyStore(events.db),
      stored: async () => JSON.stringify((await events.pglite.query('select * from api_keys')).rows),
      close: () => events.close(),
    };
  },
  { storage: true },
);
