import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createInMemoryEventStore } from '@agentledger/events';
import type { EventStore } from '@agentledger/events';
import { seededApiKey } from '../auth/api-key.ts';
import { createInMemoryApiKeyStore } from '../auth/in-memory-api-key-store.ts';
import { GatewayModule, type GatewayDeps } from '../gateway.module.ts';
import { GrpcGateway } from '../grpc/grpc-gateway.ts';
import { createGatewayApp } from '../http/gateway-app.ts';
import type { TeamSpecParser } from '../teams/team-spec.ts';

/** Two tenants, one key each, as AGENTLEDGER_API_KEYS would seed them. */
export const KEYS = { a: 'key-tenant-a', b: 'key-tenant-b' } as const;

/** Accepts objects with a string `name`; `"unsupported": true` stands for a component that cannot run. */
export const parseTestTeamSpec: TeamSpecParser = (input) => {
  const spec = input as { name?: unknown; unsupported?: unknown };
  if (typeof spec.name !== 'string')
    return { ok: false, kind: 'invalid', issues: [{ path: '/name', message: 'required' }] };
  if (spec.unsupported === true)
    return {
      ok: false,
      kind: 'unsupported',
      issues: [{ path: '/unsupported', message: 'provider x.Y cannot run' }],
    };
  return { ok: true, spec: input };
};

export type TestGateway = Readonly<{
  url: string;
  grpcAddress: string;
  app: NestFastifyApplication;
  store: EventStore;
  close: () => Promise<void>;
}>;

/** The gateway on in-memory adapters, listening on a real socket (127.0.0.1, a free port). */
export const startTestGateway = async (overrides: Partial<GatewayDeps> = {}): Promise<TestGateway> => {
  const store = overrides.eventStore ?? createInMemoryEventStore();
  const apiKeys = createInMemoryApiKeyStore();
  await apiKeys.add(seededApiKey('tenant-a', KEYS.a, new Date()));
  await apiKeys.add(seededApiKey('tenant-b', KEYS.b, new Date()));
  const module = GatewayModule.register({
    eventStore: store,
    apiKeys,
    parseTeamSpec: parseTestTeamSpec,
    options: {
      rateLimit: { requestsPerSecond: 1000, burst: 1000 },
      streamPollIntervalMs: 20,
      grpc: { host: '127.0.0.1', port: 0, maxMessageBytes: 1024 * 1024 },
    },
    ...overrides,
  });
  const app = await createGatewayApp(module, { bodyLimitBytes: 1024 * 1024, logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  if (address === null || typeof address === 'string') throw new Error('the gateway is not listening on TCP');
  return {
    url: `http://127.0.0.1:${address.port}`,
    grpcAddress: `127.0.0.1:${app.get(GrpcGateway).port()}`,
    app,
    store,
    close: () => app.close(),
  };
};

export const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });
