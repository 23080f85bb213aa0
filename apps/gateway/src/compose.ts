import type { DynamicModule } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { BUILTIN_TOOL_NAMES } from '@agentledger/agents';
import { createPostgresEventStore, ensureDatabase } from '@agentledger/events/postgres';
import { readFileSync } from 'node:fs';
import { createSessionEngine, readAuditSigner, startCheckpointer } from '@agentledger/sessions';
import { createSqlCheckpointStore, createSqlSessionIndex } from '@agentledger/sessions/sql';
import { createPostgresApiKeyStore, migrateGatewayDatabase } from './auth/postgres-api-key-store.ts';
import { seedApiKeys } from './auth/seed-api-keys.ts';
import type { GatewayConfig } from './config/gateway.config.ts';
import { GatewayModule } from './gateway.module.ts';
import { createStoreLiveEvents } from './sessions/live-events.ts';
import { applicationToolNames } from './config/tools-module.ts';
import { createTeamSpecParser } from './teams/agents-team-spec-parser.ts';

export type ComposedGateway = Readonly<{ module: DynamicModule; close: () => Promise<void> }>;

/**
 * The distributed gateway: the Postgres event store and sessions read model (migrated), API keys
 * in Postgres (seeded from AGENTLEDGER_API_KEYS), gRPC beside REST.
 */
export const composeDistributedGateway = async (config: GatewayConfig): Promise<ComposedGateway> => {
  await ensureDatabase(config.DATABASE_URL);
  const store = await createPostgresEventStore({ connectionString: config.DATABASE_URL, migrate: true });
  await migrateGatewayDatabase(config.DATABASE_URL);
  const apiKeys = createPostgresApiKeyStore(store.db);
  await seedApiKeys(apiKeys, config.AGENTLEDGER_API_KEYS, new Date());
  const sessionIndex = createSqlSessionIndex(store.db);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const toolNames = [...BUILTIN_TOOL_NAMES, ...(await applicationToolNames(config.TOOLS_MODULE))];
  const liveEvents = createStoreLiveEvents(store, 'gateway-live-events');
  const signer = readAuditSigner(config, (path) => readFileSync(path, 'utf8'));
  const checkpoints = createSqlCheckpointStore(store.db);
  const checkpointer =
    signer?.canSign === true
      ? startCheckpointer({ store, checkpoints, signer, intervalMs: config.AUDIT_CHECKPOINT_INTERVAL_MS })
      : undefined;
  const module = GatewayModule.register({
    eventStore: store,
    apiKeys,
    parseTeamSpec: createTeamSpecParser(toolNames, config.MODEL_ENDPOINTS),
    sessionEngine: createSessionEngine({
      store,
      index: sessionIndex,
      partitions: config.KAFKA_PARTITIONS,
    }),
    sessionIndex,
    liveEvents,
    ...(signer === undefined ? {} : { audit: { checkpoints, signer } }),
    metrics: registry,
    readiness: [{ name: 'event-store', check: async () => void (await store.pool.query('select 1')) }],
    options: {
      rateLimit: { requestsPerSecond: config.RATE_LIMIT_PER_SECOND, burst: config.RATE_LIMIT_BURST },
      streamPollIntervalMs: config.STREAM_POLL_INTERVAL_MS,
      grpc: { host: config.HOST, port: config.GRPC_PORT, maxMessageBytes: config.BODY_LIMIT_BYTES },
    },
  });
  return {
    module,
    close: async () => {
      await checkpointer?.stop();
      await liveEvents.close();
      await store.close();
    },
  };
};
