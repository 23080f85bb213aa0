import { readFileSync } from 'node:fs';
import pg from 'pg';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { endpointKeyValues } from '@agentledger/agents';
import { createAdvisoryLockLeadership } from '@agentledger/events/bus';
import {
  createPostgresEventStore,
  ensureDatabase,
  type PostgresEventStore,
} from '@agentledger/events/postgres';
import {
  createLogging,
  measureAppends,
  registerSessionStatusGauge,
  urlPassword,
  type Logging,
} from '@agentledger/events/observability';
import { countSessionsByStatus, createSqlSessionIndex } from '@agentledger/sessions/sql';
import { openKafkaBus, openKafkaDeltas } from './kafka-bus.ts';
import type { OrchestratorConfig } from './orchestrator.config.ts';
import { createOrchestratorRuntime, type OrchestratorRuntime, type ReadinessCheck } from './runtime/index.ts';

export type DistributedOrchestrator = Readonly<{
  runtime: OrchestratorRuntime;
  logging: Logging;
  /** The store's check, then the runtime's (consumer, relay). */
  readiness: readonly ReadinessCheck[];
  /** Closes the bus and the store (after the runtime has stopped). */
  close: () => Promise<void>;
}>;

/**
 * The distributed composition: Postgres event store (migrated under the advisory lock), Kafka bus
 * and deltas channel (topics ensured), SQL sessions read model, and the orchestrator runtime over them, its relay one
 * active across replicas (advisory lock) and woken by the store's commits (`onCommit`).
 * `env` is where model endpoints' keys are read.
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
  const deltas = await openKafkaDeltas(config, logger);
  registerSessionStatusGauge(registry, () => countSessionsByStatus(store.db));
  const runtime = await createOrchestratorRuntime({
    store: measureAppends(store, registry),
    index: createSqlSessionIndex(store.db),
    bus,
    deltas,
    config,
    logger,
    env,
    registry,
    logContext: logging.context,
    relay: {
      leadership: createAdvisoryLockLeadership({
        logger,
        connect: async () => {
          const client = new pg.Client({ connectionString: config.DATABASE_URL });
          await client.connect();
          return client;
        },
      }),
    },
  });
  return {
    runtime,
    logging,
    readiness: [
      { name: 'store', check: async () => (await store.pool.query('select 1')).rowCount === 1 },
      ...runtime.health,
    ],
    close: async () => {
      await bus.close();
      await deltas.close();
      await store.close();
    },
  };
};
