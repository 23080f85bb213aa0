import type { ApiKeyRecord } from './api-key.ts';

/** Where API keys live, by hash. Every adapter (in-memory, Postgres) behaves the same. */
export type ApiKeyStore = Readonly<{
  findByHash: (keyHash: string) => Promise<ApiKeyRecord | undefined>;
  /** Stores a key; a key whose hash is already stored is left as it is. */
  add: (record: ApiKeyRecord) => Promise<void>;
}>;
