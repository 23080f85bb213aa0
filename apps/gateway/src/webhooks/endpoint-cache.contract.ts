import { eventually } from '@agentledger/testing';
import { expect } from 'vitest';
import { createEndpointCache, WEBHOOKS_CHANNEL } from './endpoint-cache.ts';
import { testEndpoint } from './testing/endpoint-fixture.ts';
import type { WebhookEndpoint, WebhookStore } from './webhook-store.port.ts';

type Listen = (channel: string, onNotify: (payload?: string) => void) => Promise<() => Promise<void>>;

const endpoint = (tenantId: string, matchTypes: readonly string[]): WebhookEndpoint =>
  testEndpoint(tenantId, 'cached', { matchTypes });

/**
 * What an endpoint write of one process does to the fan-out cache of another (`writer` and
 * `listen` on different connections of one database): each write notifies its tenant when it
 * commits; the cache reads that tenant again and no other. `tenant` must be unused.
 */
export const endpointChangesReachTheCache = async (
  writer: WebhookStore,
  reader: WebhookStore,
  listen: Listen,
  tenant: string,
): Promise<void> => {
  const other = `${tenant}-other`;
  const reads: string[][] = [];
  const cache = createEndpointCache(async (tenantIds) => {
    reads.push([...tenantIds]);
    return reader.endpointsOfTenants(tenantIds);
  });
  const unlisten = await listen(WEBHOOKS_CHANNEL, cache.changed);
  try {
    cache.changed();
    const typesOf = async () => (await cache.endpointsOfTenants([tenant])).map((e) => e.matchTypes.join(','));
    const readsOf = (id: string) => reads.filter((r) => r.includes(id)).length;
    expect(await typesOf()).toEqual([]);
    expect(await typesOf()).toEqual([]);
    await cache.endpointsOfTenants([other]);
    expect(reads).toEqual([[tenant], [other]]);

    await writer.putEndpoint(endpoint(tenant, ['TurnCompleted']));
    expect(
      await eventually('the created endpoint', async () => (await typesOf()).length === 1 || undefined),
    ).toBe(true);
    await writer.putEndpoint(endpoint(tenant, ['TurnFailed']));
    await eventually('the updated endpoint', async () =>
      (await typesOf())[0] === 'TurnFailed' ? true : undefined,
    );
    const before = readsOf(tenant);
    await writer.rotateSecret(tenant, 'cached', 'whsec_rotated', new Date());
    await eventually('a read after the rotation', async () => {
      await typesOf();
      return readsOf(tenant) > before || undefined;
    });
    expect(await writer.deleteEndpoint(tenant, 'cached')).toBe(true);
    await eventually('the endpoint gone', async () => ((await typesOf()).length === 0 ? true : undefined));
    // The other tenant was read once: no write of this tenant's reached it.
    await cache.endpointsOfTenants([other]);
    expect(readsOf(other)).toBe(1);
    // A write that changes nothing (no such endpoint) notifies nobody.
    const settled = readsOf(tenant);
    expect(await writer.deleteEndpoint(tenant, 'cached')).toBe(false);
    expect(await writer.rotateSecret(tenant, 'cached', 'whsec_x', new Date())).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await typesOf();
    expect(readsOf(tenant)).toBe(settled);
  } finally {
    await unlisten();
  }
};
