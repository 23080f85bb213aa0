import { readFileSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { Module, type DynamicModule } from '@nestjs/common';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { collectDefaultMetrics, Registry } from 'prom-client';
import {
  BUILTIN_TOOL_NAMES,
  builtinTools,
  createModelClientResolver,
  createNodeHttpTransport,
} from '@agentledger/agents';
import { createInProcessEventBus, createOutboxRelay, registerRelayMetrics } from '@agentledger/events/bus';
import { measureAppends, registerSessionStatusGauge, type Logging } from '@agentledger/events/observability';
import { createPgliteEventStore } from '@agentledger/events/pglite';
import {
  createPostgresApiKeyStore,
  createStoreLiveEvents,
  createTeamSpecParser,
  GATEWAY_MIGRATIONS_FOLDER,
  GatewayModule,
  seedApiKeys,
} from '@agentledger/gateway';
import { createOrchestrator, createOrchestratorMetrics, OrchestratorModule } from '@agentledger/orchestrator';
import { createSessionEngine, readAuditSigner, startCheckpointer } from '@agentledger/sessions';
import {
  countSessionsByStatus,
  createSqlCheckpointStore,
  createSqlSessionIndex,
} from '@agentledger/sessions/sql';
import type { StandaloneConfig } from './standalone.config.ts';

const PARTITIONS = 12;

export type Standalone = Readonly<{
  /** Imports the gateway's and the orchestrator's modules over one PGlite store and one bus. */
  module: DynamicModule;
  devApiKey: string;
  modelMode: string;
  /** Team specs found in the examples folder: `{ teamId, spec }`. */
  examples: readonly Readonly<{ teamId: string; spec: unknown }>[];
  start: () => void;
  /** After the Nest app closed (the orchestrator has stopped): relay, bus, store. */
  close: () => Promise<void>;
}>;

/** The development key survives restarts in the data directory (mode 0600), so clients keep working. */
const developmentKey = async (dataDir: string): Promise<string> => {
  const file = join(dataDir, 'dev-api-key');
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing?.trim()) return existing.trim();
  const key = `al_dev_${randomBytes(24).toString('base64url')}`;
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return key;
};

const loadExamples = async (dir: string): Promise<{ teamId: string; spec: unknown }[]> => {
  const files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => ({
      teamId: basename(file, '.json'),
      spec: JSON.parse(await readFile(join(dir, file), 'utf8')) as unknown,
    })),
  );
};

/**
 * The embedded composition behind `npm start`: PGlite (data kept under DATA_DIR), the in-process
 * bus, the outbox relay, one orchestrator replica and the gateway, in one process.
 */
