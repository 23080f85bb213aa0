import type { ApiKeyRecord } from './api-key.ts';
import type { ApiKeyStore } from './api-key-store.port.ts';

export const createInMemoryApiKeyStore = (): ApiKeyStore => {
  const byHash = new Map<string, ApiKeyRecord>();
  return {
    findByHash: async (keyHash) => byHash.get(keyHash),
    add: async (record) => {
      if (!byHash.has(record.keyHash)) byHash.set(record.keyHash, record);
    },
  };
};
