import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNodeHttpTransport } from '@agentledger/agents';
import { verifyWebhook } from '@agentledger/client';
import { sessionStreamId } from '@agentledger/events';
import { createInProcessEventBus, createOutboxRelay } from '@agentledger/events/bus';
import { createPgliteEventStore, type PgliteEventStore } from '@agentledger/events/pglite';
import { eventually } from '@agentledger/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateGatewayPglite } from '../auth/pglite-api-keys.ts';
import { endpointChangesReachTheCache } from './endpoint-cache.contract.ts';
import { createSqlWebhookStore } from './sql-webhook-store.ts';
import { HANDED_TO_RELAY, startWebhooks } from './start-webhooks.ts';

// The embedded product (npm start) runs the same store and loops on PGlite.
describe('webhooks on PGlite (the standalone app)', () => {
  let store: PgliteEventStore;
  beforeAll(async () => {
    store = await createPgliteEventStore();
    await migrateGatewayPglite(store.pglite);
  }, 60_000);
  afterAll(async () => {
    await store.close();
  });

  /** A receiving server and a tenant's endpoint for `types` on it. */
  const receiving = async (tenantId: string, types: readonly string[] = ['TurnCompleted']) => {
    const bodies: string[] = [];
    const secret = `whsec_${Buffer.from('pglite secret, thirty-two bytes!').toString('base64')}`;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        verifyWebhook({ secret, headers: request.headers, body });
        bodies.push(body);
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const webhooks = createSqlWebhookStore(store.db);
    const now = new Date(Date.now() - 1_000);
    await webhooks.putEndpoint({
      tenantId,
      endpointId: 'ep',
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/h`,
      eventTypes: [...types],
      statuses: [],
      matchTypes: [...types].sort(),
      secret,
      createdAt: now,
      updatedAt: now,
    });
    const start = (fedBy: 'subscription' | 'relay', subscriberId = 'webhooks') =>
      startWebhooks({
        store,
        webhooks,
        transport: createNodeHttpTransport({ allowPrivateAddresses: true }),
        settings: {
          initialBackoffMs: 50,
          maxBackoffMs: 100,
          retryPeriodMs: 10_000,
          batchSize: 4,
          leaseMs: 5_000,
          timeoutMs: 2_000,
          pollIntervalMs: 50,
        },
        subscriberId,
        fedBy,
      });
    const completed = (sessionId: string) =>
      store.append(sessionStreamId(tenantId, sessionId), [{ type: 'TurnCompleted', data: {} }], {
        tenantId,
        expectedVersion: 'any',
      });
    const sessionsOf = () =>
      bodies.map((b) => (JSON.parse(b) as { data: { sessionId: string } }).data.sessionId);
    /** The sessions delivered, once there are `count` deliveries. */
    const delivered = (count: number) =>
      eventually(`${count} deliveries`, () => (sessionsOf().length === count ? sessionsOf() : undefined));
    const close = () => new Promise((resolve) => server.close(resolve));
    return { start, completed, sessionsOf, delivered, bodies, webhooks, close };
  };

  it("an endpoint write reaches the fan-out's cache by its notification, for its tenant only", async () => {
    const webhooks = createSqlWebhookStore(store.db);
    await endpointChangesReachTheCache(
      webhooks,
      webhooks,
      (channel, onNotify) => store.pglite.listen(channel, onNotify),
      'cache-pglite',
    );
  });

  it('fans out, claims in order per session and delivers signed requests', async () => {
    const tenant = await receiving('t', ['TurnStarted', 'TurnCompleted']);
    const running = tenant.start('subscription');
    try {
      await running.caughtUp;
      await store.append(
        sessionStreamId('t', 's'),
        [
          { type: 'TurnStarted', data: {} },
          { type: 'AgentMessageEmitted', data: {} },
          { type: 'TurnCompleted', data: {} },
        ],
        { tenantId: 't', expectedVersion: 'any' },
      );
      const types = await eventually('both deliveries', () =>
        tenant.bodies.length === 2
          ? tenant.bodies.map((b) => (JSON.parse(b) as { type: string }).type)
          : undefined,
      );
      expect(types).toEqual(['TurnStarted', 'TurnCompleted']);
      // The receiver sees a body before the deliverer records the 200: the backlog drains after.
      const backlog = await eventually('an empty backlog', async () => {
        const rows = await tenant.webhooks.backlog();
        return rows.length === 0 ? rows : undefined;
      });
      expect(backlog).toEqual([]);
    } finally {
      await running.stop();
      await tenant.close();
    }
  }, 30_000);

  it('fed by the relay: fans out what the relay publishes, and reads the log for nothing of its own', async () => {
    const tenant = await receiving('t-relay');
    const running = tenant.start('relay', 'webhooks-relay');
    const relay = createOutboxRelay({
      store,
      bus: createInProcessEventBus({ partitions: 2 }),
      relayId: 'relay-webhooks-test',
      idlePollMs: 20,
      onPublished: running.fanOut,
    });
    try {
      await running.caughtUp;
      relay.start();
      await tenant.completed('r1');
      await tenant.completed('r2');
      expect(await tenant.delivered(2)).toEqual(['r1', 'r2']);
      expect(await store.loadCheckpoint('webhooks-relay')).toBeUndefined();
    } finally {
      await relay.stop();
      await running.stop();
      await tenant.close();
    }
  }, 30_000);

  it('fed by the relay: first fans out what an earlier subscription left, once, then hands over', async () => {
    const tenant = await receiving('t-handover');
    const earlier = tenant.start('subscription', 'webhooks-handover');
    await earlier.caughtUp;
    await tenant.completed('h1');
    await tenant.delivered(1);
    await earlier.stop();
    // Recorded while nothing fanned out (a crash between the subscription and the relay's checkpoint).
    await tenant.completed('h2');
    const later = tenant.start('relay', 'webhooks-handover');
    try {
      await later.caughtUp;
      expect(await tenant.delivered(2)).toEqual(['h1', 'h2']);
      expect(await store.loadCheckpoint('webhooks-handover')).toBe(HANDED_TO_RELAY);
    } finally {
      await later.stop();
    }
    // Handed over: a next start catches nothing up (the relay feeds it).
    await tenant.completed('h3');
    const next = tenant.start('relay', 'webhooks-handover');
    try {
      await next.caughtUp;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(tenant.sessionsOf()).toEqual(['h1', 'h2']);
    } finally {
      await next.stop();
      await tenant.close();
    }
  }, 30_000);
});
