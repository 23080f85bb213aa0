import { apiKeyStoreContract } from './api-key-store.contract.ts';
import { createInMemoryApiKeyStore } from './in-memory-api-key-store.ts';

// The in-memory store is only ever handed records (hashes); it has no storage of its own to read.
apiKeyStoreContract(
  'in-memory',
  async () => ({ store: createInMemoryApiKeyStore(), close: async () => undefined }),
  { storage: false },
);
