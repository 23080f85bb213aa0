import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import {
  builtinTools,
  createMcpToolbox,
  createModelClientResolver,
  createNodeHttpTransport,
  secretReader,
  type McpToolbox,
  type ModelEndpoints,
} from '@agentledger/agents';
import type { DeltaChannel, EventStore } from '@agentledger/events';
import {
  createAppendedFeed,
  createOutboxRelay,
  feedRelayOnCommit,
  registerRelayMetrics,
  type EventBus,
  type Logger,
  type OutboxRelay,
  type OutboxRelayOptions,
} from '@agentledger/events/bus';
import type { LogContextStore } from '@agentledger/events/observability';
import {
  createSessionEngine,
  loadToolsModule,
  type SessionEngine,
  type SessionIndex,
  type ToolAttempts,
} from '@agentledger/sessions';
import { createDeltaSink } from './delta-sink.ts';
import { createOrchestratorMetrics } from './metrics.ts';
import { createOrchestrator, type Orchestrator, type OrchestratorSettings } from './orchestrator.ts';
import type { OrchestratorRuntimeConfig } from './runtime.config.ts';

/** A named readiness check; it throws or returns false when its dependency is not usable. */
export type ReadinessCheck = Readonly<{ name: string; check: () => Promise<boolean> | boolean }>;

export type OrchestratorRuntimeDeps<Tx> = Readonly<{
  /** Any event store: Postgres, PGlite, in memory. */
  store: EventStore<Tx>;
  /** The sessions read model, leases and tool-attempt markers of the same store. */
  index: SessionIndex<Tx> & ToolAttempts;
  /** Any bus: Kafka (either client) or in-process, with `config.KAFKA_PARTITIONS` partitions. */
  bus: EventBus;
  /** Where model calls publish their output as it streams; absent: calls are made whole. */
  deltas?: DeltaChannel;
  config: OrchestratorRuntimeConfig;
  logger: Logger;
  /** Where model endpoints' key variables are read, at call time (the process environment). */
  env: Readonly<Record<string, string | undefined>>;
  /** Metrics are registered here (the embedded app shares the gateway's); default a new registry. */
  registry?: Registry;
  /**
   * The relay's store-specific options: leadership across replicas, what it calls after each
   * publish; the idle poll (250 ms) and checkpoint spacing (1 s) have defaults here.
   */
  relay?: Pick<OutboxRelayOptions, 'leadership' | 'idlePollMs' | 'checkpointEveryMs' | 'onPublished'>;
  clock?: () => Date;
  /** Log lines of a session's work carry its tenant, session, agent and call id (default: a new store). */
  logContext?: LogContextStore;
  /**
   * The store has no writer but this runtime's engine (the embedded product, whose gateway shares
   * the engine): cached sessions are loaded without a read (`SessionEngineDeps.soleWriter`), a
   * session's lease is kept a third of `LEASE_TTL_MS` after a run (no other replica waits for it).
   */
  soleWriter?: boolean;
}>;

/**
 * What the runtime was built with, read from the values handed to its parts (not from the config),
 * so a setting that is parsed but never passed shows up here as its default.
 */
export type EffectiveSettings = Readonly<{
  partitions: number;
  sessionCacheMaxBytes: number;
  /** Whether the engine trusts its cache as the only writer of the store (embedded product). */
  soleWriter: boolean;
  orchestrator: OrchestratorSettings;
  modelEndpoints: ModelEndpoints;
  modelCallTimeoutMs: number | undefined;
  tools: readonly string[];
  /** The operator's MCP servers the runtime may call, by name. */
  mcpServers: readonly string[];
  httpTool: Readonly<{ allowedHosts: readonly string[]; allowPrivateAddresses: boolean }>;
}>;

export type OrchestratorRuntime = Readonly<{
  /** Joins the group (recovery scan on assignment) and starts the outbox relay. */
  start: () => Promise<void>;
  /** Drains in-flight steps up to SHUTDOWN_DEADLINE_MS, leaves the group, stops the relay. */
  stop: () => Promise<void>;
  /** Readiness of the consumer and the relay (the composition adds its store's). */
  health: readonly ReadinessCheck[];
  metrics: Registry;
  /** The session engine the worker steps with; an in-process gateway handles commands with it too. */
  engine: SessionEngine;
  orchestrator: Orchestrator;
  relay: OutboxRelay;
  /** The operator's MCP servers (one client per server): team specs list tools through it too. */
  mcp: McpToolbox;
  effective: EffectiveSettings;
}>;

const settingsOf = (config: OrchestratorRuntimeConfig): OrchestratorSettings => ({
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
});

