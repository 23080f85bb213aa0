import { generateKeyPairSync } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { sessionStreamId } from '@agentledger/events';
import { createPostgresEventStore } from '@agentledger/events/postgres';
import { createTestDatabase, eventually, rewriteHistory, type TestDatabase } from '@agentledger/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseGatewayConfig } from '../config/gateway.config.ts';
import { composeDistributedGateway, type ComposedGateway } from '../compose.ts';
import { GrpcGateway } from '../grpc/grpc-gateway.ts';
import { createGatewayApp } from '../http/gateway-app.ts';
import { connectGrpc, type GrpcTestClient } from '../testing/grpc-client.ts';
import { bearer, singleTeamSpec } from '../testing/test-gateway.ts';

type Audit = {
  eventCount: number;
  hashChainValid: boolean;
  replayMatches: boolean;
  firstDivergentVersion: number | null;
  checkpoints: {
    enabled: boolean;
    signed: number;
    lastVerified: number | null;
    valid: boolean;
    problems: { version: number; reason: string }[];
  };
};

describe('GET …/audit with signed checkpoints (distributed gateway on Postgres)', () => {
  let database: TestDatabase;
  let composed: ComposedGateway;
  let app: NestFastifyApplication;
  let url: string;
  let grpc: GrpcTestClient;

  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${url}${path}`, {
      method,
      headers: {
        ...bearer('key-acme'),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const audit = async (id: string): Promise<Audit> =>
    (await (await call('GET', `/v1/sessions/${id}/audit`)).json()) as Audit;

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'gateway_audit');
    const config = parseGatewayConfig({
      DATABASE_URL: database.url,
      AGENTLEDGER_API_KEYS: 'acme:key-acme',
      GRPC_PORT: '0',
      AGENTLEDGER_AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519')
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString(),
      AGENTLEDGER_AUDIT_KEY_ID: 'test-key',
      AUDIT_CHECKPOINT_INTERVAL_MS: '100',
    });
    composed = await composeDistributedGateway(config);
    app = await createGatewayApp(composed.module, { bodyLimitBytes: config.BODY_LIMIT_BYTES, logger: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address();
    url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    grpc = await connectGrpc(`127.0.0.1:${app.get(GrpcGateway).port()}`);
    expect((await call('PUT', '/v1/teams/support', singleTeamSpec())).status).toBe(200);
  });
  afterAll(async () => {
    grpc.close();
    await app.close();
    await composed.close();
    await database.drop();
  });

  it('reports a history rewritten with a recomputed chain over REST and gRPC, thanks to the signed head', async () => {
    await call('POST', '/v1/sessions', { teamId: 'support', sessionId: 'a1' });
    await call('POST', '/v1/sessions/a1/messages', { content: 'What is 12 * 3?' });
    // The head that holds the message must be signed (a timer may first sign only SessionStarted,
    // which the rewrite below leaves untouched).
    const signed = await eventually('the head with the message signed', async () => {
      const report = await audit('a1');
      return (report.checkpoints.lastVerified ?? 0) >= report.eventCount ? report : undefined;
    });
    expect(signed).toMatchObject({
      hashChainValid: true,
      replayMatches: true,
      checkpoints: { enabled: true, valid: true },
    });

    const store = await createPostgresEventStore({ connectionString: database.url });
    const streamId = sessionStreamId('acme', 'a1');
    const events = await store.readStream(streamId, { tenantId: 'acme' });
    await store.close();
    const edited = events.map((e) =>
      e.type === 'UserMessageReceived'
        ? { ...e, data: { ...(e.data as object), content: 'What is 12 * 4?' } }
        : e,
    );
    await rewriteHistory(database.url, streamId, edited);

    const report = await audit('a1');
    expect(report.hashChainValid).toBe(true);
    expect(report.checkpoints.valid).toBe(false);
    expect(report.checkpoints.problems[0]).toMatchObject({ reason: 'hash_mismatch' });
    // The edited question changes the model context: decision replay diverges at the model call.
    expect(report.replayMatches).toBe(false);
    const requested = events.findIndex((e) => e.type === 'ModelCallRequested') + 1;
    expect(report.firstDivergentVersion).toBe(requested);

    expect(await grpc.call('Sessions', 'AuditSession', { session_id: 'a1' }, 'key-acme')).toMatchObject({
      hash_chain_valid: true,
      replay_matches: false,
      first_divergent_version: String(requested),
      checkpoints: {
        enabled: true,
        valid: false,
        problems: [expect.objectContaining({ reason: 'hash_mismatch' })],
      },
    });
  });

  it('reports a deleted tail: the signed version is beyond the head', async () => {
    await call('POST', '/v1/sessions', { teamId: 'support', sessionId: 'a2' });
    await call('POST', '/v1/sessions/a2/messages', { content: 'hello' });
    const store = await createPostgresEventStore({ connectionString: database.url });
    // Not from `readAll`: it stops short of events newer than a transaction still running in the
    // database, so under load the newest SessionStarted may be a1's (and a1's tail is deleted).
    const streamId = sessionStreamId('acme', 'a2');
    const events = await store.readStream(streamId, { tenantId: 'acme' });
    await store.close();
    await eventually('the full head signed', async () => {
      const report = (await (await call('GET', '/v1/sessions/a2/audit')).json()) as {
        checkpoints: { lastVerified: number };
      };
      return report.checkpoints.lastVerified === events.length ? true : undefined;
    });
    await rewriteHistory(database.url, streamId, events.slice(0, 2));
    const report = await audit('a2');
    expect(report.hashChainValid).toBe(true);
    expect(report.checkpoints.problems).toContainEqual(
      expect.objectContaining({ version: events.length, reason: 'beyond_head' }),
    );
  });
});
