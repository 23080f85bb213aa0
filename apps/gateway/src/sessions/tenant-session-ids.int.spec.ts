import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@agentledger/testing';
import { parseGatewayConfig } from '../config/gateway.config.ts';
import { composeDistributedGateway, type ComposedGateway } from '../compose.ts';
import { GrpcGateway } from '../grpc/grpc-gateway.ts';
import { createGatewayApp } from '../http/gateway-app.ts';
import { connectGrpc, type GrpcTestClient } from '../testing/grpc-client.ts';
import { bearer, singleTeamSpec } from '../testing/test-gateway.ts';

const A = 'key-acme';
const B = 'key-globex';

/** A body with one id written as `<id>`, so answers about two ids compare equal when they are alike. */
const withoutId = (text: string, id: string): string => text.split(id).join('<id>');

describe("one session id in two tenants, on Postgres: tenant B's answers never depend on tenant A's ids", () => {
  let database: TestDatabase;
  let composed: ComposedGateway;
  let app: NestFastifyApplication;
  let url: string;
  let grpc: GrpcTestClient;

  const call = (method: string, path: string, key: string, body?: unknown) =>
    fetch(`${url}${path}`, {
      method,
      headers: { ...bearer(key), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  /** Status and body of B's request about `id`, the id itself written as `<id>`. */
  const answer = async (request: (id: string) => Promise<Response>, id: string) => {
    const response = await request(id);
    return { status: response.status, body: withoutId(await response.text(), id) };
  };

  /** Code and problem details of a gRPC call that fails (or its answer), the id written as `<id>`. */
  const grpcAnswer = async (request: (id: string) => Promise<unknown>, id: string) => {
    try {
      return { ok: withoutId(JSON.stringify(await request(id)), id) };
    } catch (error) {
      const failure = error as ServiceError;
      return { code: failure.code, details: withoutId(failure.details, id) };
    }
  };

  const createdBy = async (key: string, sessionId: string) => {
    const response = await call('POST', '/v1/sessions', key, { teamId: 'support', sessionId });
    expect(response.status).toBe(201);
  };

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'tenant_ids');
    const config = parseGatewayConfig({
      DATABASE_URL: database.url,
      AGENTLEDGER_API_KEYS: `acme:${A},globex:${B}`,
      GRPC_PORT: '0',
      STREAM_POLL_INTERVAL_MS: '60000',
      RATE_LIMIT_BURST: '10000',
    });
    composed = await composeDistributedGateway(config);
    app = await createGatewayApp(composed.module, { bodyLimitBytes: config.BODY_LIMIT_BYTES, logger: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address();
    url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    grpc = await connectGrpc(`127.0.0.1:${app.get(GrpcGateway).port()}`);
    for (const key of [A, B])
      expect((await call('PUT', '/v1/teams/support', key, singleTeamSpec())).status).toBe(200);
    for (const id of ['shared', 'shared-fork', 'grpc-shared', 'grpc-shared-fork']) await createdBy(A, id);
    expect((await call('POST', '/v1/sessions/shared/messages', A, { content: 'from acme' })).status).toBe(
      202,
    );
  });

  afterAll(async () => {
    grpc.close();
    await app.close();
    await composed.close();
    await database.drop();
  });

  it("REST: reading A's session id is answered exactly as an unknown id", async () => {
    for (const path of ['', '/events', '/audit', '?at=1']) {
      const read = (id: string) => call('GET', `/v1/sessions/${id}${path}`, B);
      const forA = await answer(read, 'shared');
      expect(forA.status).toBe(404);
      expect(forA).toEqual(await answer(read, 'never-used'));
    }
    expect(
      await answer((id) => call('POST', `/v1/sessions/${id}/fork`, B, { atVersion: 1 }), 'shared'),
    ).toEqual(
      await answer((id) => call('POST', `/v1/sessions/${id}/fork`, B, { atVersion: 1 }), 'never-used'),
    );
  });

  it("REST: creating A's session id gives B its own session, as for an unused id, and a repeat the same answer", async () => {
    const create = (id: string) => call('POST', '/v1/sessions', B, { teamId: 'support', sessionId: id });
    const onA = await answer(create, 'shared');
    expect(onA).toEqual({
      status: 201,
      body: JSON.stringify({ sessionId: '<id>', status: 'idle', version: 1 }),
    });
    expect(onA).toEqual(await answer(create, 'unused'));
    expect(await answer(create, 'shared')).toEqual(onA);

    const own = (await (await call('GET', '/v1/sessions/shared', B)).json()) as {
      version: number;
      messages: unknown[];
    };
    expect(own).toMatchObject({ sessionId: 'shared', version: 1, messages: [] });
    const acme = (await (await call('GET', '/v1/sessions/shared', A)).json()) as {
      messages: { content: string }[];
    };
    expect(acme.messages.map((message) => message.content)).toEqual(['from acme']);

    const events = (await (await call('GET', '/v1/sessions/shared/events', B)).json()) as {
      events: { streamId: string; tenantId: string }[];
    };
    expect(events.events).toEqual([
      expect.objectContaining({ streamId: 'session-globex/shared', tenantId: 'globex' }),
    ]);
    expect(await (await call('GET', '/v1/sessions/shared/audit', B)).json()).toMatchObject({
      eventCount: 1,
      hashChainValid: true,
      replayMatches: true,
    });
    expect((await call('POST', '/v1/sessions/shared/messages', B, { content: 'from globex' })).status).toBe(
      202,
    );
    expect(await (await call('GET', '/v1/sessions/shared', A)).json()).toMatchObject({
      messages: acme.messages,
    });
    const listed = (await (await call('GET', '/v1/sessions', A)).json()) as {
      items: { sessionId: string }[];
    };
    expect(listed.items.filter((item) => item.sessionId === 'shared')).toHaveLength(1);
  });

  it("REST: forking into A's session id behaves as forking into an unused id", async () => {
    await createdBy(B, 'b-source');
    expect((await call('POST', '/v1/sessions/b-source/messages', B, { content: 'to fork' })).status).toBe(
      202,
    );
    const fork = (id: string) =>
      call('POST', '/v1/sessions/b-source/fork', B, { atVersion: 2, sessionId: id });
    const onA = await answer(fork, 'shared-fork');
    expect(onA.status).toBe(201);
    expect(onA).toEqual(await answer(fork, 'unused-fork'));
    const forked = (await (await call('GET', '/v1/sessions/shared-fork', B)).json()) as {
      messages: { content: string }[];
    };
    expect(forked.messages.map((message) => message.content)).toEqual(['to fork']);
    expect(await (await call('GET', '/v1/sessions/shared-fork', A)).json()).toMatchObject({ messages: [] });
  });

  it("gRPC: reading, creating and forking into A's session id behave as for unused ids", async () => {
    const get = (id: string) => grpc.call('Sessions', 'GetSession', { session_id: id }, B);
    const readA = await grpcAnswer(get, 'grpc-shared');
    expect(readA).toMatchObject({ code: 5 });
    expect(readA).toEqual(await grpcAnswer(get, 'grpc-never-used'));

    const create = (id: string) =>
      grpc.call('Sessions', 'CreateSession', { team_id: 'support', session_id: id }, B);
    const createdOnA = await grpcAnswer(create, 'grpc-shared');
    expect(createdOnA).toEqual({ ok: JSON.stringify({ session_id: '<id>', status: 'idle', version: '1' }) });
    expect(createdOnA).toEqual(await grpcAnswer(create, 'grpc-unused'));
    expect(await grpcAnswer(create, 'grpc-shared')).toEqual(createdOnA);

    const fork = (id: string) =>
      grpc.call(
        'Sessions',
        'ForkSession',
        { session_id: 'grpc-shared', at_version: '1', new_session_id: id },
        B,
      );
    const forkedOnA = await grpcAnswer(fork, 'grpc-shared-fork');
    expect(forkedOnA).toMatchObject({ ok: expect.any(String) });
    expect(forkedOnA).toEqual(await grpcAnswer(fork, 'grpc-unused-fork'));
    expect(await grpc.call('Sessions', 'GetSession', { session_id: 'grpc-shared-fork' }, A)).toMatchObject({
      version: '1',
    });
  });
});
