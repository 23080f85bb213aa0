import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { inject } from 'vitest';
import { defaultOnlyEndpoints, nextAction } from '@agentledger/agents';
import { createTestDatabase, eventually } from '@agentledger/testing';
import { createInMemoryEventStore } from '@agentledger/events';
import type { EventStore } from '@agentledger/events';
import { createPostgresEventStore } from '@agentledger/events/postgres';
import { createSqlSessionIndex } from '@agentledger/sessions/sql';
import { seededApiKey } from '../auth/api-key.ts';
import type { ApiKeyStore } from '../auth/api-key-store.port.ts';
import { createInMemoryApiKeyStore } from '../auth/in-memory-api-key-store.ts';
import { createPostgresApiKeyStore, migrateGatewayDatabase } from '../auth/postgres-api-key-store.ts';
import { GatewayModule, type GatewayDeps } from '../gateway.module.ts';
import { GrpcGateway } from '../grpc/grpc-gateway.ts';
import { createGatewayApp, listenGateway } from '../http/gateway-app.ts';
import { createTeamSpecParser } from '../teams/agents-team-spec-parser.ts';
import {
  assertStoredSessionsReplay,
  createInMemorySessionIndex,
  createSessionEngine,
  type SessionEngine,
  type SessionReadModel,
} from '@agentledger/sessions';

declare module 'vitest' {
  export interface ProvidedContext {
    /**
     * The adapters `startTestGateway` wires: in memory (default), or the distributed gateway's
     * Postgres ones (the `e2e-postgres` project runs the gateway's e2e suites that way).
     */
    gatewayAdapters?: 'memory' | 'postgres';
  }
}

/** Two tenants, one key each, as AGENTLEDGER_API_KEYS would seed them. */
/** `readOnly` belongs to tenant A and may only read sessions. */
export const KEYS = { a: 'key-tenant-a', b: 'key-tenant-b', readOnly: 'key-tenant-a-read-only' } as const;

/** A one-agent team on the scripted model (the example of docs/team-specs.md, reduced). */
export const singleTeamSpec = (name = 'support') => ({
  specVersion: 1,
  name,
  type: 'single',
  agents: [{ name: 'helper', systemMessage: 'Help.', model: { provider: 'scripted', model: 'scripted' } }],
});

/** One agent whose calculator calls wait for a human's approval. */
export const approvalTeamSpec = (name = 'careful') => ({
  specVersion: 1,
  name,
  type: 'single',
  agents: [
    {
      name: 'helper',
      systemMessage: 'Compute.',
      model: { provider: 'scripted', model: 'scripted' },
      tools: ['calculator'],
      approvalRequired: ['calculator'],
    },
  ],
});

export type TestGateway = Readonly<{
  url: string;
  grpcAddress: string;
  app: NestFastifyApplication;
  store: EventStore;
  /** What the orchestrator would use to record effects (tests play its part). */
  sessions: SessionEngine;
  /**
   * Stops the gateway, then replays the decisions of every session it recorded (tests replay what
   * they produce) and throws, naming each divergent session and version, when one does not match.
   */
  close: () => Promise<void>;
}>;

type Adapters = Readonly<{
  store: EventStore;
  apiKeys: ApiKeyStore;
  sessionIndex: Pick<SessionReadModel, 'list'>;
  sessions: SessionEngine;
  close: () => Promise<void>;
}>;

const PARTITIONS = 12;

const memoryAdapters = (store: EventStore = createInMemoryEventStore()): Adapters => {
  const sessionIndex = createInMemorySessionIndex();
  return {
    store,
    apiKeys: createInMemoryApiKeyStore(),
    sessionIndex,
    sessions: createSessionEngine({ store, index: sessionIndex, partitions: PARTITIONS }),
    close: async () => undefined,
  };
};

/** The distributed gateway's adapters (as `composeDistributedGateway` wires them) on a fresh database. */
const postgresAdapters = async (): Promise<Adapters> => {
  const database = await createTestDatabase(inject('databaseUrl'), 'gateway_e2e');
  const store = await createPostgresEventStore({ connectionString: database.url, migrate: true });
  await migrateGatewayDatabase(database.url);
  const sessionIndex = createSqlSessionIndex(store.db);
  return {
    store,
    apiKeys: createPostgresApiKeyStore(store.db),
    sessionIndex,
    sessions: createSessionEngine({ store, index: sessionIndex, partitions: PARTITIONS }),
    close: async () => {
      await store.close();
      await database.drop();
    },
  };
};

