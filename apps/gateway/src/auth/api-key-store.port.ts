import type { ApiKeyRecord } from './api-key.ts';

/** Where API keys live, by hash. Every adapter (in-memory, Postgres, PGlite) behaves the same. */
export type ApiKeyStore = Readonly<{
  /** The active key with this hash (verification); a revoked key is not found. */
  findByHash: (keyHash: string) => Promise<ApiKeyRecord | undefined>;
  /** Stores a key; a key whose hash is already stored is left as it is. */
  add: (record: ApiKeyRecord) => Promise<void>;
}>;

/** A key as listed: never its hash. */
export type ApiKeySummary = Omit<ApiKeyRecord, 'keyHash'> & Readonly<{ revokedAt: Date | null }>;

/**
 * Administration of a tenant's keys, every call scoped by tenant: another tenant's key id is
 * treated as unknown. The same adapters implement it beside `ApiKeyStore`.
 */
export type ApiKeyAdmin = Readonly<{
  /** The tenant's keys, revoked ones too, oldest first. */
  list: (tenantId: string) => Promise<readonly ApiKeySummary[]>;
  /** Revokes an active key of the tenant; false when there is none with this id. */
  revoke: (tenantId: string, keyId: string) => Promise<boolean>;
  /**
   * Replaces an active key of the tenant by `next` at once (the old one is revoked, the new one
   * stored, together or not at all); false, and nothing stored, when there is no such active key
   * or `next` belongs to another tenant. Of two rotations of one key, one wins.
   */
  rotate: (tenantId: string, keyId: string, next: ApiKeyRecord) => Promise<boolean>;
}>;
