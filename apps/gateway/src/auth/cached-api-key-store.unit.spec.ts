import { describe, expect, it } from 'vitest';
import { hashApiKey, type ApiKeyRecord } from './api-key.ts';
import type { ApiKeyStore } from './api-key-store.port.ts';
import { withKeyCache } from './cached-api-key-store.ts';

const record = (key: string, tenantId = 'tenant-a'): ApiKeyRecord => ({
  keyId: `id-${key}`,
  tenantId,
  keyHash: hashApiKey(key),
  scopes: ['sessions:read'],
  createdAt: new Date(0),
});

/** A store that counts its lookups and can drop a key (a revocation by another process). */
const countingStore = (records: ApiKeyRecord[]) => {
  const rows = new Map(records.map((r) => [r.keyHash, r]));
  let lookups = 0;
  const store: ApiKeyStore = {
    findByHash: (hash) => {
      lookups += 1;
      return Promise.resolve(rows.get(hash));
    },
    add: (r) => {
      rows.set(r.keyHash, r);
      return Promise.resolve();
    },
  };
  return { store, lookups: () => lookups, revoke: (key: string) => rows.delete(hashApiKey(key)) };
};

describe('the API-key lookup cache', () => {
  it('answers a found key from memory until its time is up, then asks the store again', async () => {
    const backing = countingStore([record('k1')]);
    let now = 1_000;
    const cached = withKeyCache(backing.store, { ttlMs: 5_000, clock: () => now });
    expect(await cached.findByHash(hashApiKey('k1'))).toEqual(record('k1'));
    expect(await cached.findByHash(hashApiKey('k1'))).toEqual(record('k1'));
    expect(backing.lookups()).toBe(1);
    backing.revoke('k1');
    now += 4_999;
    expect(await cached.findByHash(hashApiKey('k1'))).toEqual(record('k1'));
    now += 1;
    expect(await cached.findByHash(hashApiKey('k1'))).toBeUndefined();
    expect(backing.lookups()).toBe(2);
  });

  it('never remembers an unknown key, so a key added later works at once', async () => {
    const backing = countingStore([]);
    const cached = withKeyCache(backing.store, { ttlMs: 5_000, clock: () => 0 });
    expect(await cached.findByHash(hashApiKey('k2'))).toBeUndefined();
    expect(await cached.findByHash(hashApiKey('k2'))).toBeUndefined();
    expect(backing.lookups()).toBe(2);
    await backing.store.add(record('k2'));
    expect(await cached.findByHash(hashApiKey('k2'))).toEqual(record('k2'));
  });

  it('keeps at most maxEntries keys, dropping the oldest', async () => {
    const backing = countingStore([record('a'), record('b'), record('c')]);
    const cached = withKeyCache(backing.store, { ttlMs: 5_000, maxEntries: 2, clock: () => 0 });
    for (const key of ['a', 'b', 'c']) await cached.findByHash(hashApiKey(key));
    expect(backing.lookups()).toBe(3);
    await cached.findByHash(hashApiKey('c'));
    await cached.findByHash(hashApiKey('b'));
    expect(backing.lookups()).toBe(3);
    await cached.findByHash(hashApiKey('a'));
    expect(backing.lookups()).toBe(4);
  });

  it('is the store itself with a ttl of 0', () => {
    const backing = countingStore([]);
    expect(withKeyCache(backing.store, { ttlMs: 0 })).toBe(backing.store);
  });
});
