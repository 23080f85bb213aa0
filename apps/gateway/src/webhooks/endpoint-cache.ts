import type { WebhookEndpoint, WebhookStore } from './webhook-store.port.ts';

/** Every write of an endpoint notifies this channel with its tenant id, in the write's transaction. */
export const WEBHOOKS_CHANNEL = 'agentledger_webhooks';

export type EndpointCacheOptions = Readonly<{
  /** An entry older than this is read again (a backstop for a notification a listener missed). */
  maxAgeMs?: number;
  /** Tenants kept at most; the oldest entry goes first. */
  maxTenants?: number;
  now?: () => number;
}>;

export type EndpointCache = Readonly<{
  /** `endpointsOfTenants` of the store (signing secrets blanked), kept per tenant while its listener runs. */
  endpointsOfTenants: WebhookStore['endpointsOfTenants'];
  /**
   * A notification on `WEBHOOKS_CHANNEL`: forgets the tenant (every tenant without one: a listener
   * that (re)connected may have missed some), and turns the cache on (a listener runs).
   */
  changed: (tenantId?: string) => void;
}>;

type Entry = Readonly<{ endpoints: readonly WebhookEndpoint[]; at: number }>;

/** The fan-out needs no signing secret: none is kept in memory longer than a read. */
const withoutSecret = (endpoint: WebhookEndpoint): WebhookEndpoint => ({ ...endpoint, secret: '' });

/**
 * The fan-out's endpoints by tenant, kept between pages instead of read once per page (a
 * statement per relay batch on the step path). An endpoint's write notifies its tenant in its own
 * transaction; each process' listener calls `changed`, and the next page reads that tenant again.
 * Until its listener's first call, and for an entry older than `maxAgeMs`, it reads every time; a
 * read that a change overtook is returned but not kept. An event recorded while a change's
 * notification is on its way may be fanned out by the endpoints before it: the same window the
 * fan-out's `createdAt` filter already has between two processes' clocks.
 */
export const createEndpointCache = (
  read: WebhookStore['endpointsOfTenants'],
  options: EndpointCacheOptions = {},
): EndpointCache => {
  const maxAgeMs = options.maxAgeMs ?? 30_000;
  const maxTenants = options.maxTenants ?? 10_000;
  const now = options.now ?? (() => performance.now());
  const entries = new Map<string, Entry>();
  let listening = false;
  // Counts changes: a read that started before one is not kept.
  let changes = 0;
  const fresh = (tenantId: string): Entry | undefined => {
    const entry = entries.get(tenantId);
    return entry !== undefined && now() - entry.at <= maxAgeMs ? entry : undefined;
  };
  return {
    endpointsOfTenants: async (tenantIds) => {
      const kept = tenantIds.map((id) => ({ id, entry: listening ? fresh(id) : undefined }));
      const missing = kept.flatMap(({ id, entry }) => (entry === undefined ? [id] : []));
      const cached = kept.flatMap(({ entry }) => entry?.endpoints ?? []);
      if (missing.length === 0) return cached;
      const before = changes;
      const at = now();
      const found = (await read(missing)).map(withoutSecret);
      if (listening && changes === before)
        for (const id of missing) {
          entries.delete(id);
          entries.set(id, { endpoints: found.filter((endpoint) => endpoint.tenantId === id), at });
          if (entries.size > maxTenants) entries.delete(entries.keys().next().value!);
        }
      return [...cached, ...found];
    },
    changed: (tenantId) => {
      listening = true;
      changes += 1;
      if (tenantId === undefined || tenantId === '') entries.clear();
      else entries.delete(tenantId);
    },
  };
};
