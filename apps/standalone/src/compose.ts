import { readFileSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { Module, type DynamicModule } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createInProcessEventBus } from '@agentledger/events/bus';
import { createInProcessDeltaChannel } from '@agentledger/events';
import { measureAppends, registerSessionStatusGauge, type Logging } from '@agentledger/events/observability';
import { createPgliteEventStore } from '@agentledger/events/pglite';
import {
  composeWebhooks,
  createPostgresApiKeyStore,
  createTeamSpecParser,
  GatewayModule,
  migrateGatewayPglite,
  seedApiKeys,
} from '@agentledger/gateway';
import { OrchestratorModule } from '@agentledger/orchestrator';
import { createOrchestratorRuntime, type OrchestratorRuntime } from '@agentledger/orchestrator/runtime';
import {
  createLiveDeltas,
  createBusLiveEvents,
  readAuditSigner,
  startCheckpointer,
} from '@agentledger/sessions';
import {
  countSessionsByStatus,
  createSqlCheckpointStore,
  createSqlSessionIndex,
} from '@agentledger/sessions/sql';
import type { StandaloneConfig } from './standalone.config.ts';

export type Standalone = Readonly<{
  /** Imports the gateway's and the orchestrator's modules over one PGlite store and one bus. */
  module: DynamicModule;
  devApiKey: string;
  modelMode: string;
  /** Team specs found in the examples folder: `{ teamId, spec }`. */
  examples: readonly Readonly<{ teamId: string; spec: unknown }>[];
  /** The orchestrator runtime the module starts and stops (its effective settings, metrics). */
  runtime: OrchestratorRuntime;
  /** After the Nest app closed (the runtime and its relay have stopped): bus, store. */
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
 * bus, the orchestrator runtime (one replica and its outbox relay, built as the distributed app
 * builds it) and the gateway, in one process.
 */
export const composeStandalone = async (
  config: StandaloneConfig,
  env: Readonly<Record<string, string | undefined>>,
  logging: Pick<Logging, 'port' | 'context'>,
): Promise<Standalone> => {
  const logger = logging.port;
  await mkdir(config.DATA_DIR, { recursive: true });
  const store = await createPgliteEventStore({ dataDir: join(config.DATA_DIR, 'pglite') });
  await migrateGatewayPglite(store.pglite);
  const apiKeys = createPostgresApiKeyStore(store.db);
  const devApiKey = await developmentKey(config.DATA_DIR);
  await seedApiKeys(
    apiKeys,
    [{ tenantId: config.DEV_TENANT, key: devApiKey }, ...config.AGENTLEDGER_API_KEYS],
    new Date(),
  );

  const bus = createInProcessEventBus({ partitions: config.KAFKA_PARTITIONS, logger });
  // Model output as it streams: from the runtime's calls straight to this process's live streams.
  const deltas = createInProcessDeltaChannel();
  const index = createSqlSessionIndex(store.db);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerSessionStatusGauge(registry, () => countSessionsByStatus(store.db));
  const measured = measureAppends(store, registry);
  // Webhooks fan out from the relay's batches (before its checkpoint): one reader of the log.
  const webhooks = composeWebhooks(
    store,
    store.db,
    config,
    registry,
    (error) =>
      logger.warn('webhooks: store error, retrying', {
        error: error instanceof Error ? error.message : String(error),
      }),
    (channel, onNotify) => store.pglite.listen(channel, onNotify),
    'relay',
  );
  const runtime = await createOrchestratorRuntime({
    store: measured,
    index,
    bus,
    deltas,
    config,
    logger,
    env,
    registry,
    logContext: logging.context,
    // Every commit wakes the relay at once (it reads this process' appends from memory; wakes
    // during a read fold into one more read). Its checkpoint is saved at most once a second (the
    // runtime's default; a statement on the one WASM thread each time otherwise); a crash
    // republishes that second to this process' consumers, which dedupe (the bus is in-process:
    // nothing else received it).
    relay: { onPublished: webhooks.fanOut },
    // The data directory is locked to this process, and the gateway below appends through this
    // runtime's engine: no other writer can move a session past the engine's cache.
    soleWriter: true,
  });
  const engine = runtime.engine;

  // Live streams (SSE, gRPC StreamEvents, ?wait) take the events the relay publishes on the
  // in-process bus (no read of the log of their own), instead of polling.
  const liveEvents = await createBusLiveEvents(bus, 'gateway-live-events');
  const signer = readAuditSigner(config, (path) => readFileSync(path, 'utf8'));
  const checkpoints = createSqlCheckpointStore(store.db);
  const checkpointer =
    signer?.canSign === true
      ? startCheckpointer({ store, checkpoints, signer, intervalMs: config.AUDIT_CHECKPOINT_INTERVAL_MS })
      : undefined;
  const gateway = GatewayModule.register({
    liveEvents,
    liveDeltas: await createLiveDeltas(deltas),
    webhooks: webhooks.service,
    ...(signer === undefined ? {} : { audit: { checkpoints, signer } }),
    eventStore: measured,
    apiKeys,
    parseTeamSpec: createTeamSpecParser(runtime.effective.tools, config.MODEL_ENDPOINTS, {
      servers: config.MCP_SERVERS,
      list: runtime.mcp.list,
    }),
    sessionEngine: engine,
    sessionIndex: index,
    metrics: registry,
    readiness: [
      { name: 'event-store', check: async () => void (await store.pglite.query('select 1')) },
      // The runtime's own checks (consumer assigned, relay running), in the gateway's throwing form.
      ...runtime.health.map(({ name, check }) => ({
        name,
        check: async () => {
          if (!(await check())) throw new Error(`${name} not ready`);
        },
      })),
    ],
    options: {
      rateLimit: { requestsPerSecond: config.RATE_LIMIT_PER_SECOND, burst: config.RATE_LIMIT_BURST },
      apiKeyCacheTtlMs: config.API_KEY_CACHE_TTL_MS,
      streamPollIntervalMs: config.STREAM_POLL_INTERVAL_MS,
      grpc: { host: config.HOST, port: config.GRPC_PORT, maxMessageBytes: config.BODY_LIMIT_BYTES },
    },
  });

  @Module({ imports: [gateway, OrchestratorModule.register(runtime)] })
  class StandaloneModule {}

  const openai = env.OPENAI_BASE_URL ?? (env.OPENAI_API_KEY ? 'OpenAI' : undefined);
  return {
    module: { module: StandaloneModule },
    devApiKey,
    modelMode: openai
      ? `OpenAI-compatible endpoint (${openai}) for agents whose spec names an openai model`
      : 'scripted (deterministic; set OPENAI_API_KEY and/or OPENAI_BASE_URL for a real model)',
    examples: await loadExamples(config.EXAMPLES_DIR),
    runtime,
    close: async () => {
      await checkpointer?.stop();
      await webhooks.stop();
      await liveEvents.close();
      await deltas.close();
      await bus.close();
      await store.close();
    },
  };
};
