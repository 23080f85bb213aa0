import { seededApiKey } from './api-key.ts';
import type { ApiKeyStore } from './api-key-store.port.ts';
import type { ApiKeySeed } from '../config/gateway.config.ts';

/** Stores the keys given in AGENTLEDGER_API_KEYS (development, tests, first start); idempotent. */
export const seedApiKeys = async (
  store: ApiKeyStore,
  seeds: readonly ApiKeySeed[],
  now: Date,
): Promise<void> => {
  for (const { tenantId, key } of seeds) await store.add(seededApiKey(tenantId, key, now));
};
