import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNodeHttpTransport } from '@agentledger/agents';
import { verifyWebhook } from '@agentledger/client';
import { sessionStreamId } from '@agentledger/events';
import {
  createPgDriver,
  createPostgresEventStore,
  type PostgresEventStore,
} from '@agentledger/events/postgres';
import { createTestDatabase, eventually, type TestDatabase } from '@agentledger/testing';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrateGatewayDatabase } from '../auth/postgres-api-key-store.ts';
import { randomBytes } from 'node:crypto';
import { endpointChangesReachTheCache } from './endpoint-cache.contract.ts';
import { createSecretBox, readSecretBox } from './secret-box.ts';
import { createSqlWebhookStore } from './sql-webhook-store.ts';
import { startWebhooks, type RunningWebhooks, type WebhookSettings } from './start-webhooks.ts';
import { endpointsFor } from './webhook-fanout.ts';
import type { WebhookEndpoint, WebhookStore } from './webhook-store.port.ts';

type Received = Readonly<{ headers: IncomingHttpHeaders; body: string }>;
type Receiver = Readonly<{
  url: string;
  received: Received[];
  answer: { status: number; location?: string };
  close: () => Promise<void>;
}>;

const startReceiver = async (): Promise<Receiver> => {
  const received: Received[] = [];
  const answer: { status: number; location?: string } = { status: 204 };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(answer.status, answer.location === undefined ? {} : { location: answer.location });
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    answer,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
};

const SECRET = `whsec_${Buffer.from('a test secret of enough bytes!!').toString('base64')}`;
const settings: WebhookSettings = {
  initialBackoffMs: 50,
  maxBackoffMs: 200,
  retryPeriodMs: 60_000,
  batchSize: 8,
  leaseMs: 5_000,
  timeoutMs: 2_000,
  pollIntervalMs: 50,
};

const endpoint = (
  tenantId: string,
  endpointId: string,
  url: string,
  matchTypes: readonly string[],
): WebhookEndpoint => ({
  tenantId,
  endpointId,
  url,
  eventTypes: matchTypes,
  statuses: [],
  matchTypes,
  secret: SECRET,
  createdAt: new Date(Date.now() - 1_000),
  updatedAt: new Date(),
});

let database: TestDatabase;
let store: PostgresEventStore;
let webhooks: WebhookStore;
const running: RunningWebhooks[] = [];
const receivers: Receiver[] = [];

