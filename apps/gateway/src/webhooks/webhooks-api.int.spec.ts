import { createPostgresEventStore, type PostgresEventStore } from '@agentledger/events/postgres';
import { createTestDatabase, type TestDatabase } from '@agentledger/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrateGatewayDatabase } from '../auth/postgres-api-key-store.ts';
import { connectGrpc } from '../testing/grpc-client.ts';
import { KEYS, request, startTestGateway, type TestGateway } from '../testing/test-gateway.ts';
import { createSqlWebhookStore } from './sql-webhook-store.ts';
import { createWebhooksService } from './webhooks.service.ts';

type Problem = { status: number; errors?: { in: string; field: string }[] };

let database: TestDatabase;
let store: PostgresEventStore;
let gateway: TestGateway;

beforeAll(async () => {
  database = await createTestDatabase(inject('databaseUrl'), 'webhooks_api');
  store = await createPostgresEventStore({ connectionString: database.url, migrate: true });
  await migrateGatewayDatabase(database.url);
  gateway = await startTestGateway({
    eventStore: store,
    webhooks: createWebhooksService({
      webhooks: createSqlWebhookStore(store.db),
      clock: () => new Date(),
      allowPrivateAddresses: false,
      retryPeriodMs: 60_000,
    }),
  });
});
afterAll(async () => {
  await gateway.close();
  await store.close();
  await database.drop();
});

const put = (key: string, id: string, body: unknown) =>
  request(gateway, 'PUT', `/v1/webhooks/${id}`, { key, body });

