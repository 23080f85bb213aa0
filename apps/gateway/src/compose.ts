import { hostname } from 'node:os';
import type { DynamicModule } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { BUILTIN_TOOL_NAMES, createMcpToolbox, endpointKeyValues, secretReader } from '@agentledger/agents';
import {
  createLogging,
  measureAppends,
  registerSessionStatusGauge,
  urlPassword,
  type Logging,
} from '@agentledger/events/observability';
import { createKafkaDeltaChannel, ensureKafkaDeltasTopic } from '@agentledger/events/kafka';
import { createPgDriver, createPostgresEventStore, ensureDatabase } from '@agentledger/events/postgres';
import { readFileSync } from 'node:fs';
import {
  createLiveDeltas,
  createSessionEngine,
  createStoreLiveEvents,
  loadToolsModule,
  readAuditSigner,
  startCheckpointer,
  type LiveDeltas,
} from '@agentledger/sessions';
import {
  countSessionsByStatus,
  createSqlCheckpointStore,
  createSqlSessionIndex,
} from '@agentledger/sessions/sql';
import { createPostgresApiKeyStore, migrateGatewayDatabase } from './auth/postgres-api-key-store.ts';
import { seedApiKeys } from './auth/seed-api-keys.ts';
import type { GatewayConfig } from './config/gateway.config.ts';
import { GatewayModule } from './gateway.module.ts';
import { createTeamSpecParser } from './teams/agents-team-spec-parser.ts';
import { composeWebhooks } from './webhooks/compose-webhooks.ts';

export type ComposedGateway = Readonly<{
  module: DynamicModule;
  registry: Registry;
  logging: Logging;
  close: () => Promise<void>;
}>;

/** With KAFKA_BROKERS: this process's subscription to the deltas topic (ensured first). */
const openLiveDeltas = async (config: GatewayConfig, logging: Logging): Promise<LiveDeltas | undefined> => {
  if (config.KAFKA_BROKERS === undefined) return undefined;
  const brokers = config.KAFKA_BROKERS.split(',').map((b) => b.trim());
  const options = { brokers, topic: config.KAFKA_DELTAS_TOPIC, logger: logging.port };
  await ensureKafkaDeltasTopic({ ...options, partitions: config.KAFKA_PARTITIONS });
  const channel = createKafkaDeltaChannel({
    ...options,
    clientId: `gateway-${hostname()}`,
    groupPrefix: 'agentledger-gateway-deltas',
  });
  const live = await createLiveDeltas(channel);
  return {
    watch: live.watch,
    close: async () => {
      await live.close();
      await channel.close();
    },
  };
};

/**
 * The distributed gateway (`env` is where MCP servers' secret headers are read): the Postgres event store and sessions read model (migrated), API keys
 * in Postgres (seeded from AGENTLEDGER_API_KEYS), gRPC beside REST.
 */
export const composeDistributedGateway = async (
  config: GatewayConfig,
  env: Readonly<Record<string, string | undefined>> = {},
): Promise<ComposedGateway> => {
  // The gateway has no replica id of its own: the host name (the pod's name) tells its replicas apart.
  const logging = createLogging(config, { app: 'gateway', replica: hostname() }, [
    ...config.AGENTLEDGER_API_KEYS.map((seed) => seed.key),
    ...endpointKeyValues({
      endpoints: config.MODEL_ENDPOINTS,
      env,
      readKeyFile: (path) => readFileSync(path, 'utf8'),
    }),
    ...urlPassword(config.DATABASE_URL),
  ]);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  await ensureDatabase(config.DATABASE_URL);
  const unmeasured = await createPostgresEventStore({ connectionString: config.DATABASE_URL, migrate: true });
  const store = measureAppends(unmeasured, registry);
  await migrateGatewayDatabase(config.DATABASE_URL);
  const apiKeys = createPostgresApiKeyStore(store.db);
  await seedApiKeys(apiKeys, config.AGENTLEDGER_API_KEYS, new Date());
  const sessionIndex = createSqlSessionIndex(store.db);
  registerSessionStatusGauge(registry, () => countSessionsByStatus(store.db));
  const toolNames = [
    ...BUILTIN_TOOL_NAMES,
    ...(await loadToolsModule(config.TOOLS_MODULE)).map((tool) => tool.name),
  ];
  const sessionEngine = createSessionEngine({
    store,
    index: sessionIndex,
    partitions: config.KAFKA_PARTITIONS,
  });
  // The engine's cached sessions follow the log, so a command decides on them without a read.
  const liveEvents = createStoreLiveEvents(store, 'gateway-live-events', (event) =>
    sessionEngine.observe(event, 'store'),
  );
  const liveDeltas = await openLiveDeltas(config, logging);
  const signer = readAuditSigner(config, (path) => readFileSync(path, 'utf8'));
  const checkpoints = createSqlCheckpointStore(store.db);
  const checkpointer =
    signer?.canSign === true
      ? startCheckpointer({ store, checkpoints, signer, intervalMs: config.AUDIT_CHECKPOINT_INTERVAL_MS })
      : undefined;
  // The gateway delivers webhooks (as it signs checkpoints): from the event log, never from a request.
  const webhooks = composeWebhooks(
    store,
    store.db,
    config,
    registry,
    (error) => console.error(`webhooks: ${error instanceof Error ? error.message : String(error)}`),
    createPgDriver(unmeasured.pool, false).listen,
  );
  // Team specs' MCP tools are listed when a team is put; secrets are read from `env` on connect.
  const mcp = createMcpToolbox({
    servers: config.MCP_SERVERS,
    readSecret: secretReader(env, (path) => readFileSync(path, 'utf8')),
  });
  const module = GatewayModule.register({
    eventStore: store,
    webhooks: webhooks.service,
    apiKeys,
    parseTeamSpec: createTeamSpecParser(toolNames, config.MODEL_ENDPOINTS, {
      servers: config.MCP_SERVERS,
      list: mcp.list,
    }),
    sessionEngine,
    sessionIndex,
    liveEvents,
    ...(liveDeltas === undefined ? {} : { liveDeltas }),
    ...(signer === undefined ? {} : { audit: { checkpoints, signer } }),
    metrics: registry,
    readiness: [{ name: 'event-store', check: async () => void (await store.pool.query('select 1')) }],
    options: {
      rateLimit: { requestsPerSecond: config.RATE_LIMIT_PER_SECOND, burst: config.RATE_LIMIT_BURST },
      apiKeyCacheTtlMs: config.API_KEY_CACHE_TTL_MS,
      streamPollIntervalMs: config.STREAM_POLL_INTERVAL_MS,
      grpc: { host: config.HOST, port: config.GRPC_PORT, maxMessageBytes: config.BODY_LIMIT_BYTES },
    },
  });
  return {
    module,
    registry,
    logging,
    close: async () => {
      await checkpointer?.stop();
      await webhooks.stop();
      await mcp.close();
      await liveEvents.close();
      await liveDeltas?.close();
      await store.close();
    },
  };
};
