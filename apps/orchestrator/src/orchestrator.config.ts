import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { readModelEndpoints, type ModelEndpoints } from '@agentledger/agents';

const positiveInt = z.coerce.number().int().positive();

/** The orchestrator's whole configuration, parsed once from the environment by the composition root. */
export const orchestratorConfigSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Health and metrics. */
  ORCHESTRATOR_PORT: z.coerce.number().int().min(0).max(65_535).default(3001),
  DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/agentledger'),
  /** Connections of this replica's pool (the relay's lock holds one more). */
  DATABASE_POOL_SIZE: positiveInt.default(10),
  KAFKA_BROKERS: z.string().min(1).default('127.0.0.1:9092'),
  KAFKA_TOPIC: z.string().min(1).default('agentledger.session-events'),
  KAFKA_PARTITIONS: positiveInt.default(12),
  ORCHESTRATOR_GROUP: z.string().min(1).default('agentledger-orchestrator'),
  /** A consumer silent this long leaves the group; sessions of a dead replica are taken over by lease expiry first. */
  KAFKA_SESSION_TIMEOUT_MS: positiveInt.default(10_000),
  /** Unique per process; the default adds the pid and a random suffix to the host name. */
  REPLICA_ID: z.string().min(1).optional(),
  MAX_CONCURRENT_SESSIONS: positiveInt.default(64),
  MAX_MODEL_CALLS: positiveInt.default(16),
  MAX_TOOL_CALLS: positiveInt.default(32),
  /** Operator model endpoints (a JSON object or a file path), beside `default` from OPENAI_*. */
  AGENTLEDGER_MODEL_ENDPOINTS: z.string().optional(),
  OPENAI_BASE_URL: z.string().optional(),
  /** Per model endpoint of this replica, unless the endpoint sets its own. */
  MODEL_REQUESTS_PER_MINUTE: positiveInt.optional(),
  MODEL_TOKENS_PER_MINUTE: positiveInt.optional(),
  /** Model tokens each tenant may use per UTC day; past it model calls fail closed. */
  TENANT_DAILY_TOKEN_BUDGET: positiveInt.optional(),
  /** A model call failing with a retryable error parks its session up to this many times (backoff 0.5 s doubling). */
  MAX_MODEL_PARKS: z.coerce.number().int().min(0).default(5),
  LEASE_TTL_MS: positiveInt.default(15_000),
  RECOVERY_INTERVAL_MS: positiveInt.default(5_000),
  STALL_AFTER_MS: positiveInt.default(300_000),
  SHUTDOWN_DEADLINE_MS: positiveInt.default(20_000),
  MODEL_CALL_TIMEOUT_MS: positiveInt.default(120_000),
  /** `host` or `host:port` entries the built-in `http_request` tool may call (host and port must match), comma-separated. */
  HTTP_TOOL_ALLOWED_HOSTS: z.string().default(''),
  /** Let `http_request` reach private, loopback, link-local and metadata addresses (off by default). */
  HTTP_TOOL_ALLOW_PRIVATE_ADDRESSES: z.stringbool().default(false),
  /** A module whose `tools` export (an array of `defineTool` results) is registered beside the built-ins. */
  TOOLS_MODULE: z.string().optional(),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
});

export type OrchestratorConfig = z.output<typeof orchestratorConfigSchema> & {
  REPLICA_ID: string;
  MODEL_ENDPOINTS: ModelEndpoints;
};

/** Parses the environment, or throws naming every bad variable (values are never echoed). */
export const parseOrchestratorConfig = (
  env: Readonly<Record<string, string | undefined>>,
): OrchestratorConfig => {
  const result = orchestratorConfigSchema.safeParse(env);
  const endpoints = readModelEndpoints(env, (path) => readFileSync(path, 'utf8'));
  if (!result.success || 'problem' in endpoints) {
    const problems = [
      ...(result.success
        ? []
        : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)),
      ...('problem' in endpoints ? [endpoints.problem] : []),
    ];
    throw new Error(`Invalid orchestrator configuration:\n  ${problems.join('\n  ')}`);
  }
  const replicaId =
    result.data.REPLICA_ID ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  return { ...result.data, REPLICA_ID: replicaId, MODEL_ENDPOINTS: endpoints.endpoints };
};

/**
 * The consumer's group timing: `KAFKA_SESSION_TIMEOUT_MS`, and heartbeats a third of it apart (at
 * most 1 s, Kafka's advice), so a dead replica leaves its group only after this long and its
 * sessions are taken over by lease expiry (`LEASE_TTL_MS`) when that is shorter.
 */
export const kafkaConsumerTimingOf = (
  config: Pick<OrchestratorConfig, 'KAFKA_SESSION_TIMEOUT_MS'>,
): Readonly<{ sessionTimeoutMs: number; heartbeatIntervalMs: number }> => ({
  sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
  heartbeatIntervalMs: Math.max(1, Math.min(1_000, Math.floor(config.KAFKA_SESSION_TIMEOUT_MS / 3))),
});
