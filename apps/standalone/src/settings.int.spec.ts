import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { quietLogger } from '@agentledger/events/bus';
import { createLogContext } from '@agentledger/events/observability';
import {
  composeDistributed,
  orchestratorConfigSchema,
  parseOrchestratorConfig,
} from '@agentledger/orchestrator';
import {
  orchestratorRuntimeConfigSchema,
  type EffectiveSettings,
  type OrchestratorRuntimeConfig,
} from '@agentledger/orchestrator/runtime';
import { createTestDatabase, type TestDatabase } from '@agentledger/testing';
import { composeStandalone } from './compose.ts';
import { parseStandaloneConfig, standaloneConfigSchema } from './standalone.config.ts';

type RuntimeKey = keyof typeof orchestratorRuntimeConfigSchema.shape;
type Probe = Readonly<{ value: string; seen: (e: EffectiveSettings) => unknown; expected: unknown }>;

const stampTools = fileURLToPath(new URL('../../../test/support/stamp-tools.ts', import.meta.url));

/**
 * Every runtime key with a value that is not its default, and where the runtime shows what it
 * was built with. A key added to the schema without a probe fails the first test; a key parsed
 * but not handed on (by a composition or by the runtime) shows its default and fails its probe.
 */
const probes: Readonly<Record<RuntimeKey, Probe>> = {
  KAFKA_PARTITIONS: { value: '5', seen: (e) => e.partitions, expected: 5 },
  ORCHESTRATOR_GROUP: { value: 'walk-group', seen: (e) => e.orchestrator.groupId, expected: 'walk-group' },
  REPLICA_ID: { value: 'walk-replica', seen: (e) => e.orchestrator.replicaId, expected: 'walk-replica' },
  MAX_CONCURRENT_SESSIONS: { value: '3', seen: (e) => e.orchestrator.maxConcurrentSessions, expected: 3 },
  MAX_MODEL_CALLS: { value: '5', seen: (e) => e.orchestrator.maxModelCalls, expected: 5 },
  MAX_TOOL_CALLS: { value: '7', seen: (e) => e.orchestrator.maxToolCalls, expected: 7 },
  AGENTLEDGER_MODEL_ENDPOINTS: {
    value: JSON.stringify({ walk: { baseUrl: 'http://127.0.0.1:9/v1', requestsPerMinute: 11 } }),
    seen: (e) => e.modelEndpoints.get('walk'),
    expected: expect.objectContaining({ baseUrl: 'http://127.0.0.1:9/v1', requestsPerMinute: 11 }),
  },
  AGENTLEDGER_MCP_SERVERS: {
    // Connections open on first use: a server that is never called need not be running.
    value: JSON.stringify({ walk: { url: 'http://127.0.0.1:9/mcp' } }),
    seen: (e) => e.mcpServers,
    expected: ['walk'],
  },
  OPENAI_BASE_URL: {
    value: 'http://127.0.0.1:8/v1',
    seen: (e) => e.modelEndpoints.get('default')?.baseUrl,
    expected: 'http://127.0.0.1:8/v1',
  },
  MODEL_REQUESTS_PER_MINUTE: {
    value: '61',
    seen: (e) => e.orchestrator.modelRequestsPerMinute,
    expected: 61,
  },
  MODEL_TOKENS_PER_MINUTE: {
    value: '6100',
    seen: (e) => e.orchestrator.modelTokensPerMinute,
    expected: 6100,
  },
  TENANT_DAILY_TOKEN_BUDGET: {
    value: '777',
    seen: (e) => e.orchestrator.tenantDailyTokenBudget,
    expected: 777,
  },
  SESSION_CACHE_MAX_BYTES: {
    value: '1048576',
    seen: (e) => e.sessionCacheMaxBytes,
    expected: 1_048_576,
  },
  MAX_MODEL_PARKS: { value: '2', seen: (e) => e.orchestrator.maxModelParks, expected: 2 },
  LEASE_TTL_MS: { value: '4321', seen: (e) => e.orchestrator.leaseTtlMs, expected: 4321 },
  RECOVERY_INTERVAL_MS: { value: '1234', seen: (e) => e.orchestrator.recoveryIntervalMs, expected: 1234 },
  STALL_AFTER_MS: { value: '98765', seen: (e) => e.orchestrator.stallAfterMs, expected: 98_765 },
  SHUTDOWN_DEADLINE_MS: { value: '3456', seen: (e) => e.orchestrator.shutdownDeadlineMs, expected: 3456 },
  MODEL_CALL_TIMEOUT_MS: { value: '4567', seen: (e) => e.modelCallTimeoutMs, expected: 4567 },
  HTTP_TOOL_ALLOWED_HOSTS: {
    value: 'a.example:8443, b.example',
    seen: (e) => e.httpTool.allowedHosts,
    expected: ['a.example:8443', 'b.example'],
  },
  HTTP_TOOL_ALLOW_PRIVATE_ADDRESSES: {
    value: 'true',
    seen: (e) => e.httpTool.allowPrivateAddresses,
    expected: true,
  },
  TOOLS_MODULE: {
    value: stampTools,
    seen: (e) => e.tools,
    expected: ['calculator', 'http_request', 'stamp'],
  },
};

