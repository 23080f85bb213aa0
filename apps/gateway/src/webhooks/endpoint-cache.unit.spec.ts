import { describe, expect, it } from 'vitest';
import { createEndpointCache } from './endpoint-cache.ts';
import { testEndpoint } from './testing/endpoint-fixture.ts';
import type { WebhookEndpoint } from './webhook-store.port.ts';

const endpoint = (tenantId: string, endpointId: string): WebhookEndpoint =>
  testEndpoint(tenantId, endpointId);

/** A store of endpoints that records each read's tenants. */
const storeOf = (stored: WebhookEndpoint[]) => {
  const reads: string[][] = [];
  let hold: Promise<void> | undefined;
  return {
    reads,
    stored,
    holdNext: () => {
      let release!: () => void;
      hold = new Promise((resolve) => (release = resolve));
      return release;
    },
    read: async (tenantIds: readonly string[]) => {
      reads.push([...tenantIds]);
      const found = stored.filter((e) => tenantIds.includes(e.tenantId));
      const held = hold;
      hold = undefined;
      await held;
      return found;
    },
  };
};

const ids = (endpoints: readonly WebhookEndpoint[]) => endpoints.map((e) => `${e.tenantId}/${e.endpointId}`);

describe('the fan-out endpoint cache', () => {
  it('reads every time until its listener runs', async () => {
    const store = storeOf([endpoint('a', 'e1')]);
    const cache = createEndpointCache(store.read);
    await cache.endpointsOfTenants(['a']);
    await cache.endpointsOfTenants(['a']);
    expect(store.reads).toEqual([['a'], ['a']]);
  });

  it('then keeps each tenant (those without endpoints too) until a change of that tenant', async () => {
    const store = storeOf([endpoint('a', 'e1'), endpoint('b', 'e1')]);
    const cache = createEndpointCache(store.read);
    cache.changed();
    expect(ids(await cache.endpointsOfTenants(['a', 'b', 'none']))).toEqual(['a/e1', 'b/e1']);
    expect(ids(await cache.endpointsOfTenants(['b', 'a', 'none']))).toEqual(['b/e1', 'a/e1']);
    expect(store.reads).toEqual([['a', 'b', 'none']]);
    // A write of tenant a's endpoints notifies a: only a is read again, and its new endpoint shows.
    store.stored.push(endpoint('a', 'e2'));
    cache.changed('a');
    expect(ids(await cache.endpointsOfTenants(['a', 'b']))).toEqual(['b/e1', 'a/e1', 'a/e2']);
    expect(store.reads).toEqual([['a', 'b', 'none'], ['a']]);
    // A (re)connected listener may have missed changes: every tenant is read again.
    cache.changed('');
    await cache.endpointsOfTenants(['a', 'b', 'none']);
    expect(store.reads.at(-1)).toEqual(['a', 'b', 'none']);
  });

  it('keeps and returns no signing secret (the fan-out needs none)', async () => {
    const store = storeOf([endpoint('a', 'e1')]);
    const cache = createEndpointCache(store.read);
    cache.changed();
    expect((await cache.endpointsOfTenants(['a'])).map((e) => e.secret)).toEqual(['']);
    expect((await cache.endpointsOfTenants(['a'])).map((e) => e.secret)).toEqual(['']);
  });

  it('does not keep a read that a change overtook', async () => {
    const store = storeOf([endpoint('a', 'e1')]);
    const cache = createEndpointCache(store.read);
    cache.changed();
    const release = store.holdNext();
    const reading = cache.endpointsOfTenants(['a']);
    // The endpoint is deleted (and notified) while the read is on its way with the old rows.
    store.stored.length = 0;
    cache.changed('a');
    release();
    expect(ids(await reading)).toEqual(['a/e1']);
    expect(ids(await cache.endpointsOfTenants(['a']))).toEqual([]);
    expect(store.reads).toEqual([['a'], ['a']]);
  });

  it('reads an entry older than maxAgeMs again, and keeps at most maxTenants', async () => {
    let now = 0;
    const store = storeOf([]);
    const cache = createEndpointCache(store.read, { maxAgeMs: 1_000, maxTenants: 2, now: () => now });
    cache.changed();
    await cache.endpointsOfTenants(['a']);
    now = 1_000;
    await cache.endpointsOfTenants(['a']);
    now = 1_001;
    await cache.endpointsOfTenants(['a']);
    expect(store.reads).toEqual([['a'], ['a']]);
    await cache.endpointsOfTenants(['b']);
    await cache.endpointsOfTenants(['c']);
    // a was the oldest entry of three: it is gone, b and c are kept.
    await cache.endpointsOfTenants(['b', 'c']);
    await cache.endpointsOfTenants(['a']);
    expect(store.reads).toEqual([['a'], ['a'], ['b'], ['c'], ['a']]);
  });
});