/**
 * The gateway listening on a real socket (127.0.0.1, a free port), on in-memory adapters, or on
 * Postgres ones in the `e2e-postgres` project (unless the caller brings its own event store).
 */
export const startTestGateway = async (overrides: Partial<GatewayDeps> = {}): Promise<TestGateway> => {
  const { store, apiKeys, sessionIndex, sessions, close } =
    overrides.eventStore === undefined && inject('gatewayAdapters') === 'postgres'
      ? await postgresAdapters()
      : memoryAdapters(overrides.eventStore);
  await apiKeys.add(seededApiKey('tenant-a', KEYS.a, new Date()));
  await apiKeys.add(seededApiKey('tenant-b', KEYS.b, new Date()));
  await apiKeys.add({ ...seededApiKey('tenant-a', KEYS.readOnly, new Date()), scopes: ['sessions:read'] });
  const module = GatewayModule.register({
    eventStore: store,
    apiKeys,
    parseTeamSpec: createTeamSpecParser(['calculator'], defaultOnlyEndpoints),
    sessionEngine: sessions,
    sessionIndex,
    options: {
      rateLimit: { requestsPerSecond: 1000, burst: 1000 },
      streamPollIntervalMs: 20,
      grpc: { host: '127.0.0.1', port: 0, maxMessageBytes: 1024 * 1024 },
    },
    ...overrides,
  });
  const app = await createGatewayApp(module, { bodyLimitBytes: 1024 * 1024, logger: false });
  await listenGateway(app, { port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  if (address === null || typeof address === 'string') throw new Error('the gateway is not listening on TCP');
  return {
    url: `http://127.0.0.1:${address.port}`,
    grpcAddress: `127.0.0.1:${app.get(GrpcGateway).port()}`,
    app,
    store,
    sessions,
    close: async () => {
      try {
        await app.close();
        await assertStoredSessionsReplay(store);
      } finally {
        await close();
      }
    },
  };
};

export const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

/** Calls the gateway with a key: JSON in, the fetch Response out. */
export const request = (
  gateway: TestGateway,
  method: string,
  path: string,
  options: Readonly<{ key?: string; body?: unknown; headers?: Record<string, string> }> = {},
): Promise<Response> =>
  fetch(`${gateway.url}${path}`, {
    method,
    headers: {
      ...(options.key === undefined ? {} : bearer(options.key)),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });

/** Puts the team (if needed) and starts a session of it over REST. */
export const startSession = async (
  gateway: TestGateway,
  key: string,
  sessionId: string,
  teamId = 'support',
) => {
  const team = await request(gateway, 'PUT', `/v1/teams/${teamId}`, { key, body: singleTeamSpec(teamId) });
  if (team.status !== 200) throw new Error(`PUT team answered ${team.status}: ${await team.text()}`);
  const session = await request(gateway, 'POST', '/v1/sessions', { key, body: { teamId, sessionId } });
  if (session.status !== 201)
    throw new Error(`POST session answered ${session.status}: ${await session.text()}`);
};

/** Plays the orchestrator for one step: records the pending model call's answer. */
export const answerModelCall = async (
  gateway: TestGateway,
  tenantId: string,
  sessionId: string,
  content: string | null,
  toolCalls: readonly Readonly<{ id: string; name: string; arguments: string }>[] = [],
): Promise<void> => {
  const action = await eventually(`a model call pending in session ${sessionId}`, async () => {
    const state = await gateway.sessions.load(tenantId, sessionId);
    const next = state === undefined ? undefined : nextAction(state);
    return next?.kind === 'call_model' ? next : undefined;
  });
  await gateway.sessions.handle(
    {
      type: 'RecordModelCall',
      data: {
        callId: action.callId,
        outcome: 'completed',
        content,
        toolCalls,
        usage: { promptTokens: 5, completionTokens: 3 },
        finishReason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
        latencyMs: 1,
      },
      metadata: { commandId: `${action.callId}:result`, correlationId: action.callId, now: new Date() },
    },
    { tenantId, sessionId },
  );
};
