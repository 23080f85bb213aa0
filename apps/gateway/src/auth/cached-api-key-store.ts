import type { ApiKeyRecord } from './api-key.ts';
import type { ApiKeyStore } from './api-key-store.port.ts';

export type KeyCacheOptions = Readonly<{
  /** How long a found key is trusted without asking the store again; 0: never cached. */
  ttlMs: number;
  /** Most keys kept; the oldest entry goes first. */
  maxEntries?: number;
  clock?: () => number;
}>;

/**
 * `store` with found keys remembered for `ttlMs`, so a busy client costs no database round trip
 * per request. Unknown keys are never remembered (a guessed key is asked about every time, and a
 * key added elsewhere works at once). The price: a key revoked or rotated by another process (the
 * CLI) keeps working here for up to `ttlMs`.
 */
export const withKeyCache = (store: ApiKeyStore, options: KeyCacheOptions): ApiKeyStore => {
  if (options.ttlMs <= 0) return store;
  const { ttlMs, maxEntries = 10_000, clock = Date.now } = options;
  const found = new Map<string, Readonly<{ record: ApiKeyRecord; until: number }>>();
  return {
    findByHash: async (keyHash) => {
      const cached = found.get(keyHash);
      if (cached !== undefined && cached.until > clock()) return cached.record;
      found.delete(keyHash);
      const record = await store.findByHash(keyHash);
      if (record === undefined) return undefined;
      if (found.size >= maxEntries) found.delete(found.keys().next().value!);
      found.set(keyHash, { record, until: clock() + ttlMs });
      return record;
    },
    add: async (record) => {
      found.delete(record.keyHash);
      await store.add(record);
    },
  };
};