export const composeStandalone = async (
  config: StandaloneConfig,
  env: Readonly<Record<string, string | undefined>>,
  logging: Pick<Logging, 'port' | 'context'>,
): Promise<Standalone> => {
  const logger = logging.port;
  await mkdir(config.DATA_DIR, { recursive: true });
  const store = await createPgliteEventStore({ dataDir: join(config.DATA_DIR, 'pglite') });
  await migrate(drizzle({ client: store.pglite }), {
    migrationsFolder: GATEWAY_MIGRATIONS_FOLDER,
    migrationsTable: '__drizzle_gateway_migrations',
  });
  const apiKeys = createPostgresApiKeyStore(store.db);
  const devApiKey = await developmentKey(config.DATA_DIR);
  await seedApiKeys(
    apiKeys,
    [{ tenantId: config.DEV_TENANT, key: devApiKey }, ...config.AGENTLEDGER_API_KEYS],
    new Date(),
  );

  const bus = createInProcessEventBus({ partitions: PARTITIONS, logger });
  const index = createSqlSessionIndex(store.db);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const measured = measureAppends(store, registry);
  const engine = createSessionEngine({ store: measured, index, partitions: PARTITIONS });
  registerSessionStatusGauge(registry, () => countSessionsByStatus(store.db));
  const relay = createOutboxRelay({ store, bus, logger });
  registerRelayMetrics(registry, relay);

  const allowedHosts = config.HTTP_TOOL_ALLOWED_HOSTS.split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  const tools = builtinTools({
    allowedHosts,
    transport: createNodeHttpTransport({
      allowPrivateAddresses: config.HTTP_TOOL_ALLOW_PRIVATE_ADDRESSES,
    }),
  });
  const orchestrator = createOrchestrator({
    bus,
    engine,
    index,
    effects: {
      models: createModelClientResolver({
        endpoints: config.MODEL_ENDPOINTS,
        env,
        readKeyFile: (path) => readFileSync(path, 'utf8'),
      }),
      tools,
      clock: () => new Date(),
    },
    metrics: createOrchestratorMetrics(registry),
    logger,
    logContext: logging.context,
    clock: () => new Date(),
    settings: {
      replicaId: 'standalone',
      groupId: 'agentledger-orchestrator',
      maxConcurrentSessions: config.MAX_CONCURRENT_SESSIONS,
      maxModelCalls: config.MAX_MODEL_CALLS,
      maxToolCalls: config.MAX_TOOL_CALLS,
      modelEndpoints: config.MODEL_ENDPOINTS,
      leaseTtlMs: 15_000,
      recoveryIntervalMs: 5_000,
      stallAfterMs: 300_000,
      shutdownDeadlineMs: 10_000,
    },
  });

  // Live streams (SSE, gRPC StreamEvents, ?wait) wake on the store's notifications instead of polling.
  const liveEvents = createStoreLiveEvents(store, 'gateway-live-events');
  const signer = readAuditSigner(config, (path) => readFileSync(path, 'utf8'));
  const checkpoints = createSqlCheckpointStore(store.db);
  const checkpointer =
    signer?.canSign === true
      ? startCheckpointer({ store, checkpoints, signer, intervalMs: config.AUDIT_CHECKPOINT_INTERVAL_MS })
      : undefined;
  const gateway = GatewayModule.register({
    liveEvents,
    ...(signer === undefined ? {} : { audit: { checkpoints, signer } }),
    eventStore: measured,
    apiKeys,
    parseTeamSpec: createTeamSpecParser(BUILTIN_TOOL_NAMES, config.MODEL_ENDPOINTS),
    sessionEngine: engine,
    sessionIndex: index,
    metrics: registry,
    readiness: [
      { name: 'event-store', check: async () => void (await store.pglite.query('select 1')) },
      {
        name: 'orchestrator',
        check: async () => {
          if (!orchestrator.ready()) throw new Error('not assigned partitions yet');
        },
      },
      {
        name: 'relay',
        check: async () => {
          if (!relay.status().running) throw new Error('relay not running');
        },
      },
    ],
    options: {
      rateLimit: { requestsPerSecond: config.RATE_LIMIT_PER_SECOND, burst: config.RATE_LIMIT_BURST },
      streamPollIntervalMs: config.STREAM_POLL_INTERVAL_MS,
      grpc: { host: config.HOST, port: config.GRPC_PORT, maxMessageBytes: config.BODY_LIMIT_BYTES },
    },
  });

  @Module({ imports: [gateway, OrchestratorModule.register(orchestrator)] })
  class StandaloneModule {}

  const openai = env.OPENAI_BASE_URL ?? (env.OPENAI_API_KEY ? 'OpenAI' : undefined);
  return {
    module: { module: StandaloneModule },
    devApiKey,
    modelMode: openai
      ? `OpenAI-compatible endpoint (${openai}) for agents whose spec names an openai model`
      : 'scripted (deterministic; set OPENAI_API_KEY and/or OPENAI_BASE_URL for a real model)',
    examples: await loadExamples(config.EXAMPLES_DIR),
    start: () => relay.start(),
    close: async () => {
      await checkpointer?.stop();
      await liveEvents.close();
      await relay.stop();
      await bus.close();
      await store.close();
    },
  };
};
