import { generateKeyPairSync } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { computeEventHash, GENESIS_HASH, type EventEnvelope } from '@agentledger/events';
import { createTestDatabase, eventually, type TestDatabase } from '@agentledger/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseGatewayConfig } from '../config/gateway.config.ts';
import { composeDistributedGateway, type ComposedGateway } from '../compose.ts';
import { GrpcGateway } from '../grpc/grpc-gateway.ts';
import { createGatewayApp } from '../http/gateway-app.ts';
import { connectGrpc } from '../testing/grpc-client.ts';
import { bearer, singleTeamSpec } from '../testing/test-gateway.ts';

const NDJSON = 'application/x-ndjson';
const signingKey = generateKeyPairSync('ed25519')
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

type Running = Readonly<{
  database: TestDatabase;
  composed: ComposedGateway;
  app: NestFastifyApplication;
  url: string;
}>;

const start = async (label: string): Promise<Running> => {
  const database = await createTestDatabase(inject('databaseUrl'), label);
  const config = parseGatewayConfig({
    DATABASE_URL: database.url,
    AGENTLEDGER_API_KEYS: 'acme:key-acme,other:key-other',
    GRPC_PORT: '0',
    AGENTLEDGER_AUDIT_SIGNING_KEY: signingKey,
    AGENTLEDGER_AUDIT_KEY_ID: 'k1',
    AUDIT_CHECKPOINT_INTERVAL_MS: '100',
  });
  const composed = await composeDistributedGateway(config);
  const app = await createGatewayApp(composed.module, {
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    logger: false,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  return { database, composed, app, url };
};

const call = (
  at: Running,
  key: string,
  method: string,
  path: string,
  body?: unknown,
  type = 'application/json',
) =>
  fetch(`${at.url}${path}`, {
    method,
    headers: { ...bearer(key), ...(body === undefined ? {} : { 'content-type': type }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
const importBundle = (at: Running, key: string, bundle: string) =>
  call(at, key, 'POST', '/v1/sessions:import', bundle, NDJSON);

/** Re-chains edited events and the manifest's head, dropping the signed checkpoints. */
const rechained = (
  bundle: string,
  edit: (event: EventEnvelope, manifest: Record<string, unknown>) => void,
) => {
  const [first, ...lines] = bundle.trimEnd().split('\n');
  const manifest = JSON.parse(first!) as Record<string, unknown>;
  let prevHash = GENESIS_HASH;
  const events = lines.map((line) => {
    const event = JSON.parse(line) as EventEnvelope;
    edit(event, manifest);
    const hash = computeEventHash(prevHash, event);
    const out = { ...event, prevHash, hash };
    prevHash = hash;
    return JSON.stringify(out);
  });
  return [JSON.stringify({ ...manifest, headHash: prevHash, checkpoints: [], keyId: null }), ...events].join(
    '\n',
  );
};

describe('export and import over REST (two distributed gateways on Postgres)', () => {
  let source: Running;
  let target: Running;
  let bundle: string;

  beforeAll(async () => {
    [source, target] = await Promise.all([start('bundles_source'), start('bundles_target')]);
    expect((await call(source, 'key-acme', 'PUT', '/v1/teams/support', singleTeamSpec())).status).toBe(200);
    await call(source, 'key-acme', 'POST', '/v1/sessions', { teamId: 'support', sessionId: 's1' });
    await call(source, 'key-acme', 'POST', '/v1/sessions/s1/messages', { content: 'Hello' });
    await call(source, 'key-acme', 'POST', '/v1/sessions/s1/cancel', {});
    await eventually('a signed head', async () => {
      const response = await call(source, 'key-acme', 'GET', '/v1/sessions/s1/export');
      const text = await response.text();
      return (JSON.parse(text.split('\n')[0]!) as { checkpoints: unknown[] }).checkpoints.length > 0
        ? text
        : undefined;
    }).then((text) => {
      bundle = text;
    });
  });
  afterAll(async () => {
    for (const running of [source, target]) {
      await running?.app.close();
      await running?.composed.close();
      await running?.database.drop();
    }
  });

  it('exports the caller’s session as NDJSON; another tenant gets 404', async () => {
    const response = await call(source, 'key-acme', 'GET', '/v1/sessions/s1/export');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await response.text()).trimEnd().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ tenantId: 'acme', sessionId: 's1', keyId: 'k1' });
    expect((await call(source, 'key-other', 'GET', '/v1/sessions/s1/export')).status).toBe(404);
  });

  it('refuses a tampered bundle with problem+json naming the version, and stores nothing', async () => {
    const lines = bundle.split('\n');
    lines[2] = lines[2]!.replace('"content":"Hello"', '"content":"Hellp"');
    const response = await importBundle(target, 'key-acme', lines.join('\n'));
    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await response.json()) as { detail: string; errors: { field: string }[] };
    expect(problem.detail).toMatch(/version 2 does not verify/);
    expect(problem.errors[0]).toMatchObject({ in: 'body', field: 'events[1]' });
    expect((await call(target, 'key-acme', 'GET', '/v1/sessions/s1')).status).toBe(404);
  });

  it('refuses a bundle whose spec names a model endpoint the operator did not configure', async () => {
    const forged = rechained(bundle, (event, manifest) => {
      if (event.type !== 'SessionStarted') return;
      const data = event.data as { spec: { agents: { model: Record<string, unknown> }[] } };
      data.spec.agents[0]!.model = {
        endpoint: 'attacker',
        model: 'x',
        baseUrl: 'http://attacker.invalid/v1',
      };
      manifest.spec = data.spec;
    });
    const response = await importBundle(target, 'key-acme', forged);
    expect(response.status).toBe(422);
    const problem = (await response.json()) as { errors: { field: string }[] };
    expect(problem.errors[0]?.field).toMatch(/^manifest\.spec\.agents\.0\.model/);
    expect((await call(target, 'key-acme', 'GET', '/v1/sessions/s1')).status).toBe(404);
  });

  it('imports into an empty installation with the same hashes and verified checkpoints, once', async () => {
    const response = await importBundle(target, 'key-acme', bundle);
    expect(response.status).toBe(201);
    const imported = (await response.json()) as Record<string, unknown>;
    expect(imported).toMatchObject({ tenantId: 'acme', sessionId: 's1', rehashed: false, duplicate: false });
    expect(imported.headHash).toBe(imported.sourceHeadHash);
    const state = async (at: Running) => (await call(at, 'key-acme', 'GET', '/v1/sessions/s1')).json();
    expect(await state(target)).toEqual(await state(source));
    const audit = (await (await call(target, 'key-acme', 'GET', '/v1/sessions/s1/audit')).json()) as {
      headHash: string;
      hashChainValid: boolean;
      checkpoints: { valid: boolean; lastVerified: number | null };
    };
    expect(audit).toMatchObject({ headHash: imported.headHash, hashChainValid: true });
    expect(audit.checkpoints.valid).toBe(true);
    expect(audit.checkpoints.lastVerified).toBeGreaterThan(0);
    // The events byte for byte; this installation's checkpointer may sign the same head again.
    const reexported = (await (await call(target, 'key-acme', 'GET', '/v1/sessions/s1/export')).text()).split(
      '\n',
    );
    expect(reexported.slice(1)).toEqual(bundle.split('\n').slice(1));
    const again = await importBundle(target, 'key-acme', bundle);
    expect(again.status).toBe(201);
    expect(await again.json()).toMatchObject({ duplicate: true });
  });

  it('exports and imports over gRPC the same way', async () => {
    const grpc = await connectGrpc(`127.0.0.1:${target.app.get(GrpcGateway).port()}`);
    try {
      const exported = (await grpc.call('Sessions', 'ExportSession', { session_id: 's1' }, 'key-acme')) as {
        ndjson: string;
      };
      expect(exported.ndjson.split('\n').slice(1)).toEqual(bundle.split('\n').slice(1));
      const lines = bundle.split('\n');
      lines[2] = lines[2]!.replace('"content":"Hello"', '"content":"Hellp"');
      const refused = await grpc
        .call('Sessions', 'ImportSession', { ndjson: lines.join('\n') }, 'key-other')
        .catch((error: unknown) => error as { code: number; details: string });
      expect(refused).toMatchObject({ code: 3, details: expect.stringMatching(/version 2 does not verify/) });
      expect(await grpc.call('Sessions', 'ImportSession', { ndjson: bundle }, 'key-other')).toMatchObject({
        tenant_id: 'other',
        session_id: 's1',
        rehashed: true,
        duplicate: false,
        event_count: String(bundle.trimEnd().split('\n').length - 1),
      });
    } finally {
      grpc.close();
    }
  });

  it('imports into the caller’s tenant when it is another one, never over an existing session', async () => {
    const response = await importBundle(source, 'key-other', bundle);
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ tenantId: 'other', rehashed: true });
    const audit = (await (await call(source, 'key-other', 'GET', '/v1/sessions/s1/audit')).json()) as {
      hashChainValid: boolean;
    };
    expect(audit.hashChainValid).toBe(true);
    expect(
      (await call(source, 'key-other', 'POST', '/v1/sessions/s1/messages', { content: 'More' })).status,
    ).toBe(202);
    expect((await importBundle(source, 'key-other', bundle)).status).toBe(409);
    expect((await call(source, 'key-other', 'POST', '/v1/sessions:import', { bundle })).status).toBe(400);
  });
});
