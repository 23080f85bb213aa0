import type { ApiKeyRecord } from './api-key.ts';
import type { ApiKeyAdmin, ApiKeyStore, ApiKeySummary } from './api-key-store.port.ts';

type Stored = Readonly<{ record: ApiKeyRecord; revokedAt: Date | null }>;

const summaryOf = ({ record: { keyHash: _hash, ...fields }, revokedAt }: Stored): ApiKeySummary => ({
  ...fields,
  revokedAt,
});

export const createInMemoryApiKeyStore = (now: () => Date = () => new Date()): ApiKeyStore & ApiKeyAdmin => {
  const byHash = new Map<string, Stored>();
  const active = (tenantId: string, keyId: string): Stored | undefined =>
    [...byHash.values()].find(
      ({ record, revokedAt }) => record.tenantId === tenantId && record.keyId === keyId && revokedAt === null,
    );
  const revoke = (stored: Stored): void => {
    byHash.set(stored.record.keyHash, { ...stored, revokedAt: now() });
  };
  return {
    findByHash: async (keyHash) => {
      const stored = byHash.get(keyHash);
      return stored?.revokedAt === null ? stored.record : undefined;
    },
    add: async (record) => {
      if (!byHash.has(record.keyHash)) byHash.set(record.keyHash, { record, revokedAt: null });
    },
    list: async (tenantId) =>
      [...byHash.values()]
        .filter(({ record }) => record.tenantId === tenantId)
        .sort(
          (a, b) =>
            a.record.createdAt.getTime() - b.record.createdAt.getTime() ||
            a.record.keyId.localeCompare(b.record.keyId),
        )
        .map(summaryOf),
    revoke: async (tenantId, keyId) => {
      const stored = active(tenantId, keyId);
      if (stored) revoke(stored);
      return stored !== undefined;
    },
    rotate: async (tenantId, keyId, next) => {
      const stored = active(tenantId, keyId);
      if (!stored || next.tenantId !== tenantId || byHash.has(next.keyHash)) return false;
      revoke(stored);
      byHash.set(next.keyHash, { record: next, revokedAt: null });
      return true;
    },
  };
};