/** The distributed app's own keys: where its Postgres, Kafka and HTTP server are, its logging and tracing (each app sets up its own). */
const DISTRIBUTED_ONLY = [
  'HOST',
  'ORCHESTRATOR_PORT',
  'DATABASE_URL',
  'DATABASE_POOL_SIZE',
  'KAFKA_BROKERS',
  'KAFKA_TOPIC',
  'KAFKA_DELTAS_TOPIC',
  'KAFKA_CLIENT',
  'KAFKA_SESSION_TIMEOUT_MS',
  'LOG_LEVEL',
  'LOG_FORMAT',
  'LOG_CONTENT',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_SERVICE_NAME',
  'OTEL_BSP_SCHEDULE_DELAY',
];

const runtimeEnv = Object.fromEntries(Object.entries(probes).map(([key, probe]) => [key, probe.value]));
const keys = Object.keys(probes) as RuntimeKey[];
const runtimePart = (config: OrchestratorRuntimeConfig) =>
  Object.fromEntries(keys.filter((k) => k !== 'REPLICA_ID').map((k) => [k, config[k]]));

describe('every orchestrator setting reaches the runtime, in both modes', () => {
  let database: TestDatabase;
  let dataDir: string;
  let topic: string;
  const effective: Partial<Record<'distributed' | 'embedded', EffectiveSettings>> = {};
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'runtime_settings');
    topic = `settings-${inject('runId')}-${Math.random().toString(36).slice(2, 8)}`;
    const distributed = await composeDistributed(
      parseOrchestratorConfig({
        ...runtimeEnv,
        DATABASE_URL: database.url,
        KAFKA_BROKERS: inject('kafkaBrokers'),
        KAFKA_TOPIC: topic,
        LOG_LEVEL: 'error',
      }),
      {},
    );
    closers.push(distributed.close);
    effective.distributed = distributed.runtime.effective;

    dataDir = await mkdtemp(join(tmpdir(), 'agentledger-settings-'));
    const env = { ...runtimeEnv, DATA_DIR: dataDir, EXAMPLES_DIR: join(dataDir, 'none') };
    const embedded = await composeStandalone(parseStandaloneConfig(env), env, {
      port: quietLogger,
      context: createLogContext(),
    });
    closers.push(embedded.close);
    effective.embedded = embedded.runtime.effective;
  }, 120_000);

  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('has a probe for every runtime key, and every orchestrator key is a runtime key or a distributed one', () => {
    expect(Object.keys(orchestratorRuntimeConfigSchema.shape).sort()).toEqual([...keys].sort());
    expect(Object.keys(orchestratorConfigSchema.shape).sort()).toEqual([...keys, ...DISTRIBUTED_ONLY].sort());
    expect(Object.keys(standaloneConfigSchema.shape)).toEqual(expect.arrayContaining(keys));
    // Each probe's value differs from the default, so a dropped key shows something else.
    const defaults = parseOrchestratorConfig({});
    const probed = parseOrchestratorConfig(runtimeEnv);
    const unchanged = keys.filter((key) => JSON.stringify(probed[key]) === JSON.stringify(defaults[key]));
    expect(unchanged).toEqual([]);
  });

  it('parses every runtime key alike in both modes (same defaults, same values)', () => {
    expect(runtimePart(parseStandaloneConfig({}))).toEqual(runtimePart(parseOrchestratorConfig({})));
    expect(runtimePart(parseStandaloneConfig(runtimeEnv))).toEqual(
      runtimePart(parseOrchestratorConfig(runtimeEnv)),
    );
  });

  it.each(keys.flatMap((key) => [[key, 'distributed'] as const, [key, 'embedded'] as const]))(
    '%s reaches the %s runtime',
    (key, mode) => {
      const probe = probes[key];
      expect(probe.seen(effective[mode]!)).toEqual(probe.expected);
    },
  );

  it('trusts the engine cache as the only writer, and keeps leases between turns, in the embedded mode alone (its data directory is locked to it)', () => {
    expect(effective.embedded?.soleWriter).toBe(true);
    expect(effective.distributed?.soleWriter).toBe(false);
    // No other replica waits for an embedded session: its lease is kept between turns (the keeper
    // caps the linger at a third of the TTL); a distributed replica keeps the default 1 s.
    expect(effective.embedded?.orchestrator.leaseLingerMs).toBe(4321);
    expect(effective.distributed?.orchestrator.leaseLingerMs).toBeUndefined();
  });

  it('creates the Kafka topic with KAFKA_PARTITIONS partitions (distributed)', async () => {
    const admin = new Kafka({
      clientId: 'settings-walk',
      brokers: inject('kafkaBrokers').split(','),
    }).admin();
    await admin.connect();
    try {
      const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      expect(metadata?.partitions).toHaveLength(5);
    } finally {
      await admin.disconnect();
    }
  });
});
