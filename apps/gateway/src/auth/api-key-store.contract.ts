import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKey, type ApiKeyRecord } from './api-key.ts';
import type { ApiKeyAdmin, ApiKeyStore } from './api-key-store.port.ts';

/** What an API-key adapter gives the contract: the store over one database, opened once per file. */
export type ApiKeyStoreHarness = Readonly<{
  store: ApiKeyStore & ApiKeyAdmin;
  /** Everything the adapter stored, as text (SQL adapters: the rows of `api_keys`). */
  stored?: () => Promise<string>;
  close: () => Promise<void>;
}>;

let counter = 0;
const freshTenant = (label: string): string => {
  counter += 1;
  return `${label}-${counter}-${Math.random().toString(36).slice(2, 10)}`;
};
const at = (second: number): Date => new Date(Date.UTC(2026, 0, 1, 0, 0, second));
/** The secret part of `al_<keyId>_<secret>` (the secret itself may contain `_`). */
const secretOf = (key: string): string => key.split('_').slice(2).join('_');

/**
 * One contract for every API-key adapter (in-memory, Postgres, PGlite). The case that reads what
 * was stored is registered only for adapters that expose their storage (`storage: true`).
 */
export const apiKeyStoreContract = (
  name: string,
  open: () => Promise<ApiKeyStoreHarness>,
  { storage }: Readonly<{ storage: boolean }>,
): void => {
  describe(`ApiKeyStore contract: ${name}`, { timeout: 30_000 }, () => {
    let harness: ApiKeyStoreHarness | undefined;
    beforeAll(async () => {
      harness = await open();
    }, 120_000);
    afterAll(async () => {
      await harness?.close();
    }, 60_000);
    const store = (): ApiKeyStore & ApiKeyAdmin => {
      if (!harness) throw new Error('the harness did not open');
      return harness.store;
    };
    const create = async (tenantId: string, second = 0): Promise<{ key: string; record: ApiKeyRecord }> => {
      const created = generateApiKey(tenantId, at(second), ['sessions:read']);
      await store().add(created.record);
      return created;
    };
    const verify = (key: string) => store().findByHash(hashApiKey(key));

    it('verifies a created key by its hash only; keeps the first record of a hash', async () => {
      const tenant = freshTenant('tenant');
      const { key, record } = await create(tenant);
      expect(await verify(key)).toEqual(record);
      expect(await verify(`${key}x`)).toBeUndefined();
      expect(await store().findByHash(key)).toBeUndefined();
      await store().add({ ...record, keyId: 'other-id', tenantId: freshTenant('intruder'), scopes: [] });
      expect(await verify(key)).toEqual(record);
    });

    it('lists a tenant’s keys oldest first, without hashes, and no other tenant’s', async () => {
      const [tenant, other] = [freshTenant('tenant'), freshTenant('other')];
      const second = await create(tenant, 2);
      const first = await create(tenant, 1);
      await create(other, 0);
      const listed = await store().list(tenant);
      expect(listed.map((key) => key.keyId)).toEqual([first.record.keyId, second.record.keyId]);
      expect(listed[0]).toEqual({
        keyId: first.record.keyId,
        tenantId: tenant,
        scopes: ['sessions:read'],
        createdAt: at(1),
        revokedAt: null,
      });
      expect(JSON.stringify(listed)).not.toContain(first.record.keyHash);
      expect(await store().list(freshTenant('nobody'))).toEqual([]);
    });

    it('revokes a key once: it no longer verifies and is listed as revoked', async () => {
      const tenant = freshTenant('tenant');
      const { key, record } = await create(tenant);
      const kept = await create(tenant, 1);
      expect(await store().revoke(tenant, record.keyId)).toBe(true);
      expect(await verify(key)).toBeUndefined();
      expect(await verify(kept.key)).toEqual(kept.record);
      expect(await store().revoke(tenant, record.keyId)).toBe(false);
      expect(await store().revoke(tenant, 'no-such-key')).toBe(false);
      const [revoked] = await store().list(tenant);
      expect(revoked?.revokedAt).toBeInstanceOf(Date);
      // A revoked hash stays taken: adding it again does not bring the key back.
      await store().add(record);
      expect(await verify(key)).toBeUndefined();
    });

    it('never revokes or rotates another tenant’s key', async () => {
      const [owner, intruder] = [freshTenant('owner'), freshTenant('intruder')];
      const { key, record } = await create(owner);
      expect(await store().revoke(intruder, record.keyId)).toBe(false);
      const next = generateApiKey(intruder, at(5));
      expect(await store().rotate(intruder, record.keyId, next.record)).toBe(false);
      expect(await verify(key)).toEqual(record);
      expect(await verify(next.key)).toBeUndefined();
      expect(await store().list(intruder)).toEqual([]);
    });

    it('rotates a key: the new one verifies and the old one no longer does', async () => {
      const tenant = freshTenant('tenant');
      const old = await create(tenant);
      const next = generateApiKey(tenant, at(1), ['sessions:read', 'sessions:write']);
      expect(await store().rotate(tenant, old.record.keyId, next.record)).toBe(true);
      expect(await verify(old.key)).toBeUndefined();
      expect(await verify(next.key)).toEqual(next.record);
      expect((await store().list(tenant)).map((key) => [key.keyId, key.revokedAt === null])).toEqual([
        [old.record.keyId, false],
        [next.record.keyId, true],
      ]);
      // The old key is revoked now: it cannot be rotated again.
      const again = generateApiKey(tenant, at(2));
      expect(await store().rotate(tenant, old.record.keyId, again.record)).toBe(false);
      expect(await verify(again.key)).toBeUndefined();
    });

    it('refuses a rotation to a key of another tenant, and keeps the old key', async () => {
      const tenant = freshTenant('tenant');
      const old = await create(tenant);
      const foreign = generateApiKey(freshTenant('other'), at(1));
      expect(await store().rotate(tenant, old.record.keyId, foreign.record)).toBe(false);
      expect(await verify(old.key)).toEqual(old.record);
      expect(await verify(foreign.key)).toBeUndefined();
    });

    it('refuses a rotation to a key whose hash is already stored, and keeps the old key', async () => {
      const tenant = freshTenant('tenant');
      const old = await create(tenant);
      const taken = await create(tenant, 1);
      expect(await store().rotate(tenant, old.record.keyId, { ...taken.record, keyId: 'fresh-id' })).toBe(
        false,
      );
      expect(await verify(old.key)).toEqual(old.record);
      expect(await verify(taken.key)).toEqual(taken.record);
      expect((await store().list(tenant)).map((key) => key.revokedAt)).toEqual([null, null]);
    });

    it('lets exactly one of many concurrent rotations of one key win', async () => {
      const tenant = freshTenant('tenant');
      const old = await create(tenant);
      const candidates = Array.from({ length: 8 }, (_, i) => generateApiKey(tenant, at(10 + i)));
      const results = await Promise.all(
        candidates.map((candidate) => store().rotate(tenant, old.record.keyId, candidate.record)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const verified = await Promise.all(candidates.map((candidate) => verify(candidate.key)));
      expect(verified.map((record) => record !== undefined)).toEqual(results);
      expect(await verify(old.key)).toBeUndefined();
      expect((await store().list(tenant)).filter((key) => key.revokedAt === null)).toHaveLength(1);
    });

    if (storage)
      it('stores no key or secret in clear, only hashes', async () => {
        const tenant = freshTenant('tenant');
        const old = await create(tenant);
        const next = generateApiKey(tenant, at(1));
        await store().rotate(tenant, old.record.keyId, next.record);
        const stored = await harness!.stored!();
        expect(stored).toContain(old.record.keyHash);
        expect(stored).toContain(next.record.keyHash);
        for (const key of [old.key, next.key]) {
          expect(stored).not.toContain(key);
          expect(stored).not.toContain(secretOf(key));
        }
      });
  });
};