describe('webhook endpoints over REST', () => {
  it('creates with a secret shown once, updates without it, lists without secrets', async () => {
    const created = await put(KEYS.a, 'crm', { url: 'https://crm.example/hooks', events: ['TurnCompleted'] });
    expect(created.status).toBe(201);
    const first = (await created.json()) as { secret: string; events: string[] };
    expect(first.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const updated = await put(KEYS.a, 'crm', {
      url: 'https://crm.example/v2',
      statuses: ['awaiting_approval'],
    });
    expect(updated.status).toBe(200);
    expect(await updated.json()).toMatchObject({
      webhookId: 'crm',
      url: 'https://crm.example/v2',
      events: [],
      statuses: ['awaiting_approval'],
    });
    const list = await (await request(gateway, 'GET', '/v1/webhooks', { key: KEYS.a })).text();
    expect(JSON.parse(list)).toMatchObject({ items: [{ webhookId: 'crm' }] });
    expect(list).not.toContain(first.secret);
    const rotated = (await (
      await request(gateway, 'POST', '/v1/webhooks/crm/rotate-secret', { key: KEYS.a })
    ).json()) as { secret: string };
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(first.secret);
    // no secret ever reaches the event log (the table itself: readAll may stop short under load)
    const { rows } = await store.pool.query<{ n: number }>(
      'select count(*)::int as n from events where data::text like any($1) or metadata::text like any($1)',
      [[`%${first.secret.slice(6)}%`, `%${rotated.secret.slice(6)}%`]],
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('refuses private, loopback, link-local and metadata URLs and credentials, naming the field; stores nothing', async () => {
    for (const url of [
      'http://127.0.0.1:8080/h',
      'http://localhost/h',
      'http://169.254.169.254/latest/meta-data',
      'http://10.1.2.3/h',
      'http://[::1]/h',
      'http://[::ffff:127.0.0.1]/h',
      'http://2130706433/h',
      'https://user:pass@crm.example/h',
      'ftp://crm.example/h',
      'not a url',
    ]) {
      const response = await put(KEYS.a, 'bad', { url, events: ['TurnCompleted'] });
      expect({ url, status: response.status }).toEqual({ url, status: 400 });
      expect(((await response.json()) as Problem).errors?.[0]).toMatchObject({ in: 'body', field: 'url' });
    }
    const unknownType = await put(KEYS.a, 'bad', { url: 'https://x.example/h', events: ['Nope'] });
    expect(((await unknownType.json()) as Problem).errors?.[0]).toMatchObject({ field: 'events.0' });
    const nothing = await put(KEYS.a, 'bad', { url: 'https://x.example/h' });
    expect(((await nothing.json()) as Problem).errors?.[0]).toMatchObject({ field: 'events' });
    expect(await (await request(gateway, 'GET', '/v1/webhooks/bad', { key: KEYS.a })).status).toBe(404);
  });

  it("never shows, changes or removes another tenant's endpoint", async () => {
    await put(KEYS.a, 'mine', { url: 'https://a.example/h', events: ['TurnFailed'] });
    expect(await (await request(gateway, 'GET', '/v1/webhooks', { key: KEYS.b })).json()).toEqual({
      items: [],
    });
    for (const [method, path] of [
      ['GET', '/v1/webhooks/mine'],
      ['DELETE', '/v1/webhooks/mine'],
      ['POST', '/v1/webhooks/mine/rotate-secret'],
      ['GET', '/v1/webhooks/mine/deliveries'],
      ['POST', `/v1/webhooks/mine/deliveries/msg_${'0'.repeat(32)}/redeliver`],
    ] as const)
      expect({ path, status: (await request(gateway, method, path, { key: KEYS.b })).status }).toEqual({
        path,
        status: 404,
      });
    expect((await request(gateway, 'GET', '/v1/webhooks/mine', { key: KEYS.a })).status).toBe(200);
    expect((await request(gateway, 'DELETE', '/v1/webhooks/mine', { key: KEYS.a })).status).toBe(204);
    expect((await request(gateway, 'GET', '/v1/webhooks/mine', { key: KEYS.a })).status).toBe(404);
  });

  it('needs the webhooks scopes, and documents the routes', async () => {
    expect((await request(gateway, 'GET', '/v1/webhooks', { key: KEYS.readOnly })).status).toBe(403);
    const document = (await (await fetch(`${gateway.url}/openapi.json`)).json()) as {
      paths: Record<string, object>;
    };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/v1/webhooks',
        '/v1/webhooks/{webhookId}',
        '/v1/webhooks/{webhookId}/rotate-secret',
        '/v1/webhooks/{webhookId}/deliveries',
        '/v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver',
      ]),
    );
  });

  it('offers the same over gRPC: put, list, rotate, dead letters, delete; field errors and tenant walls', async () => {
    const grpc = await connectGrpc(gateway.grpcAddress);
    try {
      const created = (await grpc.call(
        'Webhooks',
        'PutWebhook',
        { webhook_id: 'erp', url: 'https://erp.example/h', events: ['TurnCompleted'], statuses: [] },
        KEYS.a,
      )) as { created: boolean; secret: string; webhook: { webhook_id: string } };
      expect(created).toMatchObject({ created: true, webhook: { webhook_id: 'erp' } });
      expect(created.secret).toMatch(/^whsec_/);
      const again = (await grpc.call(
        'Webhooks',
        'PutWebhook',
        { webhook_id: 'erp', url: 'https://erp.example/v2', events: [], statuses: ['failed'] },
        KEYS.a,
      )) as { created: boolean; secret: string };
      expect(again).toMatchObject({ created: false, secret: '' });
      const list = (await grpc.call('Webhooks', 'ListWebhooks', {}, KEYS.a)) as {
        items: { webhook_id: string }[];
      };
      expect(list.items.map((w) => w.webhook_id)).toContain('erp');
      const rotated = (await grpc.call('Webhooks', 'RotateWebhookSecret', { webhook_id: 'erp' }, KEYS.a)) as {
        secret: string;
      };
      expect(rotated.secret).not.toBe(created.secret);
      expect(await grpc.call('Webhooks', 'ListDeliveries', { webhook_id: 'erp' }, KEYS.a)).toEqual({
        items: [],
        next_after: '0',
      });
      await expect(
        grpc.call(
          'Webhooks',
          'PutWebhook',
          { webhook_id: 'x', url: 'http://169.254.169.254/', events: ['TurnCompleted'] },
          KEYS.a,
        ),
      ).rejects.toMatchObject({ code: 3, details: expect.stringContaining('url') as string });
      await expect(grpc.call('Webhooks', 'GetWebhook', { webhook_id: 'erp' }, KEYS.b)).rejects.toMatchObject({
        code: 5,
      });
      await expect(
        grpc.call('Webhooks', 'DeleteWebhook', { webhook_id: 'erp' }, KEYS.b),
      ).rejects.toMatchObject({ code: 5 });
      await grpc.call('Webhooks', 'DeleteWebhook', { webhook_id: 'erp' }, KEYS.a);
      await expect(grpc.call('Webhooks', 'GetWebhook', { webhook_id: 'erp' }, KEYS.a)).rejects.toMatchObject({
        code: 5,
      });
    } finally {
      grpc.close();
    }
  });
});