/**
 * The orchestrator runtime as a plain module (no Nest): the session engine, the worker replica
 * (consumer group, leases, limits, budgets, parking, recovery, watchdog), the effects (model
 * endpoints, built-in tools, TOOLS_MODULE's tools) and the outbox relay, over any store and bus.
 * Every orchestrator app builds its worker through this one function, so a setting means the same
 * in `npm start` and in `npm run start:orchestrator`.
 */
export const createOrchestratorRuntime = async <Tx>(
  deps: OrchestratorRuntimeDeps<Tx>,
): Promise<OrchestratorRuntime> => {
  const { config, logger } = deps;
  const clock = deps.clock ?? (() => new Date());
  const registry = deps.registry ?? new Registry();
  const partitions = config.KAFKA_PARTITIONS;
  // What this process appends, kept for its relay's next read (not read back from the log).
  const feed = createAppendedFeed(deps.store);
  const engine = createSessionEngine({
    store: deps.store,
    index: deps.index,
    partitions,
    cacheMaxBytes: config.SESSION_CACHE_MAX_BYTES,
    soleWriter: deps.soleWriter === true,
  });
  const relay = createOutboxRelay({
    store: { ...deps.store, readPage: feed.readPage },
    bus: deps.bus,
    logger,
    // Woken by the store's commits (below); the poll is only the fallback. The checkpoint is
    // saved at most once a second, not after each batch (a statement and a commit each, about one
    // a step at one session): a crash or a change of leader publishes that second again, and
    // consumers dedupe by stream and version.
    idlePollMs: 250,
    checkpointEveryMs: 1_000,
    ...deps.relay,
  });
  registerRelayMetrics(registry, relay);
  let unwatch: (() => void) | undefined;

  const httpTool = {
    allowedHosts: config.HTTP_TOOL_ALLOWED_HOSTS.split(',')
      .map((h) => h.trim())
      .filter(Boolean),
    allowPrivateAddresses: config.HTTP_TOOL_ALLOW_PRIVATE_ADDRESSES,
  };
  const tools = builtinTools({
    allowedHosts: httpTool.allowedHosts,
    transport: createNodeHttpTransport({ allowPrivateAddresses: httpTool.allowPrivateAddresses }),
  }).with(...(await loadToolsModule(config.TOOLS_MODULE)));
  const modelEndpoints = config.MODEL_ENDPOINTS;
  const mcp = createMcpToolbox({
    servers: config.MCP_SERVERS,
    readSecret: secretReader(deps.env, (path) => readFileSync(path, 'utf8')),
  });
  const effects = {
    mcp: mcp.call,
    models: createModelClientResolver({
      endpoints: modelEndpoints,
      env: deps.env,
      readKeyFile: (path: string) => readFileSync(path, 'utf8'),
    }),
    tools,
    clock,
    modelCallTimeoutMs: config.MODEL_CALL_TIMEOUT_MS,
    ...(deps.deltas === undefined ? {} : { deltas: createDeltaSink(deps.deltas, logger) }),
  };
  // A sole writer's leases wait for no other replica: kept for the TTL's third between turns.
  const settings = {
    ...settingsOf(config),
    ...(deps.soleWriter === true ? { leaseLingerMs: config.LEASE_TTL_MS } : {}),
  };
  const orchestrator = createOrchestrator({
    bus: deps.bus,
    engine,
    index: deps.index,
    effects,
    metrics: createOrchestratorMetrics(registry),
    logger,
    ...(deps.logContext === undefined ? {} : { logContext: deps.logContext }),
    clock,
    settings,
  });

  return {
    start: async () => {
      await orchestrator.start();
      // Every commit wakes the relay at once: this process' own appends in-process, other
      // processes' when the store's notification arrives.
      unwatch ??= feedRelayOnCommit(deps.store, feed, relay);
      relay.start();
    },
    stop: async () => {
      await orchestrator.stop();
      await relay.stop();
      unwatch?.();
      unwatch = undefined;
      await mcp.close();
    },
    health: [
      { name: 'consumer', check: () => orchestrator.ready() },
      { name: 'relay', check: () => relay.status().running },
    ],
    metrics: registry,
    engine,
    orchestrator,
    relay,
    mcp,
    effective: {
      partitions,
      sessionCacheMaxBytes: engine.cache().maxBytes,
      soleWriter: deps.soleWriter === true,
      orchestrator: settings,
      modelEndpoints,
      modelCallTimeoutMs: effects.modelCallTimeoutMs,
      tools: tools.names(),
      mcpServers: [...config.MCP_SERVERS.keys()],
      httpTool,
    },
  };
};
