import { describe, expect, it } from 'vitest';
import { sessionStreamId, type EventEnvelope } from '@agentledger/events';
import { testEndpoint } from './testing/endpoint-fixture.ts';
import { createWebhookFanout } from './webhook-fanout.ts';
import type { NewDelivery, WebhookEndpoint, WebhookStore } from './webhook-store.port.ts';

const endpoint = (tenantId: string, endpointId: string, createdAt: string): WebhookEndpoint =>
  testEndpoint(tenantId, endpointId, { createdAt: new Date(createdAt) });

const event = (tenantId: string, position: number, type = 'TurnCompleted'): EventEnvelope => ({
  eventId: `00000000-0000-7000-8000-${String(position).padStart(12, '0')}`,
  streamId: sessionStreamId(tenantId, 's1'),
  tenantId,
  version: position,
  globalPosition: position,
  type,
  schemaVersion: 1,
  data: { turnId: 't1' },
  metadata: {},
  recordedAt: '2026-11-29T12:00:00.000Z',
  prevHash: '',
  hash: '',
});

describe('webhook fan-out', () => {
  it('reads the endpoints once per page, for the tenants of its carried events, and picks per event', async () => {
    const lookups: string[][] = [];
    const added: NewDelivery[] = [];
    const stored = [
      endpoint('a', 'old', '2026-11-29T11:00:00.000Z'),
      endpoint('a', 'later', '2026-11-29T13:00:00.000Z'),
      endpoint('b', 'old', '2026-11-29T11:00:00.000Z'),
    ];
    const webhooks = {
      endpointsOfTenants: async (tenantIds: readonly string[]) => {
        lookups.push([...tenantIds]);
        return stored.filter((e) => tenantIds.includes(e.tenantId));
      },
      addDeliveries: async (deliveries: readonly NewDelivery[]) => void added.push(...deliveries),
    } as unknown as WebhookStore;
    const fanout = createWebhookFanout({ webhooks, clock: () => new Date(), retryPeriodMs: 1_000 });
    const page = [event('a', 1), event('a', 2, 'ModelCallCompleted'), event('b', 3), event('a', 4)];
    await fanout.page(page);
    for (const e of page) await fanout.event(e);
    expect(lookups).toEqual([['a', 'b']]);
    expect(added.map((d) => `${d.tenantId}/${d.endpointId}@${d.globalPosition}`)).toEqual([
      'a/old@1',
      'b/old@3',
      'a/old@4',
    ]);
    // A page of events no webhook carries (no session's) reads nothing; an event of a tenant the page missed reads it alone.
    await fanout.page([{ ...event('a', 5), streamId: 'not-a-session' }]);
    expect(lookups).toHaveLength(1);
    await fanout.event(event('b', 6));
    expect(lookups[1]).toEqual(['b']);
    expect(added.at(-1)?.globalPosition).toBe(6);
  });
});
