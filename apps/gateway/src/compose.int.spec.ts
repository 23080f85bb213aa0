import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@agentledger/testing';
import { parseGatewayConfig } from './config/gateway.config.ts';
import { composeDistributedGateway, type ComposedGateway } from './compose.ts';
import { createGatewayApp } from './http/gateway-app.ts';
import { openSse } from './testing/sse-client.ts';
import { bearer, singleTeamSpec } from './testing/test-gateway.ts';

describe('the distributed gateway on Postgres', () => {
  let database: TestDatabase;
  let composed: ComposedGateway;
  let app: NestFastifyApplication;
  let url: string;

  const call = (
    method: string,
    path: string,
    key: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) =>
    fetch(`${url}${path}`, {
      method,
      headers: {
        ...bearer(key),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'gateway');
    const config = parseGatewayConfig({
      DATABASE_URL: database.url,
      AGENTLEDGER_API_KEYS: 'acme:key-acme,globex:key-globex',
      GRPC_PORT: '0',
      STREAM_POLL_INTERVAL_MS: '60000',
      RATE_LIMIT_BURST: '10000',
    });
    composed = await composeDistributedGateway(config);
    app = await createGatewayApp(composed.module, { bodyLimitBytes: config.BODY_LIMIT_BYTES, logger: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address();
    url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    expect((await call('PUT', '/v1/teams/support', 'key-acme', singleTeamSpec())).status).toBe(200);
  });
  afterAll(async () => {
    await app.close();
    await composed.close();
    await database.drop();
  });

  it('is ready when the store answers', async () => {
    expect(await (await fetch(`${url}/health/ready`)).json()).toEqual({
      status: 'ok',
      checks: { 'event-store': 'ok' },
    });
  });

  it('creates one session for 10 concurrent creates of one id, and stores one message for 20 concurrent posts', async () => {
    const creates = await Promise.all(
      Array.from({ length: 10 }, () =>
        call('POST', '/v1/sessions', 'key-acme', { teamId: 'support', sessionId: 'pg-1' }),
      ),
    );
    expect(creates.map((response) => response.status)).toEqual(Array.from({ length: 10 }, () => 201));
    expect(new Set(await Promise.all(creates.map((response) => response.text()))).size).toBe(1);
    const posts = await Promise.all(
      Array.from({ length: 20 }, () =>
        call(
          'POST',
          '/v1/sessions/pg-1/messages',
          'key-acme',
          { content: 'once' },
          { 'idempotency-key': 'pg-key' },
        ),
      ),
    );
    expect(posts.map((response) => response.status)).toEqual(Array.from({ length: 20 }, () => 202));
    expect(new Set(await Promise.all(posts.map((response) => response.text()))).size).toBe(1);
    const state = (await (await call('GET', '/v1/sessions/pg-1', 'key-acme')).json()) as {
      messages: unknown[];
    };
    expect(state.messages).toHaveLength(1);
  });

  it('keeps tenants apart: 404 for the other tenant, lists only its own sessions', async () => {
    expect((await call('GET', '/v1/sessions/pg-1', 'key-globex')).status).toBe(404);
    expect((await call('GET', '/v1/teams/support', 'key-globex')).status).toBe(404);
    const own = (await (await call('GET', '/v1/sessions', 'key-globex')).json()) as { items: unknown[] };
    expect(own.items).toEqual([]);
    const acme = (await (await call('GET', '/v1/sessions?teamId=support', 'key-acme')).json()) as {
      items: { sessionId: string; createdAt: string }[];
    };
    expect(acme.items.map((item) => item.sessionId)).toContain('pg-1');
    expect(acme.items[0]?.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('streams a session over SSE from Postgres, then live', async () => {
    await call('POST', '/v1/sessions', 'key-acme', { teamId: 'support', sessionId: 'pg-sse' });
    const stream = await openSse(`${url}/v1/sessions/pg-sse/stream`, bearer('key-acme'));
    expect(await stream.next()).toMatchObject({ id: '1', event: 'SessionStarted' });
    await call('POST', '/v1/sessions/pg-sse/messages', 'key-acme', { content: 'hello' });
    expect(await stream.next()).toMatchObject({ id: '2', event: 'UserMessageReceived' });
    stream.close();
  });

  it('audits a session: the hash chain verifies and the replay matches', async () => {
    const audit = await (await call('GET', '/v1/sessions/pg-1/audit', 'key-acme')).json();
    expect(audit).toMatchObject({ hashChainValid: true, replayMatches: true });
  });
});
