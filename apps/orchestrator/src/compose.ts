import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import pg from 'pg';
import { Registry, collectDefaultMetrics } from 'prom-client';
import {
  builtinTools,
  createModelClientResolver,
  endpointKeyValues,
  createNodeHttpTransport,
  type Tool,
} from '@agentledger/agents';
import {
  createAdvisoryLockLeadership,
  createOutboxRelay,
  registerRelayMetrics,
  type OutboxRelay,
} from '@agentledger/events/bus';
import {
  createPgDriver,
  createPostgresEventStore,
  ensureDatabase,
  EVENTS_CHANNEL,
  type PostgresEventStore,
} from '@agentledger/events/postgres';
import {
  createLogging,
  measureAppends,
  registerSessionStatusGauge,
  urlPassword,
  type Logging,
} from '@agentledger/events/observability';
import { createSessionEngine } from '@agentledger/sessions';
import { countSessionsByStatus, createSqlSessionIndex } from '@agentledger/sessions/sql';
import { openKafkaBus } from './kafka-bus.ts';
import type { OrchestratorConfig } from './orchestrator.config.ts';
import type { ReadinessCheck } from './orchestrator-http.module.ts';
import { createOrchestratorMetrics } from './runtime/metrics.ts';
import { createOrchestrator, type Orchestrator } from './runtime/orchestrator.ts';

export type DistributedOrchestrator = Readonly<{
  orchestrator: Orchestrator;
  relay: OutboxRelay;
  registry: Registry;
  logging: Logging;
  readiness: readonly ReadinessCheck[];
  /** Closes the relay, the bus and the store (after the orchestrator has stopped). */
  close: () => Promise<void>;
}>;

const loadTools = async (modulePath: string | undefined): Promise<readonly Tool[]> => {
  if (!modulePath) return [];
  const loaded = (await import(pathToFileURL(resolve(modulePath)).href)) as { tools?: readonly Tool[] };
  if (!Array.isArray(loaded.tools)) throw new Error(`TOOLS_MODULE ${modulePath} has no 'tools' array export`);
  return loaded.tools;
};

/**
 * The distributed composition: Postgres event store (migrated under the advisory lock), Kafka bus
 * (topic ensured), SQL sessions read model, the outbox relay (one active across replicas by an
 * advisory lock) and the orchestrator replica. `env` is where model endpoints and keys are read.
 */
export const composeDistributed = async (
  config: OrchestratorConfig,
  env: Readonly<Record<string, string | undefined>>,
): Promise<DistributedOrchestrator> => {
  const readKeyFile = (path: string): string => readFileSync(path, 'utf8');
  const logging = createLogging(config, { app: 'orchestrator', replica: config.REPLICA_ID }, [
    ...endpointKeyValues({ endpoints: config.MODEL_ENDPOINTS, env, readKeyFile }),
    ...urlPassword(config.DATABASE_URL),
  ]);
  const logger = logging.port;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  await ensureDatabase(config.DATABASE_URL);
  const store: PostgresEventStore = await createPostgresEventStore({
    connectionString: config.DATABASE_URL,
    maxConnections: config.DATABASE_POOL_SIZE,
    migrate: true,
  });
  const bus = await openKafkaBus(config, logger);
  const index = createSqlSessionIndex(store.db);
  const engine = createSessionEngine({
    store: measureAppends(store, registry),
    index,
    partitions: config.KAFKA_PARTITIONS,
  });
  registerSessionStatusGauge(registry, () => countSessionsByStatus(store.db));
  const relay = createOutboxRelay({
    store,
    bus,
    logger,
    // Woken by the store's after-commit notifications; the poll is only the fallback.
    idlePollMs: 250,
    leadership: createAdvisoryLockLeadership({
      logger,
      connect: async () => {
        const client = new pg.Client({ connectionString: config.DATABASE_URL });
        await client.connect();
        return client;
      },
    }),
  });
  registerRelayMetrics(registry, relay);
  const unlisten = await createPgDriver(store.pool, false).listen(EVENTS_CHANNEL, () => relay.wake());
  const extra = await loadTools(config.TOOLS_MODULE);
  const allowedHosts = config.HTTP_TOOL_ALLOWED_HOSTS.split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  const tools = builtinTools({
    allowedHosts,
    transport: createNodeHttpTransport({
      allowPrivateAddresses: config.HTTP_TOOL_ALLOW_PRIVATE_ADDRESSES,
    }),
  }).with(...extra);
  const orchestrator = createOrchestrator({
    bus,
    engine,
    index,
    effects: {
      models: createModelClientResolver({
        endpoints: config.MODEL_ENDPOINTS,
        env,
        readKeyFile,
      }),
      tools,
      clock: () => new Date(),
      modelCallTimeoutMs: config.MODEL_CALL_TIMEOUT_MS,
    },
    metrics: createOrchestratorMetrics(registry),
    logger,
    logContext: logging.context,
    clock: () => new Date(),
    settings: {
      replicaId: config.REPLICA_ID,
      groupId: config.ORCHESTRATOR_GROUP,
      maxConcurrentSessions: config.MAX_CONCURRENT_SESSIONS,
      maxModelCalls: config.MAX_MODEL_CALLS,
      maxToolCalls: config.MAX_TOOL_CALLS,
      modelRequestsPerMinute: config.MODEL_REQUESTS_PER_MINUTE,
      modelTokensPerMinute: config.MODEL_TOKENS_PER_MINUTE,
      modelEndpoints: config.MODEL_ENDPOINTS,
      maxModelParks: config.MAX_MODEL_PARKS,
      tenantDailyTokenBudget: config.TENANT_DAILY_TOKEN_BUDGET,
      leaseTtlMs: config.LEASE_TTL_MS,
      recoveryIntervalMs: config.RECOVERY_INTERVAL_MS,
      stallAfterMs: config.STALL_AFTER_MS,
      shutdownDeadlineMs: config.SHUTDOWN_DEADLINE_MS,
    },
  });
  const readiness: ReadinessCheck[] = [
    { name: 'store', check: async () => (await store.pool.query('select 1')).rowCount === 1 },
    { name: 'consumer', check: () => orchestrator.ready() },
    { name: 'relay', check: () => relay.status().running },
  ];
  return {
    orchestrator,
    relay,
    registry,
    logging,
    readiness,
    close: async () => {
      await unlisten();
      await relay.stop();
      await bus.close();
      await store.close();
    },
  };
};