beforeAll(async () => {
  database = await createTestDatabase(inject('databaseUrl'), 'webhooks');
  store = await createPostgresEventStore({ connectionString: database.url, migrate: true });
  await migrateGatewayDatabase(database.url);
  webhooks = createSqlWebhookStore(store.db);
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
afterAll(async () => {
  await store.close();
  await database.drop();
});

const receiver = async (): Promise<Receiver> => {
  const r = await startReceiver();
  receivers.push(r);
  return r;
};

const run = (
  subscriberId: string,
  options: Partial<WebhookSettings> & { allowPrivate?: boolean; resolveTo?: string } = {},
): RunningWebhooks => {
  const { allowPrivate = true, resolveTo, ...overrides } = options;
  const started = startWebhooks({
    store,
    webhooks,
    transport: createNodeHttpTransport({
      allowPrivateAddresses: allowPrivate,
      ...(resolveTo === undefined
        ? {}
        : { resolve: async () => [{ address: resolveTo, family: 4 as const }] }),
    }),
    settings: { ...settings, ...overrides },
    subscriberId,
  });
  running.push(started);
  return started;
};

const append = async (tenantId: string, sessionId: string, types: readonly string[]): Promise<void> => {
  await store.append(
    sessionStreamId(tenantId, sessionId),
    types.map((type) => ({ type, data: { note: `${sessionId} ${type}` } })),
    { tenantId, expectedVersion: 'any' },
  );
};

const payloadOf = (
  r: Received,
): { type: string; data: { sessionId: string; version: number; deliveryId: string } } =>
  JSON.parse(r.body) as never;

describe('webhook store on Postgres: tenants are walls', () => {
  it('lists, finds, rotates and deletes only within the tenant; an update keeps the secret', async () => {
    await webhooks.putEndpoint(endpoint('wall-a', 'ep', 'https://a.example/h', ['TurnCompleted']));
    const updated = await webhooks.putEndpoint({
      ...endpoint('wall-a', 'ep', 'https://a.example/v2', ['TurnFailed']),
      secret: 'whsec_other',
    });
    expect(updated.created).toBe(false);
    expect(updated.endpoint).toMatchObject({
      url: 'https://a.example/v2',
      secret: SECRET,
      matchTypes: ['TurnFailed'],
    });
    expect(await webhooks.listEndpoints('wall-b')).toEqual([]);
    expect(await webhooks.getEndpoint('wall-b', 'ep')).toBeUndefined();
    expect(await webhooks.rotateSecret('wall-b', 'ep', 'whsec_x', new Date())).toBe(false);
    expect(await webhooks.deleteEndpoint('wall-b', 'ep')).toBe(false);
    const both = await webhooks.endpointsOfTenants(['wall-b', 'wall-a']);
    expect(both.map((e) => `${e.tenantId}/${e.endpointId}`)).toEqual(['wall-a/ep']);
    const at = (tenantId: string, ms: number) => ({
      tenantId,
      type: 'TurnFailed',
      recordedAt: new Date(Date.now() + ms).toISOString(),
    });
    expect(endpointsFor(both, at('wall-b', 0))).toEqual([]);
    expect(endpointsFor(both, at('wall-a', 0)).map((e) => e.endpointId)).toEqual(['ep']);
    expect(endpointsFor(both, at('wall-a', -60_000))).toEqual([]);
    expect(endpointsFor(both, { ...at('wall-a', 0), type: 'TurnCompleted' })).toEqual([]);
    expect(await webhooks.rotateSecret('wall-a', 'ep', 'whsec_new', new Date())).toBe(true);
    expect((await webhooks.getEndpoint('wall-a', 'ep'))?.secret).toBe('whsec_new');
    expect(await webhooks.deleteEndpoint('wall-a', 'ep')).toBe(true);
    expect(await webhooks.listEndpoints('wall-a')).toEqual([]);
  });

  it("an endpoint write reaches another process' fan-out cache by its notification, for its tenant only", async () => {
    // A second store on its own pool stands for another gateway replica.
    const other = await createPostgresEventStore({ connectionString: database.url });
    try {
      await endpointChangesReachTheCache(
        webhooks,
        createSqlWebhookStore(other.db),
        createPgDriver(other.pool, false).listen,
        'cache-pg',
      );
    } finally {
      await other.close();
    }
  });

  it('claims only the oldest undelivered delivery per endpoint and session, never one another deliverer holds', async () => {
    await webhooks.putEndpoint(endpoint('claims', 'ep', 'https://c.example/h', ['TurnCompleted']));
    const now = new Date();
    const delivery = (id: string, streamId: string, globalPosition: number) => ({
      deliveryId: id,
      tenantId: 'claims',
      endpointId: 'ep',
      streamId,
      globalPosition,
      eventType: 'TurnCompleted',
      payload: '{}',
      now,
      retryUntil: new Date(now.getTime() + 60_000),
    });
    await webhooks.addDeliveries([
      delivery('c1', 's-1', 1_000_001),
      delivery('c2', 's-1', 1_000_002),
      delivery('c3', 's-2', 1_000_003),
    ]);
    await webhooks.addDeliveries([delivery('c1', 's-1', 1_000_001)]);
    const [first, second] = await Promise.all([
      webhooks.claimDue(now, 10, 5_000),
      webhooks.claimDue(now, 10, 5_000),
    ]);
    const claimed = [...first!, ...second!].map((d) => d.deliveryId).sort();
    expect(claimed).toEqual(['c1', 'c3']);
    expect(await webhooks.claimDue(now, 10, 5_000)).toEqual([]);
    await webhooks.recordAttempt(
      { deliveryId: 'c1', attempts: 1 },
      { kind: 'delivered', status: 200, at: now },
    );
    expect((await webhooks.claimDue(now, 10, 5_000)).map((d) => d.deliveryId)).toEqual(['c2']);
    // a claim whose lease ran out (its deliverer died) is claimed again, same id, attempt counted
    const later = new Date(now.getTime() + 6_000);
    const again = await webhooks.claimDue(later, 10, 5_000);
    expect(again.map((d) => [d.deliveryId, d.attempts])).toEqual([
      ['c2', 2],
      ['c3', 2],
    ]);
    // the first claim's late answer changes nothing; the current claim's does
    const status = async () =>
      (await webhooks.listDeliveries('claims', 'ep', { limit: 10 })).find((d) => d.deliveryId === 'c2')
        ?.status;
    await webhooks.recordAttempt(
      { deliveryId: 'c2', attempts: 1 },
      { kind: 'delivered', status: 200, at: later },
    );
    expect(await status()).toBe('pending');
    await webhooks.recordAttempt(
      { deliveryId: 'c2', attempts: 2 },
      { kind: 'delivered', status: 200, at: later },
    );
    expect(await status()).toBe('delivered');
  });
});

describe('webhook secrets at rest with the operator key', () => {
  it('stores them sealed, bound to their endpoint; reads and claims them in the clear', async () => {
    const key = randomBytes(32);
    const sealed = createSqlWebhookStore(
      store.db,
      readSecretBox(key.toString('base64'), () => ''),
    );
    await sealed.putEndpoint(endpoint('sealed', 'ep', 'https://s.example/h', ['TurnCompleted']));
    await sealed.putEndpoint(endpoint('sealed', 'other', 'https://s.example/o', ['TurnCompleted']));
    const { rows } = await store.pool.query<{ endpoint_id: string; secret: string }>(
      `select endpoint_id, secret from webhook_endpoints where tenant_id = 'sealed' order by endpoint_id`,
    );
    expect(rows.map((r) => r.secret.startsWith('sealed:v1:'))).toEqual([true, true]);
    expect(JSON.stringify(rows)).not.toContain(SECRET.slice(6));
    expect((await sealed.getEndpoint('sealed', 'ep'))?.secret).toBe(SECRET);
    const now = new Date();
    await sealed.addDeliveries([
      {
        deliveryId: 'sealed-1',
        tenantId: 'sealed',
        endpointId: 'ep',
        streamId: 's',
        globalPosition: 2_000_001,
        eventType: 'TurnCompleted',
        payload: '{}',
        now,
        retryUntil: new Date(now.getTime() + 60_000),
      },
    ]);
    expect((await sealed.claimDue(now, 10, 5_000)).map((d) => d.secret)).toEqual([SECRET]);
    // a sealed secret copied to another endpoint's row does not open; a store without the key refuses it
    await store.pool.query(
      `update webhook_endpoints set secret = $1 where tenant_id = 'sealed' and endpoint_id = 'other'`,
      [rows[0]!.secret],
    );
    await expect(sealed.getEndpoint('sealed', 'other')).rejects.toThrow();
    await expect(createSqlWebhookStore(store.db).getEndpoint('sealed', 'ep')).rejects.toThrow(
      /WEBHOOK_SECRETS_KEY/,
    );
    await expect(
      createSqlWebhookStore(store.db, createSecretBox(randomBytes(32))).getEndpoint('sealed', 'ep'),
    ).rejects.toThrow();
    expect(() => createSecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });
});

describe('webhooks driven from the event log', () => {
  it('delivers signed events in order per session; retries with the same id; parks and redelivers', async () => {
    const hook = await receiver();
    await webhooks.putEndpoint(
      endpoint('deliver', 'ep', hook.url, ['TurnCompleted', 'ToolApprovalRequested']),
    );
    hook.answer.status = 503;
    // Long enough for a retry (backoff 50 ms, then 100, 200) even when a loaded machine takes most
    // of a second for a first attempt: with 400 ms, a CI run beside another parked all three after one.
    const started = run('webhooks-deliver', { retryPeriodMs: 2_000 });
    await started.caughtUp;
    await append('deliver', 'one', ['TurnStarted', 'ToolApprovalRequested', 'TurnCompleted']);
    await append('deliver', 'two', ['TurnCompleted']);
    await append('other-tenant', 'one', ['TurnCompleted']);
    const dead = await eventually('both first deliveries parked as dead', async () => {
      const parked = [...(await webhooks.listDeliveries('deliver', 'ep', { status: 'dead', limit: 10 }))];
      return parked.length === 3 ? parked : undefined;
    });
    const attempts = hook.received.length;
    expect(attempts).toBeGreaterThanOrEqual(4);
    // every attempt of a delivery carries its id and a valid signature over its exact body
    for (const r of hook.received) {
      const { id } = verifyWebhook({ secret: SECRET, headers: r.headers, body: r.body });
      expect(payloadOf(r).data.deliveryId).toBe(id);
    }
    expect(dead.map((d) => d.lastStatus)).toEqual([503, 503, 503]);

    hook.answer.status = 200;
    for (const d of dead)
      expect(
        await webhooks.redeliver('deliver', 'ep', d.deliveryId, new Date(), new Date(Date.now() + 60_000)),
      ).toBe(true);
    expect(await webhooks.redeliver('other-tenant', 'ep', dead[0]!.deliveryId, new Date(), new Date())).toBe(
      false,
    );
    await eventually('the redelivered ones arrive', async () =>
      (await webhooks.listDeliveries('deliver', 'ep', { status: 'delivered', limit: 10 })).length === 3
        ? true
        : undefined,
    );
    const successes = hook.received.slice(attempts);
    const bySession = (session: string) =>
      successes.filter((r) => payloadOf(r).data.sessionId === session).map((r) => payloadOf(r).type);
    expect(bySession('one')).toEqual(['ToolApprovalRequested', 'TurnCompleted']);
    expect(bySession('two')).toEqual(['TurnCompleted']);
    expect(new Set(successes.map((r) => r.headers['webhook-id']))).toEqual(
      new Set(dead.map((d) => d.deliveryId)),
    );
    expect(hook.received.every((r) => !r.body.includes('other-tenant'))).toBe(true);
  });

  it('refuses a host name that resolves to a private address, without connecting', async () => {
    const hook = await receiver();
    const port = new URL(hook.url).port;
    await webhooks.putEndpoint(
      endpoint('dns', 'ep', `http://hooks.example.test:${port}/h`, ['TurnCompleted']),
    );
    const started = run('webhooks-dns', { allowPrivate: false, resolveTo: '127.0.0.1', retryPeriodMs: 150 });
    await started.caughtUp;
    await append('dns', 's', ['TurnCompleted']);
    const [dead] = await eventually('the delivery is parked', async () => {
      const parked = await webhooks.listDeliveries('dns', 'ep', { status: 'dead', limit: 10 });
      return parked.length === 1 ? parked : undefined;
    });
    expect(dead?.lastError).toMatch(/AddressNotAllowed.*127\.0\.0\.1/);
    expect(hook.received).toEqual([]);
  });

  it('never follows a redirect', async () => {
    const target = await receiver();
    const hook = await receiver();
    hook.answer.status = 302;
    hook.answer.location = target.url;
    await webhooks.putEndpoint(endpoint('redirect', 'ep', hook.url, ['TurnCompleted']));
    const started = run('webhooks-redirect', { retryPeriodMs: 150 });
    await started.caughtUp;
    await append('redirect', 's', ['TurnCompleted']);
    const [dead] = await eventually('the delivery is parked', async () => {
      const parked = await webhooks.listDeliveries('redirect', 'ep', { status: 'dead', limit: 10 });
      return parked.length === 1 ? parked : undefined;
    });
    expect(dead).toMatchObject({
      lastStatus: 302,
      lastError: expect.stringMatching(/redirects are not followed/) as string,
    });
    expect(hook.received.length).toBeGreaterThan(0);
    expect(target.received).toEqual([]);
  });
});
